package io.flotilla.node.proxy;

import io.flotilla.node.accesslog.AccessLog;
import io.flotilla.node.accesslog.AccessRecord;
import io.flotilla.node.http.ErrorResponses;
import io.flotilla.node.route.Route;
import io.flotilla.node.tunnel.Tunnel;
import io.flotilla.node.tunnel.Tunnels;
import io.flotilla.node.tunnel.WebSocketHandshake;
import io.flotilla.node.upstream.UpstreamConnection;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A WebSocket handshake's way through the request path (docs/websocket.md). Recognised after routing
 * ({@link #admit}): refused with 400/426 when malformed and with 503 while the node drains or its
 * tunnels are at {@code websocket.max_tunnels}, else it holds a tunnel slot and runs the route's chain
 * like any request (the rate limit applies; the cache never sees it) and is forwarded with its
 * upgrade fields. When the origin answers 101 ({@link #open}), the 101 goes to the client and both
 * connections leave HTTP for a {@link Tunnel}: the codecs go, the upstream connection never returns
 * to the pool. Any other answer is relayed as a response and the slot given back.
 */
final class WebSocketUpgrade {
    private final ProxyHandler connection;
    private final ProxyRuntime runtime;
    private final Tunnels tunnels;
    private Tunnel tunnel;
    private AccessRecord handshakeLine;
    private boolean ended;
    private boolean tunnelClosed;

    private WebSocketUpgrade(ProxyHandler connection, ProxyRuntime runtime) {
        this.connection = connection;
        this.runtime = runtime;
        this.tunnels = connection.services().tunnels();
    }

    /**
     * Decides what a routed request is: an ordinary one (no WebSocket upgrade asked, or the route has
     * {@code websocket: false}, and its Upgrade field is stripped as ever), an upgrade to carry (the
     * exchange gets it), or a refused handshake, answered here. Returns false when it answered.
     */
    static boolean admit(
            Exchange exchange, Route route, HttpRequest request, ProxyHandler connection, ProxyRuntime runtime) {
        if (!route.websocket() || !WebSocketHandshake.requested(request)) {
            return true;
        }
        Tunnels tunnels = connection.services().tunnels();
        WebSocketHandshake.Refusal malformed = WebSocketHandshake.check(request);
        if (malformed != null) {
            tunnels.refused("bad_handshake");
            FullHttpResponse response = ErrorResponses.of(malformed.status(), false);
            if (malformed.status().equals(HttpResponseStatus.UPGRADE_REQUIRED)) {
                response.headers().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, WebSocketHandshake.VERSION);
            }
            exchange.respond(response);
            return false;
        }
        if (connection.services().draining()
                || !tunnels.tryReserve(runtime.websocket().maxTunnels())) {
            tunnels.refused(connection.services().draining() ? "draining" : "over_limit");
            exchange.respondLocally(HttpResponseStatus.SERVICE_UNAVAILABLE);
            return false;
        }
        exchange.upgrade(new WebSocketUpgrade(connection, runtime));
        return true;
    }

    /** The handshake's head on its way upstream, after the hop-by-hop removal. */
    void prepareUpstream(HttpHeaders headers) {
        WebSocketHandshake.restoreUpgradeFields(headers);
    }

    /** Whether {@code response}, a 101, accepts this upgrade. */
    boolean accepts(HttpResponse response) {
        return WebSocketHandshake.accepted(response);
    }

    /**
     * The origin switched protocols on {@code upstream}: relays the 101 and hands both connections to
     * a tunnel. Returns false when the client broke the handshake (it sent more after it, which RFC
     * 6455 §4.1 forbids before the 101, and which is already parsed as HTTP): both are closed.
     */
    boolean open(HttpResponse response, UpstreamConnection upstream) {
        ChannelHandlerContext ctx = connection.ctx();
        if (connection.hasPipelined() || !ctx.channel().isActive()) {
            upstream.channel().close();
            return false;
        }
        HttpHeaders headers = response.headers();
        runtime.headers().prepareResponse(headers, response.protocolVersion());
        WebSocketHandshake.restoreUpgradeFields(headers);
        ctx.write(new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, response.status(), Unpooled.EMPTY_BUFFER, headers, EmptyHttpHeaders.INSTANCE));
        tunnel = new Tunnel(
                tunnels, runtime.websocket().idleTimeout(), Tunnel.Framing.BYTES, Tunnel.Framing.BYTES, this::closed);
        // Ends first, then the HTTP handlers out: a decoder leaving hands the bytes it holds to the end.
        ChannelPipeline client = ctx.pipeline();
        client.addAfter(ctx.name(), "tunnel", tunnel.clientEnd());
        client.remove(ctx.handler());
        // Only an HTTP/1.1 connection upgrades: HTTP/2 forbids Upgrade, and its streams refuse the field.
        io.flotilla.node.http.ServerCodec http1 = (io.flotilla.node.http.ServerCodec) connection.codec();
        client.remove(http1.decoder());
        client.remove(http1.encoder());
        ChannelPipeline origin = upstream.channel().pipeline();
        origin.addBefore(origin.context(upstream).name(), "tunnel", tunnel.upstreamEnd());
        origin.remove(HttpClientCodec.class);
        tunnel.start();
        return true;
    }

    /** The exchange is over (its access log line made): a handshake that got no tunnel gives its slot back. */
    void exchangeEnded() {
        if (ended) {
            return;
        }
        ended = true;
        if (tunnel == null) {
            tunnels.unreserve();
            tunnels.refused("not_upgraded");
        }
    }

    /** Keeps the handshake's access log line for when the tunnel closes; false when there is no tunnel. */
    boolean logWhenClosed(AccessRecord line) {
        if (tunnel == null || tunnelClosed) {
            return false;
        }
        handshakeLine = line;
        return true;
    }

    /** One line per tunnel: the handshake's, with the tunnel's whole duration and bytes each way. */
    private void closed(Tunnel closed, String reason) {
        tunnelClosed = true;
        AccessLog log = connection.services().accessLog();
        AccessRecord h = handshakeLine;
        if (log == null || h == null) {
            return;
        }
        handshakeLine = null;
        log.log(new AccessRecord(
                h.startMillis(),
                h.requestId(),
                h.client(),
                h.method(),
                h.target(),
                h.version(),
                h.host(),
                h.status(),
                closed.bytesToUpstream(),
                closed.bytesToClient(),
                h.durationNanos() + closed.ageNanos(),
                h.route(),
                h.upstream(),
                h.upstreamNanos(),
                h.userAgent(),
                h.referer()));
    }
}
