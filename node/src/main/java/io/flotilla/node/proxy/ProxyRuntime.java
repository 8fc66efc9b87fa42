package io.flotilla.node.proxy;

import io.flotilla.cluster.rate.RateCounters;
import io.flotilla.node.cache.ResponseCache;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.config.LimitConfig;
import io.flotilla.node.config.TimeoutConfig;
import io.flotilla.node.config.WebSocketConfig;
import io.flotilla.node.http.ForwardingHeaders;
import io.flotilla.node.route.Route;
import io.flotilla.node.route.RouteTable;
import io.flotilla.node.upstream.Upstream;
import io.flotilla.node.upstream.UpstreamServer;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a request needs from the configuration, compiled once and immutable; a reload builds a
 * new one and swaps it in, and requests already running keep the one they started with.
 */
public final class ProxyRuntime {
    private final RouteTable routes;
    private final Map<String, Upstream> upstreams;
    private final ForwardingHeaders headers;
    private final TimeoutConfig timeouts;
    private final LimitConfig limits;
    private final HostPolicy hostPolicy;
    private final WebSocketConfig websocket;
    /** Each route's request path, by {@link Route#index()}. */
    private final RouteChain[] chains;

    private ProxyRuntime(
            RouteTable routes,
            Map<String, Upstream> upstreams,
            ForwardingHeaders headers,
            TimeoutConfig timeouts,
            LimitConfig limits,
            String hostPolicy,
            WebSocketConfig websocket) {
        this.routes = routes;
        this.websocket = websocket;
        this.chains = new RouteChain[routes.routes().size()];
        for (Route route : routes.routes()) {
            chains[route.index()] = RouteChain.compile(route);
        }
        this.upstreams = upstreams;
        this.headers = headers;
        this.timeouts = timeouts;
        this.limits = limits;
        this.hostPolicy = HostPolicy.parse(hostPolicy);
    }

    public static ProxyRuntime compile(FlotillaConfig config) {
        return compile(config, null, null);
    }

    /** As {@link #compile(FlotillaConfig)}, with the node's cache for the routes that enable it. */
    public static ProxyRuntime compile(FlotillaConfig config, ResponseCache cache, RateCounters rates) {
        Map<String, Upstream> upstreams = new LinkedHashMap<>();
        config.upstreams().forEach((name, upstream) -> upstreams.put(name, Upstream.of(upstream)));
        var policy = config.headers();
        ForwardingHeaders headers = new ForwardingHeaders(
                config.node().name(),
                policy.xForwarded(),
                policy.forwarded(),
                policy.via(),
                policy.server(),
                policy.requestId());
        return new ProxyRuntime(
                RouteTable.compile(config.routes(), upstreams, cache, rates, config.compression()),
                Map.copyOf(upstreams),
                headers,
                config.timeouts(),
                config.limits(),
                policy.host(),
                config.websocket());
    }

    public RouteTable routes() {
        return routes;
    }

    /** The route's compiled chain of stages. */
    RouteChain chain(Route route) {
        return chains[route.index()];
    }

    public Map<String, Upstream> upstreams() {
        return upstreams;
    }

    public ForwardingHeaders headers() {
        return headers;
    }

    public TimeoutConfig timeouts() {
        return timeouts;
    }

    public LimitConfig limits() {
        return limits;
    }

    /** WebSocket tunnels: their cap and idle timeout. */
    public WebSocketConfig websocket() {
        return websocket;
    }

    /**
     * Turns a client's request headers into what goes upstream to {@code server}: hop-by-hop fields
     * out, forwarding fields in, and the Host the policy says.
     */
    public void prepareUpstreamHeaders(
            HttpHeaders headers, InetSocketAddress client, String scheme, HttpVersion version, UpstreamServer server) {
        String clientHost = headers.get(HttpHeaderNames.HOST);
        this.headers.prepareRequest(headers, client, clientHost, scheme, version);
        hostPolicy.apply(headers, clientHost, server);
    }

    /** The Host policy, compiled from {@code headers.host}. */
    HostPolicy hostPolicy() {
        return hostPolicy;
    }
}
