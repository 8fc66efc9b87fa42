package io.flotilla.node.config;

import java.util.List;

/**
 * A named pool of origin servers.
 *
 * @param name    the key under {@code upstreams:}
 * @param balance the balancing policy; only {@code round_robin} for now
 * @param servers at least one server
 * @param pool    keep-alive connection pool settings
 */
public record UpstreamConfig(String name, String balance, List<ServerConfig> servers, PoolConfig pool) {
    public static final String DEFAULT_BALANCE = "round_robin";

    public UpstreamConfig {
        servers = List.copyOf(servers);
    }

    /** One origin server. */
    public record ServerConfig(HostPort address, int weight) {
        public static final int DEFAULT_WEIGHT = 1;
    }
}
