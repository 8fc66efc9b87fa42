package io.flotilla.node.config;

import java.util.List;

/**
 * One listening socket.
 *
 * @param bind           address and port; port 0 picks a free one (tests)
 * @param maxConnections beyond this many open connections the listener stops accepting (the kernel
 *                       backlog holds the rest), as HAProxy's {@code maxconn} does
 * @param proxyProtocol  every connection starts with a PROXY protocol v1 or v2 header (from an L4 front)
 * @param trustedProxies the only peers allowed to send one; others are disconnected
 */
public record ListenerConfig(HostPort bind, int maxConnections, boolean proxyProtocol, List<Cidr> trustedProxies) {
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

    public ListenerConfig {
        trustedProxies = List.copyOf(trustedProxies);
    }

    public ListenerConfig(HostPort bind, int maxConnections) {
        this(bind, maxConnections, false, List.of());
    }
}
