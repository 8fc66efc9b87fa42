package io.flotilla.node.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-route limits on one node: 429 with Retry-After and RateLimit fields, keys, and what is not limited. */
class RateLimitTest {
    private TestOrigin origin;
    private TestNode node;

    @TempDir
    Path www;

    @BeforeEach
    void start() throws Exception {
        origin = TestOrigin.start((request, out) -> {
            TestOrigin.writeResponse(
                    out,
                    200,
                    java.util.Map.of("Cache-Control", "max-age=60"),
                    "ok".getBytes(),
                    !"HEAD".equals(request.method()));
            return true;
        });
        Files.writeString(www.resolve("file.txt"), "static");
        Files.createDirectory(www.resolve("dir"));
        node = TestNode.start("upstreams:\n  app: {servers: [" + origin.address() + "]}\n"
                + "  gone: {servers: [127.0.0.1:1]}\n"
                + "routes:\n"
                + "  - {path: /ip/, upstream: app, rate_limit: {requests: 5, per: 10s}}\n"
                + "  - {path: /key/, upstream: app, rate_limit: {requests: 2, per: 10s, key: 'header:X-Api-Key'}}\n"
                + "  - {path: /all/, upstream: app, rate_limit: {requests: 3, per: 10s, key: route}}\n"
                + "  - {path: /files/, static: " + www + ", rate_limit: {requests: 50, per: 10s}}\n"
                + "  - {path: /down/, upstream: gone, rate_limit: {requests: 50, per: 10s}}\n"
                + "  - {path: /cached/, upstream: app, cache: true, rate_limit: {requests: 50, per: 10s}}\n"
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
        return origin.received().stream()
                .filter(r -> r.target().startsWith(prefix))
                .count();
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

    /** The README promises the RateLimit fields on every response of a limited route, whoever made it. */
    @Test
    void everyResponseOfALimitedRouteCarriesTheRateLimitFields() throws Exception {
        assertLimited(get("/files/file.txt"), 200, "a static file");
        assertLimited(get("/files/missing"), 404, "a static 404");
        assertLimited(get("/files/dir"), 301, "a static directory redirect");
        assertLimited(get("/down/x"), 502, "a proxy-made error");
        assertLimited(get("/cached/x"), 200, "a cache miss");
        RawClient.Response hit = get("/cached/x");
        assertTrue(hit.header("Cache-Status").contains("hit"), hit.header("Cache-Status"));
        assertLimited(hit, 200, "a cache hit");
    }

    private static void assertLimited(RawClient.Response response, int status, String what) {
        assertEquals(status, response.status(), what);
        assertEquals("50", response.header("RateLimit-Limit"), what);
        assertNotNull(response.header("RateLimit-Remaining"), what);
        assertEquals("50;w=10", response.header("RateLimit-Policy"), what);
    }
}
