package io.flotilla.node.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Per-route limits on one node: 429 with Retry-After and RateLimit fields, keys, and what is not limited. */
class RateLimitTest {
    private TestOrigin origin;
    private TestNode node;

    @BeforeEach
    void start() throws Exception {
        origin = TestOrigin.start(TestOrigin.ok("ok"));
        node = TestNode.start("upstreams:\n  app: {servers: [" + origin.address() + "]}\n"
                + "routes:\n"
                + "  - {path: /ip/, upstream: app, rate_limit: {requests: 5, per: 10s}}\n"
                + "  - {path: /key/, upstream: app, rate_limit: {requests: 2, per: 10s, key: 'header:X-Api-Key'}}\n"
                + "  - {path: /all/, upstream: app, rate_limit: {requests: 3, per: 10s, key: route}}\n"
                + "  - {path: /, upstream: app}\n");
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
        origin.close();
    }

    private RawClient.Response get(String target, String... headers) throws Exception {
        StringBuilder raw = new StringBuilder("GET ").append(target).append(" HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            raw.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        try (RawClient c = node.client()) {
            c.send(raw.append("\r\n").toString());
            return c.read();
        }
    }

    private long originCount(String prefix) {
        return origin.received().stream().filter(r -> r.target().startsWith(prefix)).count();
    }

    @Test
    void overTheLimitIs429WithRetryAfterAndTheOriginIsSpared() throws Exception {
        for (int i = 0; i < 5; i++) {
            RawClient.Response ok = get("/ip/x");
            assertEquals(200, ok.status());
            assertEquals("5", ok.header("RateLimit-Limit"));
            assertEquals(String.valueOf(4 - i), ok.header("RateLimit-Remaining"));
            assertEquals("5;w=10", ok.header("RateLimit-Policy"));
        }
        RawClient.Response refused = get("/ip/x");
        assertEquals(429, refused.status());
        assertEquals("0", refused.header("RateLimit-Remaining"));
        assertNotNull(refused.header("Retry-After"));
        long retry = Long.parseLong(refused.header("Retry-After"));
        assertTrue(retry >= 1 && retry <= 10, "Retry-After " + retry);
        assertEquals(5, originCount("/ip/"));
        assertEquals(200, get("/other").status(), "routes without a limit are not limited");
    }

    @Test
    void aHeaderKeyLimitsEachValueAndLeavesRequestsWithoutItAlone() throws Exception {
        assertEquals(200, get("/key/a", "X-Api-Key", "k1").status());
        assertEquals(200, get("/key/a", "X-Api-Key", "k1").status());
        assertEquals(429, get("/key/a", "X-Api-Key", "k1").status());
        assertEquals(200, get("/key/a", "X-Api-Key", "k2").status());
        for (int i = 0; i < 4; i++) {
            assertEquals(200, get("/key/a").status());
        }
    }

    @Test
    void aRouteKeyIsOneBudgetForEveryone() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertEquals(200, get("/all/" + i).status());
        }
        assertEquals(429, get("/all/x").status());
        assertEquals(3, originCount("/all/"));
    }
}
