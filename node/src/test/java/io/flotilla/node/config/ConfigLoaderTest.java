package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    private static final String MINIMAL = """
            listeners:
              - bind: 127.0.0.1:0
            upstreams:
              app:
                servers: [127.0.0.1:9001]
            routes:
              - upstream: app
            """;

    @TempDir
    Path dir;

    @Test
    void fullConfigRoundTrip() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Path file = dir.resolve("edge.yaml");
        Files.writeString(file, """
                node: {name: edge-1, admin: 127.0.0.1:9901, event_loops: 4}
                listeners:
                  - bind: 0.0.0.0:8080
                    max_connections: 500
                  - bind: "[::1]:8443"
                upstreams:
                  app:
                    balance: round_robin
                    servers:
                      - {address: 127.0.0.1:9001, weight: 3}
                      - 127.0.0.1:9002
                      - {address: backend.internal:9003, weight: 0}
                    pool: {max_idle: 8, idle_timeout: 30s, max_age: 1m30s, max_requests: 0}
                  api:
                    servers: [10.0.0.5:80]
                routes:
                  - {host: Example.COM, path: /api/, upstream: api, strip_prefix: true}
                  - {host: "*.example.com", path: /static/, static: ./www}
                  - {path: /, upstream: app, rewrite: /v2/}
                timeouts: {client_header: 5s, client_body: 20s, keepalive: 2m, client_write: 45s,
                           upstream_connect: 500ms, upstream_read: 1h, upstream_write: 10s}
                limits: {request_line: 4k, header_line: 2k, headers_total: 64kb, header_count: 50, body: 0}
                headers: {host: upstream, x_forwarded: false, forwarded: true, via: false, server: hide,
                          request_id: X-Trace-Id}
                cluster: {name: prod, bind: 10.0.0.11:5701, peers: [10.0.0.11:5701, 10.0.0.12:5701],
                          keys: [AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=]}
                """);

        FlotillaConfig c = ConfigLoader.load(file);

        assertEquals(file.toAbsolutePath().normalize(), c.source());
        assertEquals(new NodeSettings("edge-1", Optional.of(new HostPort("127.0.0.1", 9901)), 4), c.node());
        assertEquals(
                List.of(
                        new ListenerConfig(new HostPort("0.0.0.0", 8080), 500),
                        new ListenerConfig(new HostPort("::1", 8443), ListenerConfig.DEFAULT_MAX_CONNECTIONS)),
                c.listeners());

        assertEquals(List.of("app", "api"), List.copyOf(c.upstreams().keySet()), "file order is kept");
        UpstreamConfig app = c.upstreams().get("app");
        assertEquals(
                new UpstreamConfig(
                        "app",
                        "round_robin",
                        List.of(
                                new UpstreamConfig.ServerConfig(new HostPort("127.0.0.1", 9001), 3),
                                new UpstreamConfig.ServerConfig(new HostPort("127.0.0.1", 9002), 1),
                                new UpstreamConfig.ServerConfig(new HostPort("backend.internal", 9003), 0)),
                        new PoolConfig(8, Duration.ofSeconds(30), Duration.ofSeconds(90), 0)),
                app);
        assertEquals(
                new UpstreamConfig(
                        "api",
                        UpstreamConfig.DEFAULT_BALANCE,
                        List.of(new UpstreamConfig.ServerConfig(new HostPort("10.0.0.5", 80), 1)),
                        PoolConfig.defaults()),
                c.upstreams().get("api"));

        assertEquals(
                List.of(
                        new RouteConfig(
                                Optional.of("example.com"),
                                "/api/",
                                Optional.of("api"),
                                Optional.empty(),
                                Optional.of("/"),
                                Optional.empty(),
                                Optional.empty()),
                        new RouteConfig(
                                Optional.of("*.example.com"),
                                "/static/",
                                Optional.empty(),
                                Optional.of(dir.resolve("www").toAbsolutePath().normalize()),
                                Optional.empty(),
                                Optional.empty(),
                                Optional.empty()),
                        new RouteConfig(
                                Optional.empty(),
                                "/",
                                Optional.of("app"),
                                Optional.empty(),
                                Optional.of("/v2/"),
                                Optional.empty(),
                                Optional.empty())),
                c.routes());

        assertEquals(
                new TimeoutConfig(
                        Duration.ofSeconds(5),
                        Duration.ofSeconds(20),
                        Duration.ofMinutes(2),
                        Duration.ofSeconds(45),
                        Duration.ofMillis(500),
                        Duration.ofHours(1),
                        Duration.ofSeconds(10)),
                c.timeouts());
        assertEquals(new LimitConfig(4096, 2048, 65536, 50, 0), c.limits());
        assertEquals(new HeaderPolicy("upstream", false, true, false, "hide", Optional.of("X-Trace-Id")), c.headers());
        assertEquals(
                Optional.of(new ClusterConfig(
                        "prod",
                        new HostPort("10.0.0.11", 5701),
                        7800,
                        List.of(new HostPort("10.0.0.11", 5701), new HostPort("10.0.0.12", 5701)),
                        "static",
                        "",
                        1,
                        32L << 20,
                        2,
                        Optional.empty(),
                        List.of("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
                        false)),
                c.cluster());
    }

    @Test
    void absentSectionsTakeTheDefaults() throws Exception {
        FlotillaConfig c = ConfigLoader.parse(MINIMAL, "<test>");

        assertEquals(Path.of("<test>"), c.source());
        assertEquals(expectedHostName(), c.node().name());
        assertEquals(Optional.empty(), c.node().admin());
        assertEquals(NodeSettings.DEFAULT_EVENT_LOOPS, c.node().eventLoops());
        assertEquals(
                ListenerConfig.DEFAULT_MAX_CONNECTIONS, c.listeners().get(0).maxConnections());
        UpstreamConfig app = c.upstreams().get("app");
        assertEquals(UpstreamConfig.DEFAULT_BALANCE, app.balance());
        assertEquals(
                UpstreamConfig.ServerConfig.DEFAULT_WEIGHT, app.servers().get(0).weight());
        assertEquals(PoolConfig.defaults(), app.pool());
        assertEquals(
                new RouteConfig(
                        Optional.empty(),
                        "/",
                        Optional.of("app"),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty()),
                c.routes().get(0));
        assertEquals(TimeoutConfig.defaults(), c.timeouts());
        assertEquals(LimitConfig.defaults(), c.limits());
        assertEquals(HeaderPolicy.defaults(), c.headers());
        assertEquals(Optional.empty(), c.cluster());
    }

    @Test
    void partialSectionsKeepDefaultsForTheRest() throws Exception {
        FlotillaConfig c = ConfigLoader.parse(MINIMAL + """
                node: {admin: ":9901", admin_token: 0123456789abcdef0123}
                timeouts: {upstream_read: 2m}
                limits: {body: 10m}
                headers: {request_id: ""}
                """, "t.yaml");

        assertEquals(Optional.of(new HostPort("0.0.0.0", 9901)), c.node().admin());
        assertEquals(Optional.of("0123456789abcdef0123"), c.node().adminToken());
        assertEquals(NodeSettings.DEFAULT_DRAIN_GRACE, c.node().drainGrace());
        assertEquals(Duration.ofMinutes(2), c.timeouts().upstreamRead());
        assertEquals(TimeoutConfig.DEFAULT_CLIENT_HEADER, c.timeouts().clientHeader());
        assertEquals(10L * 1024 * 1024, c.limits().body());
        assertEquals(LimitConfig.DEFAULT_HEADER_COUNT, c.limits().headerCount());
        assertEquals(Optional.empty(), c.headers().requestId());
        assertTrue(c.headers().xForwarded());
    }

    @Test
    void emptySectionsMeanDefaults() throws Exception {
        FlotillaConfig c = ConfigLoader.parse(MINIMAL + "node:\ntimeouts: ~\nheaders: {}\n", "t.yaml");

        assertEquals(expectedHostName(), c.node().name());
        assertEquals(TimeoutConfig.defaults(), c.timeouts());
        assertEquals(HeaderPolicy.defaults(), c.headers());
    }

    @Test
    void requestIdFalseDisables() throws Exception {
        FlotillaConfig c = ConfigLoader.parse(MINIMAL + "headers: {request_id: false}\n", "t.yaml");
        assertEquals(Optional.empty(), c.headers().requestId());
    }

    @Test
    void hostAndServerTakeLiterals() throws Exception {
        FlotillaConfig c =
                ConfigLoader.parse(MINIMAL + "headers: {host: origin.internal:8080, server: Flotilla 1}\n", "t.yaml");
        assertEquals("origin.internal:8080", c.headers().host());
        assertEquals("Flotilla 1", c.headers().server());
    }

    @Test
    void routesToStaticDirectoriesNeedNoUpstreams() throws Exception {
        Path www = Files.createDirectory(dir.resolve("site"));
        FlotillaConfig c = ConfigLoader.parse("""
                listeners: [{bind: ":8080"}]
                routes:
                  - {path: /, static: %s}
                """.formatted(www.toString()), "t.yaml");

        assertTrue(c.upstreams().isEmpty());
        assertEquals(
                Optional.of(www.toAbsolutePath().normalize()), c.routes().get(0).staticRoot());
    }

    @Test
    void relativeStaticResolvesAgainstTheConfigFilesDirectory() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("etc/flotilla"));
        Files.createDirectory(conf.resolve("public"));
        Path file = conf.resolve("flotilla.yaml");
        Files.writeString(file, "listeners: [{bind: ':0'}]\nroutes: [{static: ./sub/../public}]\n");

        FlotillaConfig c = ConfigLoader.load(file);

        assertEquals(
                Optional.of(conf.resolve("public").toAbsolutePath().normalize()),
                c.routes().get(0).staticRoot());
    }

    @Test
    void sameHostAndPathWithDifferentHostsAreDistinctRoutes() throws Exception {
        FlotillaConfig c = ConfigLoader.parse(MINIMAL + """
                  - {host: a.example, upstream: app}
                  - {host: "*.a.example", upstream: app}
                """, "t.yaml");
        assertEquals(3, c.routes().size());
    }

    @Test
    void listenersOnPortZeroNeverClash() throws Exception {
        FlotillaConfig c = ConfigLoader.parse("""
                listeners: [{bind: "127.0.0.1:0"}, {bind: "127.0.0.1:0"}]
                upstreams: {app: {servers: [127.0.0.1:9001]}}
                routes: [{upstream: app}]
                """, "t.yaml");
        assertEquals(2, c.listeners().size());
    }

    @Test
    void mergeKeysShareSettingsAndExplicitKeysWin() throws Exception {
        FlotillaConfig c = ConfigLoader.parse("""
                listeners: [{bind: ":0"}]
                upstreams:
                  a:
                    servers: [127.0.0.1:1]
                    pool: &pool {max_idle: 4, idle_timeout: 5s}
                  b:
                    servers: [127.0.0.1:2]
                    pool: {<<: *pool, max_idle: 9}
                routes: [{upstream: a}]
                """, "t.yaml");

        assertEquals(
                new PoolConfig(9, Duration.ofSeconds(5), PoolConfig.DEFAULT_MAX_AGE, PoolConfig.DEFAULT_MAX_REQUESTS),
                c.upstreams().get("b").pool());
    }

    @Test
    void resultIsImmutable() throws Exception {
        FlotillaConfig c = ConfigLoader.parse(MINIMAL, "t.yaml");
        assertThrows(UnsupportedOperationException.class, () -> c.routes().clear());
        assertThrows(UnsupportedOperationException.class, () -> c.upstreams().clear());
        assertFalse(c.listeners().isEmpty());
    }

    private static String expectedHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "flotilla";
        }
    }

    @Test
    void adminBeyondLoopbackNeedsAToken() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(MINIMAL + "node: {admin: \"0.0.0.0:9901\"}\n", "t.yaml"));
        assertTrue(e.getMessage().contains("node.admin: the admin API is bound beyond loopback"), e.getMessage());
        ConfigException shortToken = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(
                        MINIMAL + "node: {admin: \"127.0.0.1:9901\", admin_token: short}\n", "t.yaml"));
        assertTrue(shortToken.getMessage().contains("node.admin_token"), shortToken.getMessage());
    }

    @Test
    void proxyProtocolNeedsTrustedProxies() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                listeners: [{bind: "127.0.0.1:0", proxy_protocol: true}]
                upstreams: {app: {servers: [127.0.0.1:1]}}
                routes: [{upstream: app}]
                """, "t.yaml"));
        assertTrue(e.getMessage().startsWith("t.yaml:1:"), e.getMessage());
        assertTrue(e.getMessage().contains("trusted_proxies"), e.getMessage());
        ConfigException bad = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                listeners: [{bind: "127.0.0.1:0", proxy_protocol: true, trusted_proxies: [10.0.0.0/33]}]
                upstreams: {app: {servers: [127.0.0.1:1]}}
                routes: [{upstream: app}]
                """, "t.yaml"));
        assertTrue(bad.getMessage().contains("listeners[0].trusted_proxies[0]"), bad.getMessage());
    }

    @Test
    void accessLogAndProxyProtocolAreRead() throws Exception {
        FlotillaConfig c = ConfigLoader.parse("""
                node: {access_log: {path: "-", format: combined}, drain_grace: 0s, drain_timeout: 3s}
                listeners: [{bind: "127.0.0.1:0", proxy_protocol: true, trusted_proxies: [127.0.0.1, "10.0.0.0/8", "::1"]}]
                upstreams: {app: {servers: [127.0.0.1:1]}}
                routes: [{upstream: app}]
                """, "t.yaml");
        assertEquals(
                Optional.of(new NodeSettings.AccessLogConfig("-", "combined")),
                c.node().accessLog());
        assertEquals(Duration.ZERO, c.node().drainGrace());
        assertEquals(Duration.ofSeconds(3), c.node().drainTimeout());
        ListenerConfig listener = c.listeners().get(0);
        assertTrue(listener.proxyProtocol());
        assertEquals(3, listener.trustedProxies().size());
        assertTrue(listener.trustedProxies().get(1).contains(java.net.InetAddress.getByName("10.1.2.3")));
        assertFalse(listener.trustedProxies().get(1).contains(java.net.InetAddress.getByName("11.1.2.3")));
        assertTrue(listener.trustedProxies().get(0).contains(java.net.InetAddress.getByName("::ffff:127.0.0.1")));
    }
}
