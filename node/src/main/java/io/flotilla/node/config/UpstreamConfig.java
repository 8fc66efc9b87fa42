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
 * @param protocol what the node speaks to the servers: HTTP/1.1 on pooled connections (the default),
 *                or HTTP/2, each request a stream of one shared connection per server and event loop
 */
public record UpstreamConfig(
        String name,
        String balance,
        String hashOn,
        List<ServerConfig> servers,
        PoolConfig pool,
        HealthConfig health,
        java.util.Optional<String> stickyCookie,
        java.util.Optional<UpstreamTlsConfig> tls,
        Protocol protocol) {
    /** The protocol to the servers, as {@code protocol:} names it. */
    public enum Protocol {
        /** HTTP/1.1, pooled keep-alive connections. */
        HTTP1("http/1.1"),
        /** HTTP/2 over TLS (ALPN {@code h2}); needs {@code tls}. */
        H2("h2"),
        /** HTTP/2 in cleartext with prior knowledge (RFC 9113 §3.3), as gRPC servers speak it. */
        H2C("h2c");

        private final String configName;

        Protocol(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        public boolean multiplexed() {
            return this != HTTP1;
        }
    }

    public UpstreamConfig(
            String name,
            String balance,
            String hashOn,
            List<ServerConfig> servers,
            PoolConfig pool,
            HealthConfig health,
            java.util.Optional<String> stickyCookie,
            java.util.Optional<UpstreamTlsConfig> tls) {
        this(name, balance, hashOn, servers, pool, health, stickyCookie, tls, Protocol.HTTP1);
    }

    public static final String DEFAULT_BALANCE = "round_robin";
    public static final String DEFAULT_HASH_ON = "client_ip";
    /** The policies BalancerFactory implements (a test keeps the two lists equal). */
    public static final List<String> BALANCERS = List.of("round_robin", "least_conn", "random", "ring_hash", "maglev");

    public UpstreamConfig {
        servers = List.copyOf(servers);
    }

    public UpstreamConfig(String name, String balance, List<ServerConfig> servers, PoolConfig pool) {
        this(
                name,
                balance,
                DEFAULT_HASH_ON,
                servers,
                pool,
                HealthConfig.defaults(),
                java.util.Optional.empty(),
                java.util.Optional.empty());
    }

    public UpstreamConfig(
            String name,
            String balance,
            String hashOn,
            List<ServerConfig> servers,
            PoolConfig pool,
            HealthConfig health) {
        this(name, balance, hashOn, servers, pool, health, java.util.Optional.empty(), java.util.Optional.empty());
    }

    public UpstreamConfig(String name, String balance, String hashOn, List<ServerConfig> servers, PoolConfig pool) {
        this(
                name,
                balance,
                hashOn,
                servers,
                pool,
                HealthConfig.defaults(),
                java.util.Optional.empty(),
                java.util.Optional.empty());
    }

    /** One origin server. */
    public record ServerConfig(HostPort address, int weight) {
        public static final int DEFAULT_WEIGHT = 1;
    }
}
