package io.flotilla.node.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Requests reach the right upstream or directory, with the path the route says. */
class RoutingTest {
    @TempDir
    Path www;

    private TestOrigin api;
    private TestOrigin web;
    private TestNode node;

    @BeforeEach
    void start() throws Exception {
        Files.writeString(www.resolve("logo.txt"), "static bytes");
        api = TestOrigin.start(TestOrigin.ok("api"));
        web = TestOrigin.start(TestOrigin.ok("web"));
        node = TestNode.start("upstreams:\n"
                + "  api: {servers: [" + api.address() + "]}\n"
                + "  web: {servers: [" + web.address() + "]}\n"
                + "routes:\n"
                + "  - {host: api.example.com, path: /, upstream: api}\n"
                + "  - {host: \"*.example.com\", path: /v1/, upstream: api, rewrite: /v2/}\n"
                + "  - {path: /admin/, upstream: api}\n"
                + "  - {path: /assets/, static: " + www + "}\n"
                + "  - {path: /, upstream: web}\n"
                + "headers: {host: upstream}\n");
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
        api.close();
        web.close();
    }

    @Test
    void routesByHostThenPath() throws Exception {
        try (RawClient client = node.client()) {
            assertEquals("api", client.get("/anything", "api.example.com").bodyText());
            assertEquals("web", client.get("/anything", "www.example.com").bodyText());
            assertEquals("api", client.get("/v1/users?id=3", "shop.example.com").bodyText());
            assertEquals("web", client.get("/v1/users", "other.org").bodyText());
        }
        assertEquals("/v2/users?id=3", api.last().target(), "prefix rewritten, query kept");
        assertEquals(api.address(), api.last().header("Host"), "host: upstream sends the server's address");
        assertEquals("shop.example.com", api.last().header("X-Forwarded-Host"));
    }

    @Test
    void dotSegmentsAreResolvedBeforeRouting() throws Exception {
        try (RawClient client = node.client()) {
            assertEquals("api", client.get("/public/../admin/panel", "x").bodyText());
            assertEquals("api", client.get("/public/%2e%2e/admin/panel", "x").bodyText());
            assertEquals(400, client.get("/../../etc/passwd", "x").status());
        }
        assertEquals("/admin/panel", api.last().target(), "the origin gets the path it was routed by");
    }

    @Test
    void staticRoutesServeFiles() throws Exception {
        try (RawClient client = node.client()) {
            RawClient.Response file = client.get("/assets/logo.txt", "x");
            assertEquals(200, file.status());
            assertEquals("static bytes", file.bodyText());
            assertEquals(404, client.get("/assets/missing.txt", "x").status());
            assertEquals("web", client.get("/", "x").bodyText(), "same connection after static responses");
        }
        assertEquals(1, web.requestCount());
        assertEquals(0, api.requestCount());
    }
}
