package io.flotilla.node.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the origin receives and what the client gets back: forwarding and hop-by-hop headers. */
class ForwardingTest {
    private TestOrigin origin;
    private TestNode node;

    @BeforeEach
    void start() throws Exception {
        origin = TestOrigin.start((request, out) -> {
            TestOrigin.writeResponse(
                    out,
                    200,
                    Map.of(
                            "Server",
                            "secret-origin/1.2",
                            "Keep-Alive",
                            "timeout=5",
                            "Connection",
                            "Keep-Alive, X-Internal",
                            "X-Internal",
                            "yes",
                            "X-App",
                            "1"),
                    "hello".getBytes(),
                    !"HEAD".equals(request.method()));
            return true;
        });
        node = TestNode.inFrontOf(origin, "");
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
        origin.close();
    }

    @Test
    void addsForwardingHeadersAndPassesHost() throws Exception {
        try (RawClient client = node.client()) {
            RawClient.Response response = client.send("GET /a/b?q=1 HTTP/1.1\r\nHost: shop.example.com\r\n"
                            + "X-Forwarded-For: 203.0.113.7\r\nUser-Agent: test\r\n\r\n")
                    .read();
            assertEquals(200, response.status());
            assertEquals("hello", response.bodyText());
        }
        TestOrigin.Received seen = origin.last();
        assertEquals("GET", seen.method());
        assertEquals("/a/b?q=1", seen.target());
        assertEquals("HTTP/1.1", seen.version());
        assertEquals("shop.example.com", seen.header("Host"));
        assertEquals("203.0.113.7, 127.0.0.1", seen.header("X-Forwarded-For"), "appended, never replaced");
        assertEquals(1, seen.headers("X-Forwarded-For").size());
        assertEquals("http", seen.header("X-Forwarded-Proto"));
        assertEquals("shop.example.com", seen.header("X-Forwarded-Host"));
        assertEquals("127.0.0.1", seen.header("X-Real-IP"));
        assertEquals("1.1 test-node", seen.header("Via"));
        assertEquals("test", seen.header("User-Agent"));
        assertNotNull(seen.header("X-Request-Id"));
        assertEquals(32, seen.header("X-Request-Id").length());
    }

