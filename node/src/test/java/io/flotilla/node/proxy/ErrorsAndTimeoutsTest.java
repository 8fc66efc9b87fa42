package io.flotilla.node.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Every status the proxy makes itself (502, 503, 504, 408, 413) and every phase's timeout. */
class ErrorsAndTimeoutsTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T closeable) {
        closeables.add(closeable);
        return closeable;
    }

    private TestNode nodeFor(String servers, String extra) throws Exception {
        return track(TestNode.start("upstreams:\n  app:\n    servers: [" + servers + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n" + extra));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void refusedConnectionIs502() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        TestNode node = nodeFor("127.0.0.1:" + closedPort, "");
        try (RawClient client = node.client()) {
            RawClient.Response response = client.get("/", "a");
            assertEquals(502, response.status());
            assertEquals("502 Bad Gateway\n", response.bodyText(), "short, and no stack trace");
            assertEquals(502, client.get("/", "a").status(), "the client connection stays usable after a 502");
        }
    }

    @Test
    void originClosingWithoutAnswerIs502() throws Exception {
        TestOrigin origin = track(TestOrigin.start((request, out) -> false));
        TestNode node = nodeFor(origin.address(), "");
        try (RawClient client = node.client()) {
            assertEquals(502, client.get("/", "a").status());
        }
    }

    @Test
    void drainedUpstreamIs503() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = track(TestNode.start("upstreams:\n  app:\n    servers: [{address: " + origin.address()
                + ", weight: 0}]\nroutes:\n  - {path: /, upstream: app}\n"));
        try (RawClient client = node.client()) {
            assertEquals(503, client.get("/", "a").status());
        }
        assertEquals(0, origin.requestCount());
    }

    @Test
    void noRouteIs404() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = track(TestNode.start("upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {host: only.example, path: /, upstream: app}\n"));
        try (RawClient client = node.client()) {
            assertEquals(404, client.get("/", "other.example").status());
            assertEquals(200, client.get("/", "only.example").status(), "same connection, still usable");
        }
    }

    @Test
    void brokenUpstreamFramingIs502AndTheConnectionIsNotReused() throws Exception {
        TestOrigin origin = track(TestOrigin.start((request, out) -> {
            String body =
                    switch (request.target()) {
                        case "/both" ->
                            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
                        case "/garbage" -> "HTTP/1.1 abc\r\n\r\n";
                        case "/two-lengths" -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc";
                        // A name that is not a token: refused while the upstream header maps validate.
                        case "/bad-name" -> "HTTP/1.0 200 OK\r\nX(A: a\r\nContent-Length: 2\r\n\r\nok";
                        default -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                    };
            out.write(body.getBytes(StandardCharsets.US_ASCII));
            return true;
        }));
        TestNode node = nodeFor(origin.address(), "");
        try (RawClient client = node.client()) {
            assertEquals(200, client.get("/fine", "a").status());
            int connections = origin.connectionCount();
            for (String bad : List.of("/both", "/garbage", "/two-lengths", "/bad-name")) {
                assertEquals(502, client.get(bad, "a").status(), bad);
                assertEquals(200, client.get("/fine", "a").status());
                assertTrue(origin.connectionCount() > connections, "a fresh upstream connection after " + bad);
                connections = origin.connectionCount();
            }
        }
    }

    @Test
    void brokenChunkMidResponseCutsTheClientConnection() throws Exception {
        TestOrigin origin = track(TestOrigin.start((request, out) -> {
            if (request.target().equals("/bad-chunk")) {
                out.write(
                        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nGET /x HTTP/1.1\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
            } else if (request.target().equals("/short")) {
                out.write(
                        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this".getBytes(StandardCharsets.US_ASCII));
                return false; // closes 91 bytes early
            } else {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
            }
            return true;
        }));
        TestNode node = nodeFor(origin.address(), "");
        for (String path : List.of("/bad-chunk", "/short")) {
            try (RawClient client = node.client()) {
                client.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
                String all = client.readAll();
                assertTrue(all.startsWith("HTTP/1.1 200"), all);
                assertFalse(
                        all.contains("\r\n0\r\n\r\n"), "no terminating chunk: the client must see a truncated body");
                assertFalse(all.contains("GET /x"), "nothing past the broken framing is relayed");
            }
        }
        int before = origin.connectionCount();
        try (RawClient client = node.client()) {
            assertEquals("ok", client.get("/fine", "a").bodyText());
        }
        assertEquals(before + 1, origin.connectionCount(), "the broken upstream connection was not pooled");
    }

    @Test
    void slowOriginIs504() throws Exception {
        TestOrigin origin = track(TestOrigin.start((request, out) -> {
            sleep(1500);
            return TestOrigin.ok("late").respond(request, out);
        }));
        TestNode node = nodeFor(origin.address(), "timeouts: {upstream_read: 300ms}\n");
        try (RawClient client = node.client()) {
            long start = System.nanoTime();
            assertEquals(504, client.get("/", "a").status());
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 250 && ms < 1400, "answered after the read timeout, not the origin: " + ms + " ms");
        }
    }

    @Test
    void connectTimeoutIs504() throws Exception {
        // A listener that never accepts, with its accept queue full: the kernel drops further SYNs, so a
        // connect to it hangs, all on loopback.
        ServerSocket stuck = track(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
        List<Socket> fillers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Socket s = new Socket();
            try {
                s.connect(stuck.getLocalSocketAddress(), 200);
                fillers.add(s);
            } catch (IOException e) {
                s.close();
                break;
            }
        }
        fillers.forEach(s -> closeables.add(s));
        TestNode node = nodeFor("127.0.0.1:" + stuck.getLocalPort(), "timeouts: {upstream_connect: 300ms}\n");
        try (RawClient client = node.client()) {
            long start = System.nanoTime();
            assertEquals(504, client.get("/", "a").status());
            assertTrue((System.nanoTime() - start) / 1_000_000 < 3000);
        }
    }

    @Test
    void slowlorisIsCutByTheTotalHeaderTimeout() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = nodeFor(origin.address(), "timeouts: {client_header: 600ms}\n");
        try (RawClient client = node.client()) {
            long start = System.nanoTime();
            client.send("GET / HTTP/1.1\r\n");
            boolean cut = false;
            // One header byte every 100 ms: each read is quick, the head never completes.
            for (int i = 0; i < 40 && !cut; i++) {
                try {
                    client.send("X");
                } catch (IOException e) {
                    cut = true;
                }
                sleep(100);
                if ((System.nanoTime() - start) / 1_000_000 > 700) {
                    break;
                }
            }
            RawClient.Response response = client.timeout(3000).read();
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertEquals(408, response.status());
            assertTrue(client.closedByPeer());
            assertTrue(ms < 2000, "cut after about 600 ms, took " + ms);
        }
        assertEquals(0, origin.requestCount());
    }

    @Test
    void silentConnectionIsClosedWithoutA408() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = nodeFor(origin.address(), "timeouts: {client_header: 300ms}\n");
        try (RawClient client = node.client()) {
            client.timeout(3000);
            assertEquals("", client.readAll(), "closed with nothing written");
        }
    }

    @Test
    void idleKeepAliveConnectionIsClosed() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = nodeFor(origin.address(), "timeouts: {keepalive: 300ms}\n");
        try (RawClient client = node.client()) {
            assertEquals(200, client.get("/", "a").status());
            long start = System.nanoTime();
            assertTrue(client.timeout(3000).closedByPeer());
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 200 && ms < 2000, "closed after the keep-alive timeout: " + ms + " ms");
        }
    }

    @Test
    void stalledRequestBodyIs408() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = nodeFor(origin.address(), "timeouts: {client_body: 300ms}\n");
        try (RawClient client = node.client()) {
            client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
            RawClient.Response response = client.timeout(3000).read();
            assertEquals(408, response.status());
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void clientThatDoesNotReadIsCut() throws Exception {
        long size = 64L * 1024 * 1024;
        TestOrigin origin = track(TestOrigin.start((request, out) -> {
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] block = new byte[65536];
            for (long sent = 0; sent < size; sent += block.length) {
                out.write(block);
            }
            return true;
        }));
        TestNode node = nodeFor(origin.address(), "timeouts: {client_write: 400ms}\n");
        try (RawClient client = node.client()) {
            client.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
            sleep(1500); // read nothing while the proxy's buffers fill and its timer runs out
            InputStream in = client.input();
            byte[] buf = new byte[65536];
            long got = 0;
            client.timeout(5000);
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    got += n;
                }
            } catch (IOException e) {
                // reset: also a cut
            }
            assertTrue(got < size, "the proxy gave up on the slow reader after " + got + " bytes");
        }
    }

    @Test
    void originThatDoesNotReadTheBodyIs504() throws Exception {
        TestOrigin origin = track(TestOrigin.start((request, out) -> {
            sleep(5000);
            return false;
        }));
        origin.readBodies(false);
        TestNode node = nodeFor(origin.address(), "timeouts: {upstream_write: 400ms}\n");
        try (RawClient client = node.client()) {
            long size = 64L * 1024 * 1024;
            client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + size + "\r\n\r\n");
            CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
                byte[] block = new byte[65536];
                try {
                    for (long sent = 0; sent < size; sent += block.length) {
                        client.output().write(block);
                    }
                } catch (IOException e) {
                    // the proxy stopped reading and closed: expected
                }
            });
            RawClient.Response response = client.timeout(5000).read();
            assertEquals(504, response.status());
            client.close();
            upload.get();
        }
    }

    @Test
    void listenerStopsAcceptingAtMaxConnections() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = track(TestNode.startWith("node: {name: t, event_loops: 1}\nlisteners:\n"
                + "  - {bind: 127.0.0.1:0, max_connections: 2}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address()
                + "]\nroutes:\n  - {path: /, upstream: app}\n"));
        RawClient first = track(node.client());
        RawClient second = track(node.client());
        assertEquals(200, first.get("/", "a").status());
        assertEquals(200, second.get("/", "a").status());
        RawClient third = track(node.client()); // the kernel completes the handshake; the node does not accept
        third.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").timeout(700);
        assertThrowsTimeout(third);
        first.close();
        third.timeout(5000);
        assertEquals(200, third.read().status(), "served once a slot is free");
    }

    private static void assertThrowsTimeout(RawClient client) {
        try {
            client.read();
            throw new AssertionError("a response came while the listener was full");
        } catch (java.net.SocketTimeoutException expected) {
            // not accepted yet
        } catch (IOException e) {
            throw new AssertionError("unexpected " + e);
        }
    }
}
