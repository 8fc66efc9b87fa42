package io.flotilla.node.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * One route: which requests (host and path prefix) go where (an upstream or a static directory).
 *
 * @param host       exact host, {@code *.example.com} wildcard, or absent for any host
 * @param path       path prefix, starts with {@code /}
 * @param upstream   the upstream's name; exactly one of upstream and staticRoot is present
 * @param staticRoot directory served as static files
 * @param rewrite    replaces the matched prefix before forwarding ({@code strip_prefix: true} is
 *                   {@code rewrite: /})
 * @param cache      how the route caches; absent when it does not
 * @param rateLimit  the route's fleet-wide rate limit; absent when it has none
 * @param websocket  whether {@code Upgrade: websocket} is tunnelled to the upstream ({@link WebSocketConfig})
 * @param compression the route's own compression switch; absent follows the {@code compression} section
 */
public record RouteConfig(
        Optional<String> host,
        String path,
        Optional<String> upstream,
        Optional<Path> staticRoot,
        Optional<String> rewrite,
        Optional<RouteCacheConfig> cache,
        Optional<RateLimitConfig> rateLimit,
        boolean websocket,
        Optional<Boolean> compression) {

    /** A route with the default WebSocket switch (on for a route to an upstream) that follows the
     * {@code compression} section's default. */
    public RouteConfig(
            Optional<String> host,
            String path,
            Optional<String> upstream,
            Optional<Path> staticRoot,
            Optional<String> rewrite,
            Optional<RouteCacheConfig> cache,
            Optional<RateLimitConfig> rateLimit) {
        this(
                host,
                path,
                upstream,
                staticRoot,
                rewrite,
                cache,
                rateLimit,
                WebSocketConfig.DEFAULT_ROUTE_SWITCH && upstream.isPresent(),
                Optional.empty());
    }
}
