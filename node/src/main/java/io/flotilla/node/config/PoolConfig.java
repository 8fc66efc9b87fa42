package io.flotilla.node.config;

import java.time.Duration;

/**
 * Upstream keep-alive pool settings; pools are per event loop, so the limits apply per I/O thread.
 *
 * @param maxIdle             idle connections kept per server and event loop
 * @param idleTimeout         an idle pooled connection is closed after this long
 * @param maxAge              a connection is not reused once this old (spreads load after scaling)
 * @param maxRequests         requests per connection before it is retired; 0 means no limit
 * @param pingInterval        HTTP/2 upstreams: a connection that has read nothing for this long is
 *                            sent a PING; 0 = never (a vanished server is then noticed only by a
 *                            request's read timeout)
 * @param pingTimeout         HTTP/2 upstreams: a PING unanswered for this long closes the connection
 */
public record PoolConfig(
        int maxIdle,
        Duration idleTimeout,
        Duration maxAge,
        int maxRequests,
        Duration pingInterval,
        Duration pingTimeout) {
    public static final int DEFAULT_MAX_IDLE = 64;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_MAX_AGE = Duration.ofMinutes(10);
    public static final int DEFAULT_MAX_REQUESTS = 10_000;
    /** Envoy's and gRPC's keepalives are off by default; a proxy holding one connection per server wants it on. */
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(30);

    public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(10);

    public PoolConfig(int maxIdle, Duration idleTimeout, Duration maxAge, int maxRequests) {
        this(maxIdle, idleTimeout, maxAge, maxRequests, DEFAULT_PING_INTERVAL, DEFAULT_PING_TIMEOUT);
    }

    public static PoolConfig defaults() {
        return new PoolConfig(DEFAULT_MAX_IDLE, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_AGE, DEFAULT_MAX_REQUESTS);
    }
}
