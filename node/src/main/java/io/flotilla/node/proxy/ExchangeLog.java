package io.flotilla.node.proxy;

import io.flotilla.node.accesslog.AccessLog;
import io.flotilla.node.accesslog.AccessRecord;
import io.flotilla.node.http.ForwardingHeaders;
import io.flotilla.node.route.Route;
import io.flotilla.node.upstream.UpstreamServer;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;

/**
 * What an exchange leaves behind when it ends: its route's request metrics and its access log line.
 * Called once per exchange, however it ended (static: nothing allocated unless a log line is written).
 */
final class ExchangeLog {
    private ExchangeLog() {}

    /**
     * @param exchange       the request (its connection, route, target, start and any WebSocket upgrade,
     *                       which may take the log line to write when its tunnel closes)
     * @param status         the status sent, 0 when no response started
     * @param upstreamNanos  the upstream's time to first byte, -1 when none answered
     * @param responseBytes  body bytes sent to the client
     */
    static void record(
            RequestContext exchange,
            UpstreamServer server,
            int status,
            long requestBytes,
            long responseBytes,
            long upstreamNanos) {
        ProxyHandler connection = exchange.connection;
        HttpRequest request = exchange.request;
        Route route = exchange.route;
        WebSocketUpgrade upgrade = exchange.upgrade;
        long duration = System.nanoTime() - exchange.startNanos;
        ProxyServices services = connection.services();
        String routeName = route == null
                ? "none"
                : route.upstream() != null ? route.upstream().name() : "static";
        services.metrics().route(routeName).record(status, request.method().name(), duration);
        AccessLog log = services.accessLog();
        if (log != null) {
            HttpHeaders h = request.headers();
            String requestId = exchange.runtime.headers().requestIdHeader() == null
                    ? null
                    : h.get(exchange.runtime.headers().requestIdHeader());
            AccessRecord line = new AccessRecord(
                    System.currentTimeMillis() - duration / 1_000_000,
                    requestId,
                    ForwardingHeaders.clientIp(connection.clientAddress()),
                    request.method().name(),
                    exchange.originalTarget,
                    protocol(connection, request),
                    h.get(HttpHeaderNames.HOST),
                    status,
                    requestBytes,
                    responseBytes,
                    duration,
                    route == null ? "-" : route.toString(),
                    server == null ? "-" : server.address().toString(),
                    upstreamNanos,
                    h.get(HttpHeaderNames.USER_AGENT),
                    h.get(HttpHeaderNames.REFERER));
            if (upgrade == null || !upgrade.logWhenClosed(line)) {
                log.log(line);
            }
        }
    }

    /** The client's protocol as the access log names it: the request line's version, or HTTP/2.0 for a stream. */
    private static String protocol(ProxyHandler connection, io.netty.handler.codec.http.HttpRequest request) {
        String stream = connection.codec().protocol();
        return stream != null ? stream : request.protocolVersion().text();
    }
}
