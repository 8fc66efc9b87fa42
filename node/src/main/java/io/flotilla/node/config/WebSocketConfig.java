package io.flotilla.node.config;

import java.time.Duration;
import java.util.Optional;

/**
 * The node's WebSocket tunnels: the {@code websocket} section, and each route's {@code websocket} switch.
 * A tunnel is an HTTP/1.1 connection upgraded with {@code Upgrade: websocket} (RFC 6455 §4), or an
 * HTTP/2 stream opened by an extended CONNECT (RFC 8441), relayed as bytes to the upstream connection
 * that answered 101.
 *
 * @param maxTunnels  open tunnels this node holds at most; an upgrade over it is refused with 503
 * @param idleTimeout a tunnel that carries no byte either way for this long is closed (HAProxy's
 *                    {@code timeout tunnel})
 * @param http2       listeners that speak HTTP/2 announce SETTINGS_ENABLE_CONNECT_PROTOCOL and take
 *                    WebSocket as extended CONNECT streams
 */
public record WebSocketConfig(int maxTunnels, Duration idleTimeout, boolean http2) {
    public static final int DEFAULT_MAX_TUNNELS = 10_000;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
    /** Routes tunnel WebSocket unless they say {@code websocket: false}, as HAProxy does. */
    public static final boolean DEFAULT_ROUTE_SWITCH = true;
    /** WebSocket over HTTP/2 wherever a listener speaks HTTP/2, as browsers use it when announced. */
    public static final boolean DEFAULT_HTTP2 = true;

    public static WebSocketConfig defaults() {
        return new WebSocketConfig(DEFAULT_MAX_TUNNELS, DEFAULT_IDLE_TIMEOUT, DEFAULT_HTTP2);
    }

    /** Whether HTTP/2 connections announce extended CONNECT: not when no tunnel may open at all. */
    public boolean overHttp2() {
        return http2 && maxTunnels > 0;
    }

    /** The top-level {@code websocket} section: {@code max_tunnels}, {@code idle_timeout}, {@code http2}. */
    static WebSocketConfig parse(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return defaults();
        }
        YamlMap m = section.get().asMap().allowOnly("max_tunnels", "idle_timeout", "http2");
        return new WebSocketConfig(
                m.integer("max_tunnels", DEFAULT_MAX_TUNNELS, 0, Integer.MAX_VALUE),
                m.positiveDuration("idle_timeout", DEFAULT_IDLE_TIMEOUT),
                m.bool("http2", DEFAULT_HTTP2));
    }

    /** A route's {@code websocket: true|false}; only a route to an upstream can tunnel. */
    static boolean routeSwitch(Optional<YamlNode> node, boolean toUpstream) throws ConfigException {
        if (node.isEmpty()) {
            return DEFAULT_ROUTE_SWITCH && toUpstream;
        }
        boolean on = node.get().asBoolean();
        if (on && !toUpstream) {
            throw node.get()
                    .error("only a route to an upstream tunnels WebSocket; static files have no one to talk to");
        }
        return on;
    }
}
