package io.flotilla.node.config;

/**
 * One listening socket.
 *
 * @param bind           address and port; port 0 picks a free one (tests)
 * @param maxConnections beyond this many open connections the listener stops accepting (the kernel
 *                       backlog holds the rest), as HAProxy's {@code maxconn} does
 */
public record ListenerConfig(HostPort bind, int maxConnections) {
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
}
