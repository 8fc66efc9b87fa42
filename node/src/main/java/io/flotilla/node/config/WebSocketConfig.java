package io.flotilla.node.config;

import java.time.Duration;
import java.util.Optional;

/**
 * The node's WebSocket tunnels: the {@code websocket} section, and each route's {@code websocket} switch.
 * A tunnel is an HTTP/1.1 connection upgraded with {@code Upgrade: websocket} (RFC 6455 §4), relayed as
 * bytes to the upstream connection that answered 101.
 *
 * @param maxTunnels  open tunnels this node holds at most; an upgrade over it is refused with 503
 * @param idleTimeout a tunnel that carries no byte either way for this long is closed (HAProxy's
 *                    {@code timeout tunnel})
 */
public record WebSocketConfig(int maxTunnels, Duration idleTimeout) {
    public static final int DEFAULT_MAX_TUNNELS = 10_000;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
    /** Routes tunnel WebSocket unless they say {@code websocket: false}, as HAProxy does. */
    public static final boolean DEFAULT_ROUTE_SWITCH = true;

    public static WebSocketConfig defaults() {
        return new WebSocketConfig(DEFAULT_MAX_TUNNELS, DEFAULT_IDLE_TIMEOUT);
    }

    /** The top-level {@code websocket} section: {@code max_tunnels}, {@code idle_timeout}. */
    static WebSocketConfig parse(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return defaults();
        }
        YamlMap m = section.get().asMap().allowOnly("max_tunnels", "idle_timeout");
        return new WebSocketConfig(
                m.integer("max_tunnels", DEFAULT_MAX_TUNNELS, 0, Integer.MAX_VALUE),
                m.positiveDuration("idle_timeout", DEFAULT_IDLE_TIMEOUT));
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
