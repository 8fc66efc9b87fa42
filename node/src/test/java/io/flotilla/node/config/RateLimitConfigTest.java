package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A route's rate_limit: the forms it takes and the errors that name line and field. */
class RateLimitConfigTest {
    private static final String BASE = """
            listeners: [{bind: 127.0.0.1:8080}]
            upstreams: {app: {servers: [127.0.0.1:9001]}}
            routes:
            """;

    private static Optional<RateLimitConfig> limit(String route) throws ConfigException {
        return ConfigLoader.parse(BASE + "  - " + route + "\n", "edge.yaml")
                .routes()
                .get(0)
                .rateLimit();
    }

    private static String refused(String route) {
        return assertThrows(ConfigException.class, () -> limit(route)).getMessage();
    }

    @Test
    void forms() throws Exception {
        assertEquals(Optional.empty(), limit("{path: /, upstream: app}"));
        assertEquals(
                Optional.of(new RateLimitConfig(100, Duration.ofSeconds(1), "client_ip")),
                limit("{path: /, upstream: app, rate_limit: {requests: 100}}"));
        assertEquals(
                Optional.of(new RateLimitConfig(5, Duration.ofMinutes(1), "header:X-Api-Key")),
                limit("{path: /, upstream: app, rate_limit: {requests: 5, per: 1m, key: 'header:X-Api-Key'}}"));
        assertEquals(
                "route",
                limit("{path: /, upstream: app, rate_limit: {requests: 5, key: route}}")
                        .get()
                        .key());
    }

    @Test
    void errors() {
        assertEquals(
                "edge.yaml:4:42: routes[0].rate_limit.requests: required: how many requests per period, "
                        + "e.g. requests: 100",
                refused("{path: /, upstream: app, rate_limit: {per: 1s}}"));
        assertEquals(
                "edge.yaml:4:70: routes[0].rate_limit.key: expected client_ip, route or header:NAME, got 'cookie'",
                refused("{path: /, upstream: app, rate_limit: {requests: 5, per: 1s, key: cookie}}"));
        assertEquals(
                "edge.yaml:4:61: routes[0].rate_limit.per: a rate-limit period must be at least 100ms, got 10ms",
                refused("{path: /, upstream: app, rate_limit: {requests: 5, per: 10ms}}"));
        assertEquals(
                "edge.yaml:4:53: routes[0].rate_limit.requests: must be between 1 and " + (Long.MAX_VALUE / 4)
                        + ", got 0",
                refused("{path: /, upstream: app, rate_limit: {requests: 0}}"));
    }
}
