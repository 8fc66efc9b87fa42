package io.flotilla.node.admin;

import io.flotilla.cluster.security.Outsiders;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.upstream.Upstream;
import io.flotilla.node.upstream.UpstreamServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Routes admin requests. Stateless and shared by all admin connections. Health probes stay open;
 * everything else needs the bearer token when one is configured (compared in constant time).
 */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = Logger.getLogger(AdminHandler.class.getName());
    /** Admin work that may block (config push): one daemon thread, admin requests are rare. */
    private static final java.util.concurrent.ExecutorService BLOCKING =
            java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "flotilla-admin-work");
                t.setDaemon(true);
                return t;
            });

    private final NodeOperations node;
    private final byte[] token;

    AdminHandler(NodeOperations node, Optional<String> token) {
        this.node = node;
        this.token = token.map(t -> ("Bearer " + t).getBytes(StandardCharsets.US_ASCII))
                .orElse(null);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) throws IOException {
        String path = new QueryStringDecoder(request.uri()).path();
        HttpMethod method = request.method();
        FullHttpResponse response;
        if (path.equals("/healthz")) {
            response = node.draining()
                    ? text(HttpResponseStatus.SERVICE_UNAVAILABLE, "draining\n")
                    : text(HttpResponseStatus.OK, "serving\n");
        } else if (path.equals("/readyz")) {
            response = node.draining()
                    ? text(HttpResponseStatus.SERVICE_UNAVAILABLE, "draining\n")
                    : text(HttpResponseStatus.OK, "ready\n");
        } else if (!authorized(request)) {
            response = text(HttpResponseStatus.UNAUTHORIZED, "a bearer token is required\n");
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"flotilla-admin\"");
        } else if (path.equals("/metrics") && method.equals(HttpMethod.GET)) {
            ByteBuf body = ctx.alloc().buffer(16 * 1024);
            try (ByteBufOutputStream out = new ByteBufOutputStream(body)) {
                node.metrics().writePrometheus(out);
            }
            response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, node.metrics().prometheusContentType());
        } else if (path.equals("/upstreams") && method.equals(HttpMethod.GET)) {
            response = json(upstreams());
        } else if (path.equals("/fleet") && method.equals(HttpMethod.GET)) {
            response = json(fleet());
        } else if (path.equals("/config") && method.equals(HttpMethod.GET)) {
            String text = node.configText();
            response = text == null
                    ? text(
                            HttpResponseStatus.NOT_FOUND,
                            "no config text: the node was started from "
                                    + node.config().source() + "\n")
                    : text(HttpResponseStatus.OK, text);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/yaml; charset=utf-8");
        } else if (path.equals("/config/versions") && method.equals(HttpMethod.GET)) {
            response = json(versions());
        } else if (path.equals("/config/rollback") && method.equals(HttpMethod.POST)) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            String who = who(ctx);
            CompletableFuture.supplyAsync(() -> rollback(who), BLOCKING)
                    .thenAccept(done -> ctx.executor().execute(() -> send(ctx, done, keepAlive)));
            return;
        } else if (path.equals("/config") && (method.equals(HttpMethod.POST) || method.equals(HttpMethod.PUT))) {
            // Parsing, reading certificate files and resolving names may block: off the event loop.
            String text = request.content().toString(StandardCharsets.UTF_8);
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            String who = who(ctx);
            String source = "cli".equals(request.headers().get(AdminServer.CLIENT_HEADER))
                    ? "cli push"
                    : NodeOperations.FROM_PUSH;
            boolean dryRun = new QueryStringDecoder(request.uri()).parameters().containsKey("dry_run");
            CompletableFuture.supplyAsync(() -> applyPushed(text, source, who, dryRun), BLOCKING)
                    .thenAccept(pushed -> ctx.executor().execute(() -> send(ctx, pushed, keepAlive)));
            return;
        } else if (path.startsWith("/upstreams/")
                && method.equals(HttpMethod.POST)
                && (path.endsWith("/drain") || path.endsWith("/undrain"))) {
            // /upstreams/{upstream}/{host:port}/drain|undrain
            String[] parts = path.split("/");
            Upstream upstream = parts.length == 5 ? node.runtime().upstreams().get(parts[2]) : null;
            UpstreamServer server = upstream == null ? null : upstream.server(parts[3]);
            if (server == null) {
                response = text(HttpResponseStatus.NOT_FOUND, "no such upstream server; see GET /upstreams\n");
            } else {
                boolean drain = path.endsWith("/drain");
                server.draining(drain);
                response = text(
                        HttpResponseStatus.OK,
                        server
                                + (drain
                                        ? " draining: no new requests, in-flight " + "ones finish\n"
                                        : " back in rotation (slow start applies)\n"));
            }
        } else if (path.equals("/cache") && method.equals(HttpMethod.GET)) {
            response = json(cacheStats());
        } else if (path.equals("/cache/purge") && method.equals(HttpMethod.POST)) {
            var params = new QueryStringDecoder(request.uri()).parameters();
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            // A purge may walk the whole store (or the fleet's): off the event loop.
            CompletableFuture.supplyAsync(() -> purge(params), BLOCKING)
                    .thenAccept(purged -> ctx.executor().execute(() -> send(ctx, purged, keepAlive)));
            return;
        } else if (path.equals("/tls/session-tickets") && method.equals(HttpMethod.GET)) {
            response = json(ticketKeys(node.fleet().tickets().current()));
        } else if (path.equals("/tls/session-tickets/rotate") && method.equals(HttpMethod.POST)) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            // A compare-and-set in the fleet's map: off the event loop.
            CompletableFuture.supplyAsync(this::rotateTicketKeys, BLOCKING)
                    .thenAccept(done -> ctx.executor().execute(() -> send(ctx, done, keepAlive)));
            return;
        } else if (path.equals("/drain") && method.equals(HttpMethod.POST)) {
            node.drain();
            response = text(HttpResponseStatus.ACCEPTED, "draining\n");
        } else if (path.equals("/drain")
                || path.equals("/metrics")
                || path.equals("/upstreams")
                || path.equals("/fleet")
                || path.equals("/config")
                || path.equals("/cache")
                || path.equals("/cache/purge")
                || path.equals("/tls/session-tickets")
                || path.equals("/tls/session-tickets/rotate")) {
            response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed\n");
        } else {
            response = text(
                    HttpResponseStatus.NOT_FOUND,
                    "no such admin endpoint; try /healthz /readyz /metrics "
                            + "/upstreams /fleet /config /cache /tls/session-tickets, POST /config, POST /drain, POST /cache/purge, "
                            + "POST /tls/session-tickets/rotate\n");
        }
        send(ctx, response, HttpUtil.isKeepAlive(request));
    }

    private String cacheStats() {
        var cache = node.cache();
        StringBuilder b = new StringBuilder("{\"entries\":")
                .append(cache.entries())
                .append(",\"bytes\":")
                .append(cache.bytes())
                .append(",\"events\":{");
        boolean first = true;
        for (var e : cache.stats().snapshot().entrySet()) {
            b.append(first ? "" : ",").append(quote(e.getKey())).append(':').append(e.getValue());
            first = false;
        }
        b.append("},\"fleet_operations\":{");
        first = true;
        for (var e : cache.fleetOperations().entrySet()) {
            b.append(first ? "" : ",").append(quote(e.getKey())).append(':').append(e.getValue());
            first = false;
        }
        return b.append("}}\n").toString();
    }

    /** POST /cache/purge?url=U | ?prefix=P | ?tag=T (exactly one). */
    private FullHttpResponse purge(java.util.Map<String, java.util.List<String>> params) {
        if (params.size() != 1 || params.values().iterator().next().size() != 1) {
            return text(
                    HttpResponseStatus.BAD_REQUEST,
                    "give exactly one of url=, prefix= or tag=, e.g. "
                            + "POST /cache/purge?url=http://example.com/a\n");
        }
        var e = params.entrySet().iterator().next();
        String value = e.getValue().get(0);
        int purged;
        switch (e.getKey()) {
            case "url" -> purged = node.cache().purgeUrl(value);
            case "prefix" -> purged = node.cache().purgePrefix(value);
            case "tag" -> purged = node.cache().purgeTag(value);
            default -> {
                return text(
                        HttpResponseStatus.BAD_REQUEST,
                        "unknown purge parameter '" + e.getKey() + "'; give url=, prefix= or tag=\n");
            }
        }
        return json("{\"purged\":" + purged + "}\n");
    }

    /**
     * Rotates the fleet's session-ticket keys now (every node follows), whatever their age; a rotation
     * that another node made at the same moment counts as done.
     */
    private FullHttpResponse rotateTicketKeys() {
        var ring = node.fleet().tickets();
        try {
            var before = ring.current();
            var after = ring.rotate(before.version()).orElseGet(ring::current);
            LOG.info(() -> "session-ticket keys rotated through the admin API: version " + after.version());
            return json(ticketKeys(after));
        } catch (RuntimeException e) {
            return text(
                    HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "the fleet's ticket keys could not be rotated: " + e.getMessage() + "\n");
        }
    }

    /** A generation of ticket keys as the API shows it: the key names (which tickets carry), never the keys. */
    private static String ticketKeys(io.flotilla.cluster.tickets.TicketKeySet set) {
        StringBuilder b = new StringBuilder("{\"version\":")
                .append(set.version())
                .append(",\"rotated_at\":")
                .append(quote(java.time.Instant.ofEpochMilli(set.rotatedAt()).toString()))
                .append(",\"key_names\":[");
        for (int i = 0; i < set.names().size(); i++) {
            b.append(i == 0 ? "" : ",").append(quote(set.names().get(i)));
        }
        return b.append("]}\n").toString();
    }

    /** Who asked for a change through the admin API: this node and the client's address. */
    private String who(ChannelHandlerContext ctx) {
        java.net.SocketAddress remote = ctx.channel().remoteAddress();
        String from = remote instanceof java.net.InetSocketAddress a
                ? a.getAddress().getHostAddress()
                : String.valueOf(remote);
        return node.config().node().name() + " (admin API, from " + from + ")";
    }

    private FullHttpResponse applyPushed(String text, String source, String who, boolean dryRun) {
        try {
            FlotillaConfig next = node.parseText(text, "<pushed config>");
            return text(
                    HttpResponseStatus.OK,
                    (dryRun ? node.dryRun(next, text) : node.push(next, text, source, who)) + "\n");
        } catch (ConfigException e) {
            return text(HttpResponseStatus.BAD_REQUEST, e.getMessage() + "\n");
        } catch (NodeOperations.ReloadRefused e) {
            return text(HttpResponseStatus.CONFLICT, e.getMessage() + "\n");
        } catch (RuntimeException e) {
            return text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "reload failed: " + e.getMessage() + "\n");
        }
    }

    /** The fleet as this node sees it: members and their states, and what the node shares. */
    private String fleet() {
        var fleet = node.fleet();
        var rates = fleet.rates();
        StringBuilder b = new StringBuilder("{\"node\":")
                .append(quote(node.config().node().name()))
                .append(",\"cluster\":")
                .append(node.inFleet())
                .append(",\"gossip\":")
                .append(quote(fleet.membership().gossipAddress()))
                .append(",\"config_version\":")
                .append(node.configVersion())
                .append(",\"config_digest\":")
                .append(quote(node.configDigest()))
                .append(",\"config_file_digest\":")
                .append(quote(node.fileDigest()))
                .append(",\"config_rule\":")
                .append(quote(node.configRule()))
                .append(",\"rate_limits\":{\"degraded\":")
                .append(rates.degraded())
                .append(",\"share\":")
                .append(rates.limitShare())
                .append(",\"expected_members\":")
                .append(fleet.settings().expectedFleetSize())
                .append('}')
                .append(",\"members\":[");
        boolean first = true;
        for (var m : fleet.membership().members()) {
            b.append(first ? "" : ",")
                    .append("{\"name\":")
                    .append(quote(m.id()))
                    .append(",\"address\":")
                    .append(quote(m.address()))
                    .append(",\"state\":")
                    .append(quote(m.state().name().toLowerCase(java.util.Locale.ROOT)))
                    .append(",\"self\":")
                    .append(m.id().equals(fleet.membership().self().id()))
                    .append('}');
            first = false;
        }
        return outsiders(b.append(']'), fleet.outsiders()).append("}\n").toString();
    }

    /** Who tried to take part without proving the fleet secret: an unknown member shows here at once. */
    private static StringBuilder outsiders(StringBuilder b, Outsiders outsiders) {
        b.append(",\"refused\":{");
        boolean first = true;
        for (Outsiders.Kind kind : Outsiders.Kind.values()) {
            b.append(first ? "" : ",")
                    .append(quote(kind.name().toLowerCase(Locale.ROOT)))
                    .append(':')
                    .append(outsiders.count(kind));
            first = false;
        }
        b.append("},\"outsiders\":[");
        first = true;
        for (Outsiders.Refusal r : outsiders.recent()) {
            b.append(first ? "" : ",")
                    .append("{\"kind\":")
                    .append(quote(r.kind().name().toLowerCase(Locale.ROOT)))
                    .append(",\"from\":")
                    .append(quote(r.from()))
                    .append(",\"count\":")
                    .append(r.count())
                    .append(",\"last\":")
                    .append(quote(r.last().toString()))
                    .append(",\"why\":")
                    .append(quote(r.why()))
                    .append('}');
            first = false;
        }
        return b.append(']');
    }

    private FullHttpResponse rollback(String who) {
        try {
            return text(HttpResponseStatus.OK, node.rollback(who) + "\n");
        } catch (NodeOperations.ReloadRefused e) {
            return text(HttpResponseStatus.CONFLICT, e.getMessage() + "\n");
        } catch (RuntimeException e) {
            return text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "rollback failed: " + e.getMessage() + "\n");
        }
    }

    private String versions() {
        StringBuilder b =
                new StringBuilder("{\"running\":").append(node.configVersion()).append(",\"versions\":[");
        boolean first = true;
        for (var v : node.configVersions()) {
            b.append(first ? "" : ",")
                    .append("{\"version\":")
                    .append(v.version())
                    .append(",\"published_at\":")
                    .append(quote(
                            java.time.Instant.ofEpochMilli(v.publishedAt()).toString()))
                    .append(",\"source\":")
                    .append(quote(v.source()))
                    .append(",\"publisher\":")
                    .append(quote(v.publisher()))
                    .append(",\"digest\":")
                    .append(quote(v.digest()))
                    .append(",\"bytes\":")
                    .append(v.document().length())
                    .append('}');
            first = false;
        }
        return b.append("]}\n").toString();
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
        HttpUtil.setContentLength(response, response.content().readableBytes());
        HttpUtil.setKeepAlive(response, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private boolean authorized(FullHttpRequest request) {
        if (token == null) {
            return true;
        }
        String given = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        return given != null && MessageDigest.isEqual(token, given.getBytes(StandardCharsets.US_ASCII));
    }

    private String upstreams() {
        StringBuilder b = new StringBuilder("{\"upstreams\":[");
        boolean first = true;
        for (Upstream upstream : node.runtime().upstreams().values()) {
            b.append(first ? "" : ",")
                    .append("{\"name\":")
                    .append(quote(upstream.name()))
                    .append(",\"balance\":")
                    .append(quote(upstream.balance()))
                    .append(",\"servers\":[");
            first = false;
            boolean firstServer = true;
            for (UpstreamServer server : upstream.servers()) {
                b.append(firstServer ? "" : ",")
                        .append("{\"address\":")
                        .append(quote(server.address().toString()))
                        .append(",\"weight\":")
                        .append(server.weight())
                        .append(",\"state\":\"")
                        .append(
                                server.weight() == 0
                                        ? "drained"
                                        : server.state(
                                                upstream.health().slowStart().toNanos()))
                        .append('"')
                        .append(",\"in_flight\":")
                        .append(server.inFlight())
                        .append(",\"requests\":")
                        .append(server.requests())
                        .append(",\"failures\":")
                        .append(server.failures())
                        .append(",\"ejections\":")
                        .append(server.ejections())
                        .append(",\"open_connections\":")
                        .append(server.openConnections())
                        .append(",\"idle_connections\":")
                        .append(server.idleConnections())
                        .append('}');
                firstServer = false;
            }
            b.append("]}");
        }
        return b.append("]}\n").toString();
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        return response;
    }

    private static FullHttpResponse json(String body) {
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        return response;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.WARNING, "admin request failed", cause);
        ctx.close();
    }
}
