package io.flotilla.node.proxy;

import io.flotilla.cluster.rate.RateDecision;
import io.flotilla.node.cache.CacheFlow;
import io.flotilla.node.http.ForwardingHeaders;
import io.flotilla.node.ratelimit.RouteRateLimit;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The one pass every final response head goes through on its way to the client, however the response
 * was made: relayed from the origin, served from the cache, a static file, an error or a redirect the
 * proxy made itself. Each field the proxy adds to responses is added here, in this order:
 *
 * <ol>
 *   <li>{@code Server} (the header policy) and {@code Via} (RFC 9110 §7.6.3): on forwarded responses
 *       only (origin and cache; the serving node appends its own, whichever node stored the entry)</li>
 *   <li>{@code Cache-Status} (RFC 9211): on a caching route, as the request's {@link CacheFlow} decided</li>
 *   <li>the sticky cookie: on an origin's response when the server was picked without the client's cookie</li>
 *   <li>{@code RateLimit-*} (draft-ietf-httpapi-ratelimit-headers): on every response of a limited route</li>
 *   <li>connection persistence (RFC 9112 §9.3): {@code Connection: close}, or {@code keep-alive} for
 *       an HTTP/1.0 client, from the exchange's one decision ({@link Persistence}); HTTP/1.1 framing, the only place it is</li>
 * </ol>
 *
 * <p>Hop-by-hop fields of the origin's are removed before the cache sees the response, so what is
 * stored carries none of this node's fields. {@code Strict-Transport-Security} is the one field added
 * later, by the listener's codec ({@code ServerCodec.stampResponses}), since it belongs to the TLS
 * listener and also goes on the 408 a connection gets before any request. Interim (1xx) responses
 * take only the forwarding fields ({@link #interim}).
 */
final class ResponseFinisher {
    /** Where a response came from: decides which forwarding fields it gets. */
    enum Source {
        /** Relayed from the origin: Server policy, Via with the version it came in, the sticky cookie. */
        ORIGIN,
        /** Served from the cache (a hit, a refreshed or a stale entry): Server policy and Via. */
        STORED,
        /** Made by this node (an error, a redirect, a static file): nothing was forwarded, so no Via. */
        LOCAL
    }

    /** What the pass needs to know about the response's request; implemented by {@link RequestContext}. */
    interface Context {
        HttpVersion clientVersion();

        /** The exchange's decision: whether the connection stays open after this response. */
        boolean keepAlive();

        ForwardingHeaders forwarding();

        /** The route's limit, or null when the route has none. */
        RouteRateLimit rateLimit();

        /** The limit's verdict on this request, or null (no limit, or the request not subject to it). */
        RateDecision rateDecision();

        /** The cache's part in this request, or null off caching routes. */
        CacheFlow cacheFlow();

        /** The {@code Set-Cookie} value that pins the client to the server that answered, or null. */
        String stickyCookie();
    }

    private ResponseFinisher() {}

    /**
     * Adds the proxy's fields to {@code response} (a final one) from {@code context}.
     *
     * @param received the version the response came in (the origin's); ignored for other sources
     */
    static void finish(HttpResponse response, Source source, HttpVersion received, Context context) {
        HttpHeaders headers = response.headers();
        if (source != Source.LOCAL) {
            context.forwarding().addResponseFields(headers, source == Source.ORIGIN ? received : HttpVersion.HTTP_1_1);
        }
        CacheFlow flow = context.cacheFlow();
        if (flow != null) {
            flow.describe(headers);
        }
        if (source == Source.ORIGIN) {
            String sticky = context.stickyCookie();
            if (sticky != null) {
                headers.add(HttpHeaderNames.SET_COOKIE, sticky);
            }
        }
        RateDecision decision = context.rateDecision();
        if (decision != null) {
            context.rateLimit().describe(headers, decision);
        }
        if (!context.keepAlive()) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (context.clientVersion().minorVersion() == 0) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /**
     * The client's copy of an origin's interim (1xx) response, or of its 101 to a WebSocket
     * handshake: the forwarding fields only, no body, the headers taken as they are.
     */
    static FullHttpResponse interim(HttpResponse response, ForwardingHeaders forwarding) {
        HttpHeaders headers = response.headers();
        forwarding.prepareResponse(headers, response.protocolVersion());
        return new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, response.status(), Unpooled.EMPTY_BUFFER, headers, EmptyHttpHeaders.INSTANCE);
    }
}
