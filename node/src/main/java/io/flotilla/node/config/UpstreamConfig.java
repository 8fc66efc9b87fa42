package io.flotilla.node.config;

import java.util.List;

/**
 * A named pool of origin servers.
 *
 * @param name    the key under {@code upstreams:}
 * @param balance the balancing policy: {@code round_robin}, {@code least_conn}, {@code random},
 *                {@code ring_hash} or {@code maglev}
 * @param hashOn  what the hashing policies hash: {@code client_ip}, {@code header:NAME} or {@code cookie:NAME}
 * @param servers at least one server
 * @param pool    keep-alive connection pool settings
 * @param health  active and passive health checks, retries, slow start
 * @param stickyCookie when present, clients are kept on the server that first answered them by a
 *                cookie of this name (HAProxy's {@code cookie ... insert indirect})
 * @param tls     TLS to the servers; absent = plain HTTP
 */
public record UpstreamConfig(String name, String balance, String hashOn, List<ServerConfig> servers, PoolConfig pool,
                             HealthConfig health, java.util.Optional<String> stickyCookie,
                             java.util.Optional<UpstreamTlsConfig> tls) {
    public static final String DEFAULT_BALANCE = "round_robin";
    public static final String DEFAULT_HASH_ON = "client_ip";
    /** The policies BalancerFactory implements (a test keeps the two lists equal). */
    public static final List<String> BALANCERS = List.of("round_robin", "least_conn", "random", "ring_hash", "maglev");

    public UpstreamConfig {
        servers = List.copyOf(servers);
    }

    public UpstreamConfig(String name, String balance, List<ServerConfig> servers, PoolConfig pool) {
        this(name, balance, DEFAULT_HASH_ON, servers, pool, HealthConfig.defaults(), java.util.Optional.empty(),
                java.util.Optional.empty());
    }

    public UpstreamConfig(String name, String balance, String hashOn, List<ServerConfig> servers, PoolConfig pool,
                          HealthConfig health) {
        this(name, balance, hashOn, servers, pool, health, java.util.Optional.empty(), java.util.Optional.empty());
    }

    public UpstreamConfig(String name, String balance, String hashOn, List<ServerConfig> servers, PoolConfig pool) {
        this(name, balance, hashOn, servers, pool, HealthConfig.defaults(), java.util.Optional.empty(),
                java.util.Optional.empty());
    }

    /** One origin server. */
    public record ServerConfig(HostPort address, int weight) {
        public static final int DEFAULT_WEIGHT = 1;
    }
}