    /** RFC 9110 §8.6: no Content-Length on a request without content whose method gives content no meaning. */
    @Test
    void aBodylessGetGoesUpstreamWithoutContentLength() throws Exception {
        try (RawClient client = node.client()) {
            assertEquals(
                    200,
                    client.send("GET /plain HTTP/1.1\r\nHost: a\r\n\r\n").read().status());
            assertEquals(
                    200,
                    client.send("GET /zero HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
                            .read()
                            .status());
            assertEquals(
                    200,
                    client.send("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
                            .read()
                            .status());
        }
        TestOrigin.Received get = origin.received().get(0);
        assertEquals("/plain", get.target());
        assertNull(get.header("Content-Length"));
        assertNull(get.header("Transfer-Encoding"));
        assertNull(origin.received().get(1).header("Content-Length"), "a client's Content-Length: 0 on a GET");
        assertEquals("/zero", origin.received().get(1).target());
        assertEquals("3", origin.last().header("Content-Length"), "a request with content keeps its length");
    }

    @Test
    void keepsAClientRequestId() throws Exception {
        try (RawClient client = node.client()) {
            client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: trace-42\r\n\r\n")
                    .read();
        }
        assertEquals("trace-42", origin.last().header("X-Request-Id"));
    }

    @Test
    void removesHopByHopHeadersBeforeAddingItsOwn() throws Exception {
        try (RawClient client = node.client()) {
            client.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Forwarded-For, X-Secret, Via\r\n"
                            + "X-Secret: 1\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\nUpgrade: websocket\r\n"
                            + "Proxy-Connection: keep-alive\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n")
                    .read();
        }
        TestOrigin.Received seen = origin.last();
        assertNull(seen.header("X-Secret"), "named in Connection");
        assertNull(seen.header("Keep-Alive"));
        assertNull(seen.header("TE"));
        assertNull(seen.header("Upgrade"));
        assertNull(seen.header("Proxy-Connection"));
        assertNull(seen.header("Connection"));
        // The client's own X-Forwarded-For was named in Connection, so it goes; ours is added after.
        assertEquals("127.0.0.1", seen.header("X-Forwarded-For"));
        assertEquals("1.1 test-node", seen.header("Via"));
    }

    @Test
    void cleansTheResponseToo() throws Exception {
        try (RawClient client = node.client()) {
            RawClient.Response response = client.get("/", "a");
            assertEquals("secret-origin/1.2", response.header("Server"), "passed by default");
            assertNull(response.header("X-Internal"), "named in the origin's Connection header");
            assertNull(response.header("Keep-Alive"));
            assertEquals("1", response.header("X-App"));
            assertEquals("1.1 test-node", response.header("Via"));
        }
    }

    @Test
    void reusesUpstreamConnections() throws Exception {
        try (RawClient client = node.client()) {
            for (int i = 0; i < 20; i++) {
                assertEquals(200, client.get("/r" + i, "a").status());
            }
        }
        try (RawClient other = node.client()) {
            assertEquals(200, other.get("/again", "a").status());
        }
        assertEquals(21, origin.requestCount());
        assertEquals(1, origin.connectionCount(), "one keep-alive upstream connection for sequential requests");
    }

    @Test
    void headGetsNoBody() throws Exception {
        try (RawClient client = node.client()) {
            client.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
            RawClient.Response head = client.read(true);
            assertEquals(200, head.status());
            assertEquals("5", head.header("Content-Length"));
            // The next response on the same connection parses cleanly only if no body followed the HEAD.
            RawClient.Response next = client.get("/", "a");
            assertEquals("hello", next.bodyText());
        }
    }

    @Test
    void http10ClientGetsItsConnectionClosedByDefault() throws Exception {
        try (RawClient client = node.client()) {
            RawClient.Response response = client.send("GET / HTTP/1.0\r\n\r\n").read();
            assertEquals(200, response.status());
            assertTrue(client.closedByPeer());
        }
        assertEquals("HTTP/1.1", origin.last().version(), "upstream requests are HTTP/1.1");
        assertFalse(origin.last().header("Host").isEmpty(), "a Host is supplied upstream");
    }

    @Test
    void optionalHeadersFollowThePolicy() throws Exception {
        try (TestNode custom = TestNode.startWith(
                        "node: {name: edge-7, event_loops: 1}\n"
                                + "listeners:\n  - bind: \"[::1]:0\"\n"
                                + "upstreams:\n  app: {servers: [" + origin.address() + "]}\n"
                                + "routes:\n  - {path: /, upstream: app}\n"
                                + "headers: {forwarded: true, x_forwarded: false, server: hide, request_id: false, host: backend.internal}\n");
                java.net.Socket socket = new java.net.Socket("::1", custom.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream()
                    .write(("GET / HTTP/1.1\r\nHost: shop.example:8443\r\n"
                                    + "Forwarded: for=192.0.2.60;proto=http\r\nConnection: close\r\n\r\n")
                            .getBytes());
            String response = new String(socket.getInputStream().readAllBytes());
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            assertFalse(response.toLowerCase().contains("server:"), "Server hidden: " + response);
        }
        TestOrigin.Received seen = origin.last();
        assertEquals(
                "for=192.0.2.60;proto=http, for=\"[::1]\";host=\"shop.example:8443\";proto=http",
                seen.header("Forwarded"),
                "appended, IPv6 quoted and bracketed (RFC 7239 §6)");
        assertNull(seen.header("X-Forwarded-For"));
        assertNull(seen.header("X-Request-Id"));
        assertEquals("backend.internal", seen.header("Host"));
        assertEquals("1.1 edge-7", seen.header("Via"));
    }
}
