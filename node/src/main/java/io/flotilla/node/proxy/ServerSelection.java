package io.flotilla.node.proxy;

import io.flotilla.node.metrics.NodeMetrics;
import io.flotilla.node.upstream.LoopServer;
import io.flotilla.node.upstream.Upstream;
import io.flotilla.node.upstream.UpstreamServer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Which server of an upstream one request goes to, and the slots it holds while it runs: a slot of
 * the upstream's circuit (requests in flight), the server the client's sticky cookie names when it
 * is available, otherwise the event loop's balancer's pick (by the request's hash key for the
 * hashing balancers), and after a failure another server, within the upstream's retry count and its
 * retry budget. Lives on the request's event loop; {@link #end} gives back what it holds, once.
 */
final class ServerSelection {
    /** How a first pick went. */
    enum Pick {
        PICKED,
        /** The upstream's circuit is full: a fast 503, which is the point of the limit. */
        OVERFLOW,
        /** No server is available. */
        NONE
    }

    private final Upstream upstream;
    private final Upstream.LoopBalancer balancer;
    private LoopServer picked;
    private boolean holdsRequestSlot;
    private boolean holdsRetrySlot;
    private boolean stickyMatched;
    private int retries;
    private boolean ended;

    ServerSelection(Upstream upstream, EventLoop loop) {
        this.upstream = upstream;
        this.balancer = upstream.forLoop(loop);
    }

    /**
     * Picks the server for a client's request: takes a circuit slot, then the sticky cookie's server
     * (the cookie is taken out of {@code headers}: it is the proxy's, not the application's) or the
     * balancer's pick.
     */
    Pick pick(HttpHeaders headers, InetSocketAddress client) {
        if (!upstream.tryBeginRequest()) {
            return Pick.OVERFLOW;
        }
        holdsRequestSlot = true;
        LoopServer view = upstream.stickyCookie().isPresent() ? stickyServer(headers) : null;
        if (view == null) {
            view = (LoopServer) balancer.balancer().pick(upstream.hashes() ? hashKey(headers, client) : null);
        }
        if (view == null) {
            return Pick.NONE;
        }
        take(view);
        return Pick.PICKED;
    }

    /** Picks a server for a request of the proxy's own (a background refresh): no slot, no cookie, no key. */
    boolean pickAny() {
        LoopServer view = (LoopServer) balancer.balancer().pick(null);
        if (view == null) {
            return false;
        }
        take(view);
        return true;
    }

    /**
     * Moves the request to another available server, within the upstream's retry count and budget.
     * Returns false (and changes nothing) when no retry is left or no other server can take it.
     */
    boolean retryElsewhere(HttpHeaders headers, InetSocketAddress client, NodeMetrics metrics) {
        if (retries >= upstream.health().retries()) {
            return false;
        }
        LoopServer next =
                (LoopServer) balancer.balancer().pickOther(picked, upstream.hashes() ? hashKey(headers, client) : null);
        if (next == null) {
            return false;
        }
        if (!holdsRetrySlot) {
            if (!upstream.tryBeginRetry()) {
                metrics.error("retry_budget_exhausted");
                return false;
            }
            holdsRetrySlot = true;
        }
        retries++;
        metrics.error("retry");
        picked.end();
        take(next);
        return true;
    }

    /**
     * Whether a request that may have reached the application can be tried again elsewhere: one
     * without a body whose method makes repeating it harmless (RFC 9110 §9.2.2).
     */
    static boolean repeatable(HttpMethod method, boolean hasBody) {
        return !hasBody
                && (method.equals(HttpMethod.GET)
                        || method.equals(HttpMethod.HEAD)
                        || method.equals(HttpMethod.OPTIONS)
                        || method.equals(HttpMethod.TRACE)
                        || method.equals(HttpMethod.PUT)
                        || method.equals(HttpMethod.DELETE));
    }

    /** Whether a try that timed out waiting for the response head is retried: the upstream sets try_timeout. */
    boolean retriesAfterTimeout(HttpMethod method, boolean hasBody) {
        return repeatable(method, hasBody) && !upstream.health().tryTimeout().isZero();
    }

    /** The response head arrived: the server's time to first byte, and its status for passive health. */
    void responded(int code, long nanos, NodeMetrics metrics) {
        UpstreamServer server = picked.server();
        metrics.upstreamTtfb(server.upstreamName()).update(nanos, TimeUnit.NANOSECONDS);
        outcome(metrics, "response");
        if (upstream.failureStatus(code)) {
            upstream.failed(server);
        } else {
            upstream.succeeded(server);
        }
    }

    /** The try on the picked server failed ({@code outcome}: connect_error, timeout, closed...): counted, and told to passive health. */
    void tryFailed(NodeMetrics metrics, String outcome) {
        outcome(metrics, outcome);
        upstream.failed(picked.server());
    }

    /** Counts how a try on the picked server went. */
    void outcome(NodeMetrics metrics, String outcome) {
        if (picked != null) {
            UpstreamServer server = picked.server();
            metrics.upstreamOutcome(server.upstreamName(), server.label(), outcome);
        }
    }

    private void take(LoopServer view) {
        picked = view;
        view.begin();
    }

    /** The picked server; null before a pick. */
    UpstreamServer server() {
        return picked == null ? null : picked.server();
    }

    /** The {@code Set-Cookie} value pinning the client to the server that answered, or null when its cookie did. */
    String stickyCookie() {
        if (upstream.stickyCookie().isEmpty() || picked == null || (stickyMatched && retries == 0)) {
            return null;
        }
        return upstream.stickyCookie().get() + "=" + picked.server().stickyId() + "; Path=/; HttpOnly; SameSite=Lax";
    }

    /** Gives back the server's in-flight count and the slots held; once, however the request ended. */
    void end() {
        if (ended) {
            return;
        }
        ended = true;
        if (picked != null) {
            picked.end();
        }
        if (holdsRequestSlot) {
            upstream.endRequest();
        }
        if (holdsRetrySlot) {
            upstream.endRetry();
        }
    }

    /** The server the sticky cookie names, if it is available; the cookie is taken out either way. */
    private LoopServer stickyServer(HttpHeaders headers) {
        String name = upstream.stickyCookie().get();
        String value = null;
        List<String> kept = new ArrayList<>();
        for (String header : headers.getAll(HttpHeaderNames.COOKIE)) {
            for (String pair : header.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().equals(name)) {
                    value = pair.substring(eq + 1).trim();
                } else if (!pair.isBlank()) {
                    kept.add(pair.trim());
                }
            }
        }
        if (value == null) {
            return null;
        }
        headers.remove(HttpHeaderNames.COOKIE);
        if (!kept.isEmpty()) {
            headers.set(HttpHeaderNames.COOKIE, String.join("; ", kept));
        }
        for (LoopServer view : balancer.views()) {
            if (view.server().stickyId().equals(value) && view.available()) {
                stickyMatched = true;
                return view;
            }
        }
        return null; // its server is gone or down: balance as usual, and a new cookie is set
    }

    /** The request's key for the hashing balancers: the client's IP, a header or a cookie value. */
    private String hashKey(HttpHeaders headers, InetSocketAddress client) {
        return upstream.hashKey().of(headers, client);
    }
}
