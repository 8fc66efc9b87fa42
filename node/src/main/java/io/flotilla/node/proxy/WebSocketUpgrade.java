package io.flotilla.node.proxy;

import io.flotilla.node.accesslog.AccessLog;
import io.flotilla.node.accesslog.AccessRecord;
import io.flotilla.node.http.ErrorResponses;
import io.flotilla.node.http.Http2StreamCodec;
import io.flotilla.node.route.Route;
import io.flotilla.node.tunnel.Http2StreamFraming;
import io.flotilla.node.tunnel.Tunnel;
import io.flotilla.node.tunnel.Tunnels;
import io.flotilla.node.tunnel.WebSocketHandshake;
import io.flotilla.node.upstream.UpstreamConnection;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A WebSocket handshake's way through the request path (docs/websocket.md). Recognised after routing
 * ({@link #admit}): refused with 400/426 when malformed and with 503 while the node drains or its
 * tunnels are at {@code websocket.max_tunnels}, else it holds a tunnel slot and runs the route's chain
 * like any request (the rate limit applies; the cache never sees it) and is forwarded with its
 * upgrade fields. When the origin answers 101 ({@link #open}), the 101 goes to the client and both
 * connections leave HTTP for a {@link Tunnel}: the codecs go, the upstream connection never returns
 * to the pool. Any other answer is relayed as a response and the slot given back.
 *
 * <p>On an HTTP/2 stream the handshake is an extended CONNECT (RFC 8441), which the stream's codec
 * hands on as a GET of its path: it gets the upgrade fields and a fresh {@code Sec-WebSocket-Key}
 * here, goes upstream as an HTTP/1.1 handshake, and the origin's 101 (whose accept value must match
 * the key) is answered on the stream with 200; the stream's DATA frames are the tunnel's client side.
 */
final class WebSocketUpgrade {
    private final ProxyHandler connection;
    private final ProxyRuntime runtime;
    private final Tunnels tunnels;
    /** The key sent upstream for an HTTP/2 client, checked against the 101; null for HTTP/1.1 clients. */
    private final String key;

    private Tunnel tunnel;
    private AccessRecord handshakeLine;
    private boolean ended;
    private boolean tunnelClosed;

    private WebSocketUpgrade(ProxyHandler connection, ProxyRuntime runtime, String key) {
        this.connection = connection;
        this.runtime = runtime;
        this.tunnels = connection.services().tunnels();
        this.key = key;
    }

    /**
     * Decides what a routed request is: an ordinary one (no WebSocket upgrade asked, or the route has
     * {@code websocket: false}, and its Upgrade field is stripped as ever), an upgrade to carry (the
     * exchange gets it), or a refused handshake, answered here. Returns false when it answered.
     */
    static boolean admit(
            Exchange exchange, Route route, HttpRequest request, ProxyHandler connection, ProxyRuntime runtime) {
        String protocol = connection.codec() instanceof Http2StreamCodec stream ? stream.connectProtocol() : null;
        String key = null;
        if (protocol != null) {
            if (!route.websocket() || !WebSocketHandshake.WEBSOCKET.equalsIgnoreCase(protocol)) {
                // A tunnel this node cannot open here: the :protocol is not one it speaks, or the route does
                // not tunnel. Forwarding the GET alone would make its answer look like an open tunnel.
                exchange.respondLocally(HttpResponseStatus.NOT_IMPLEMENTED);
                return false;
            }
            key = WebSocketHandshake.newKey(); // RFC 8441 §5: HTTP/2 clients send none; the origin needs one
            request.headers().set(HttpHeaderNames.SEC_WEBSOCKET_KEY, key);
            WebSocketHandshake.restoreUpgradeFields(request.headers());
        } else if (!route.websocket() || !WebSocketHandshake.requested(request)) {
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
        exchange.upgrade(new WebSocketUpgrade(connection, runtime, key));
        return true;
    }

    /** The handshake's head on its way upstream, after the hop-by-hop removal. */
    void prepareUpstream(HttpHeaders headers) {
        WebSocketHandshake.restoreUpgradeFields(headers);
    }

    /** Whether {@code response}, a 101, accepts this upgrade. */
    boolean accepts(HttpResponse response) {
        return WebSocketHandshake.accepted(response)
                && (key == null || WebSocketHandshake.acceptMatches(response, key));
    }

    /**
     * The origin switched protocols on {@code upstream}: relays the 101 and hands both connections to
     * a tunnel. Returns false when the client broke the handshake (it sent more after it, which RFC
     * 6455 §4.1 forbids before the 101, and which is already parsed as HTTP): both are closed.
     */
    boolean open(HttpResponse response, UpstreamConnection upstream) {
        ChannelHandlerContext ctx = connection.ctx();
        if (connection.codec() instanceof Http2StreamCodec stream) {
            return openStream(response, upstream, stream);
        }
        if (connection.hasPipelined() || !ctx.channel().isActive()) {
            upstream.channel().close();
            return false;
        }
        FullHttpResponse switched = ResponseFinisher.interim(response, runtime.headers());
        WebSocketHandshake.restoreUpgradeFields(switched.headers());
        ctx.write(switched);
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
        startWith(upstream);
        return true;
    }

    /**
     * The origin accepted an HTTP/2 client's handshake: the stream gets 200 with the origin's choice of
     * subprotocol and extensions (RFC 8441 §5; its accept value is for the node alone), then becomes
     * the tunnel's client side, whose DATA frames carry the bytes.
     */
    private boolean openStream(HttpResponse response, UpstreamConnection upstream, Http2StreamCodec stream) {
        ChannelHandlerContext ctx = connection.ctx();
        if (!ctx.channel().isActive()) {
            upstream.channel().close();
            return false;
        }
        HttpHeaders headers = response.headers();
        runtime.headers().prepareResponse(headers, response.protocolVersion());
        headers.remove(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
        stream.openTunnel(headers); // connection-specific fields (Connection, Upgrade) go in the conversion
        tunnel = new Tunnel(
                tunnels,
                runtime.websocket().idleTimeout(),
                Http2StreamFraming.INSTANCE,
                Tunnel.Framing.BYTES,
                this::closed);
        ChannelPipeline client = ctx.pipeline();
        client.addAfter(ctx.name(), "tunnel", tunnel.clientEnd());
        client.remove(ctx.handler());
        client.remove(stream); // hands the tunnel what the client sent since its CONNECT
        startWith(upstream);
        return true;
    }

    /** The upstream connection leaves HTTP for the tunnel's other end, and the relay starts. */
    private void startWith(UpstreamConnection upstream) {
        ChannelPipeline origin = upstream.channel().pipeline();
        origin.addBefore(origin.context(upstream).name(), "tunnel", tunnel.upstreamEnd());
        origin.remove(HttpClientCodec.class);
        tunnel.start();
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
                key != null ? HttpResponseStatus.OK.code() : h.status(), // what the client was answered
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
