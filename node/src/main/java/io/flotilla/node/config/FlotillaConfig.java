package io.flotilla.node.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A whole node configuration, validated when it was loaded; immutable.
 *
 * @param source     the file it was read from, or a name such as {@code <demo>} for built-in configs
 * @param node       the node's own settings
 * @param listeners  at least one listener
 * @param upstreams  upstreams by name, in file order
 * @param routes     routes in file order (matching picks the most specific, not the first)
 * @param timeouts   timeouts of every phase
 * @param limits     size and count limits on requests
 * @param headers    forwarding-header policy
 * @param cache      the response cache, used by routes that enable caching
 * @param cluster    the fleet section; absent means one node, no cluster
 * @param websocket  WebSocket tunnels: their cap and idle timeout
 * @param compression how responses are compressed (docs/compression.md)
 */
public record FlotillaConfig(
        Path source,
        NodeSettings node,
        List<ListenerConfig> listeners,
        Map<String, UpstreamConfig> upstreams,
        List<RouteConfig> routes,
        TimeoutConfig timeouts,
        LimitConfig limits,
        HeaderPolicy headers,
        CacheConfig cache,
        Optional<ClusterConfig> cluster,
        WebSocketConfig websocket,
        CompressionConfig compression) {

    public FlotillaConfig {
        listeners = List.copyOf(listeners);
        upstreams = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(upstreams));
        routes = List.copyOf(routes);
    }
}
