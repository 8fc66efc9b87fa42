package io.flotilla.node.config;

import java.time.Duration;

/**
 * A route's rate limit: at most {@code requests} per {@code per} for each value of {@code key},
 * across the whole fleet.
 *
 * @param requests how many requests a key may make per period
 * @param per      the period (fixed windows, aligned to the epoch so every node agrees)
 * @param key      {@code client_ip}, {@code route} (one budget for the whole route) or
 *                 {@code header:NAME} (requests without the header are not limited)
 */
public record RateLimitConfig(long requests, Duration per, String key) {
    public static final String CLIENT_IP = "client_ip";
    public static final String ROUTE = "route";
}
