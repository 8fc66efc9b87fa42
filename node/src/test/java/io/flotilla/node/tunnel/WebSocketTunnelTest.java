package io.flotilla.node.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.Await;
import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TlsClient;
import io.flotilla.node.testing.WebSocketOrigin;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebSocket through a real node: the JDK's WebSocket client on one side, Netty's WebSocket server on
 * the other ({@link WebSocketOrigin}), the node tunnelling between them as docs/websocket.md says.
 */
class WebSocketTunnelTest {
    private WebSocketOrigin origin;
    private TestNode node;
    private final List<WebSocket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        sockets.forEach(WebSocket::abort);
        if (node != null) {
            node.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private TestNode start(String extra) throws Exception {
        return start("", "", extra);
    }

    /** A node in front of a new origin: {@code /} tunnels, {@code /off} does not. */
    private TestNode start(String nodeFields, String routeFields, String extra) throws Exception {
        origin = WebSocketOrigin.start();
        node = TestNode.startWith("node: {name: test-node, event_loops: 1" + nodeFields + "}\n"
                + "listeners:\n  - bind: 127.0.0.1:0\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app" + routeFields + "}\n"
                + "  - {path: /off, upstream: app, websocket: false}\n" + extra);
        return node;
    }

    private Tunnels tunnels() {
        return node.node().tunnels();
    }

    private WebSocket connect(HttpClient client, String uri, Collector listener) throws Exception {
        WebSocket socket = client.newWebSocketBuilder()
                .buildAsync(URI.create(uri), listener)
                .get(10, TimeUnit.SECONDS);
        sockets.add(socket);
        return socket;
    }

    private WebSocket connect(Collector listener) throws Exception {
        return connect(HttpClient.newHttpClient(), "ws://127.0.0.1:" + node.port() + "/ws", listener);
    }

    @Test
    void echoesTextBinaryAndALargeMessageAndCountsTheTunnel() throws Exception {
        start("");
        Collector got = new Collector(true);
        WebSocket ws = connect(got);
        assertEquals(1, tunnels().open());

        ws.sendText("hello, tunnel", true).get(5, TimeUnit.SECONDS);
        assertEquals("hello, tunnel", got.next());
        ws.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}), true).get(5, TimeUnit.SECONDS);
        assertArrayEquals(new byte[] {1, 2, 3}, (byte[]) got.next());
        byte[] large = new byte[6 * 1024 * 1024];
        new Random(15).nextBytes(large);
        ws.sendBinary(ByteBuffer.wrap(large), true).get(10, TimeUnit.SECONDS);
        assertArrayEquals(large, (byte[]) got.next(), "6 MiB echoed byte for byte");

        HttpHeaders handshake = origin.heads().get(0);
        assertEquals("websocket", handshake.get(HttpHeaderNames.UPGRADE).toLowerCase());
        assertTrue(handshake.get(HttpHeaderNames.CONNECTION).toLowerCase().contains("upgrade"));
        assertEquals("13", handshake.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION));
        assertEquals(1, handshake.getAll(HttpHeaderNames.SEC_WEBSOCKET_KEY).size());
        assertEquals("127.0.0.1", handshake.get("X-Forwarded-For"), "forwarding fields as on any request");

        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
        assertEquals(WebSocket.NORMAL_CLOSURE, got.closed.get(5, TimeUnit.SECONDS));
        Await.await("the tunnel to close", 5, () -> tunnels().open() == 0);
        assertEquals(1, tunnels().openedTotal());
        long toUpstream = node.node()
                .metrics()
                .registry()
                .counter("flotilla.websocket.bytes.to_upstream")
                .getCount();
        long toClient = node.node()
                .metrics()
                .registry()
                .counter("flotilla.websocket.bytes.to_client")
                .getCount();
        assertTrue(toUpstream > large.length && toClient > large.length, toUpstream + " / " + toClient);
        assertEquals(1, origin.handshakes());
    }

    @Test
    void aSlowReaderHoldsTheOriginBackNotTheNodesMemory() throws Exception {
        start("");
        Collector got = new Collector(false); // asks for no message until told: the JDK client stops reading
        WebSocket ws = connect(got);
        long size = 48L * 1024 * 1024;
        ws.sendText("firehose " + size, true).get(5, TimeUnit.SECONDS);

        // The origin writes until the node stops taking bytes; sample what the node holds meanwhile.
        Await.await("the firehose to start", 10, () -> origin.fireHosed() > 0);
        long peak = Stall.peakHeldUntilStalled(origin::fireHosed, tunnels()::pendingOutboundBytes, 600);
        assertTrue(origin.fireHosed() < size, "the origin is held back (" + origin.fireHosed() + " of " + size + ")");
        assertTrue(origin.firehoseBlocked());
        assertTrue(peak < 2L * 1024 * 1024, "node held at most " + peak + " bytes unsent");

        ws.request(Long.MAX_VALUE);
        try {
            Await.await("the whole firehose", 30, () -> got.binaryBytes.get() >= size);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + ": got " + got.binaryBytes.get() + ", origin sent "
                    + origin.fireHosed() + ", node holds " + tunnels().pendingOutboundBytes() + ", open "
                    + tunnels().open() + ", closed " + got.closed.getNow(null));
        }
        assertEquals(size, got.binaryBytes.get());
        assertEquals(-1, got.firstBadOffset.get(), "every byte in order");
        assertTrue(peak < 2L * 1024 * 1024, "node held at most " + peak + " bytes unsent");
    }

    @Test
    void anIdleTunnelIsClosedAndLoggedOnce(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("access.log");
        start(", access_log: {path: " + log + "}", "", "websocket: {idle_timeout: 300ms}\n");
        Collector got = new Collector(true);
        WebSocket ws = connect(got);
        ws.sendText("still here", true).get(5, TimeUnit.SECONDS);
        assertEquals("still here", got.next());
        got.closed.get(5, TimeUnit.SECONDS);
        Await.await("the tunnel to close", 5, () -> tunnels().open() == 0);
        assertEquals(1, tunnels().closedTotal("idle"));

        // One line, at the close: the handshake with the tunnel's bytes (a masked 10-byte text frame is
        // 16 bytes up, its echo 12 down) and its whole duration.
        Await.await("the access log line", 5, () -> Await.read(log).contains("\"status\":101"));
        String line = Await.read(log).trim();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.contains("\"target\":\"/ws\""), line);
        assertTrue(line.contains("\"request_bytes\":16,") && line.contains("\"response_bytes\":12,"), line);
        double millis = Double.parseDouble(line.replaceAll(".*\"duration_ms\":([0-9.]+).*", "$1"));
        assertTrue(millis >= 300, line);
    }

    @Test
    void theRouteRateLimitCountsHandshakes() throws Exception {
        start("", ", rate_limit: {requests: 1, per: 1m}", "");
        connect(new Collector(true));
        ExecutionException limited = assertThrows(ExecutionException.class, () -> connect(new Collector(true)));
        assertEquals(
                429,
                ((WebSocketHandshakeException) limited.getCause()).getResponse().statusCode());
        assertEquals(1, tunnels().refusedTotal("not_upgraded"));
        assertEquals(1, origin.heads().size());
        assertTrue(tunnels().tryReserve(2), "the refused handshake's slot is back");
    }

    @Test
    void overTheCapAHandshakeGets503AndReachesNoOrigin() throws Exception {
        start("websocket: {max_tunnels: 1}\n");
        connect(new Collector(true));
        ExecutionException refused = assertThrows(ExecutionException.class, () -> connect(new Collector(true)));
        WebSocketHandshakeException cause = (WebSocketHandshakeException) refused.getCause();
        assertEquals(503, cause.getResponse().statusCode());
        assertEquals(1, tunnels().refusedTotal("over_limit"));
        assertEquals(1, origin.handshakes());
        assertEquals(1, origin.heads().size());
    }

    @Test
    void aNon101AnswerIsRelayedAndItsUpstreamConnectionNotReused() throws Exception {
        start("");
        try (RawClient client = node.client()) {
            client.send(handshake("/refuse", "GET", "13"));
            RawClient.Response response = client.read();
            assertEquals(403, response.status());
            assertEquals("Forbidden", response.bodyText());
            assertEquals(200, client.get("/plain", "a").status(), "the client's connection goes on as HTTP");
        }
        assertEquals(0, tunnels().openedTotal());
        assertEquals(1, tunnels().refusedTotal("not_upgraded"));
        assertEquals(2, origin.connections(), "the handshake's upstream connection went back to no pool");
        Await.await("the slot back", 5, () -> tunnels().tryReserve(1));
    }

    @Test
    void malformedHandshakesGet4xxAndNeverReachTheOrigin() throws Exception {
        start("");
        assertEquals(400, answer(handshake("/ws", "POST", "13")).status());
        assertEquals(
                400,
                answer(handshake("/ws", "GET", "13").replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""))
                        .status());
        RawClient.Response oldVersion = answer(handshake("/ws", "GET", "8"));
        assertEquals(426, oldVersion.status());
        assertEquals("13", oldVersion.header("Sec-WebSocket-Version"));
        assertEquals(
                400,
                answer(handshake("/ws", "GET", "13").replace("\r\n\r\n", "\r\nContent-Length: 2\r\n\r\nhi"))
                        .status());
        assertEquals(4, tunnels().refusedTotal("bad_handshake"));
        assertTrue(origin.heads().isEmpty());
    }

    @Test
    void otherUpgradesAndSwitchedOffRoutesAreStripped() throws Exception {
        start("");
        assertEquals(
                200,
                answer("GET /plain HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
                        .status());
        assertEquals(200, answer(handshake("/off/plain", "GET", "13")).status(), "websocket: false");
        for (HttpHeaders seen : origin.heads()) {
            assertNull(seen.get(HttpHeaderNames.UPGRADE));
            assertNull(seen.get(HttpHeaderNames.CONNECTION));
            assertNull(seen.get("HTTP2-Settings"));
        }
        assertEquals(2, origin.heads().size());
        assertEquals(0, tunnels().openedTotal());
    }

    @Test
    void aDrainingNodeRefusesUpgradesAndClosesTunnelsAfterDrainTimeout() throws Exception {
        origin = WebSocketOrigin.start();
        node = TestNode.startWith("node: {name: drain-node, event_loops: 1, drain_grace: 300ms, drain_timeout: 700ms}\n"
                + "listeners:\n  - bind: 127.0.0.1:0\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n");
        Collector got = new Collector(true);
        WebSocket ws = connect(got);
        long started = System.nanoTime();
        CompletableFuture<Void> drained = node.node().drain();
        ExecutionException refused = assertThrows(ExecutionException.class, () -> connect(new Collector(true)));
        assertEquals(
                503,
                ((WebSocketHandshakeException) refused.getCause()).getResponse().statusCode());
        ws.sendText("during the drain", true).get(5, TimeUnit.SECONDS);
        assertEquals("during the drain", got.next(), "the tunnel works on until drain_timeout");
        assertEquals(1001, got.closed.get(10, TimeUnit.SECONDS), "going away, then closed");
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(tookMillis >= 900, "closed after grace + drain_timeout, took " + tookMillis + " ms");
        drained.get(5, TimeUnit.SECONDS);
        assertEquals(1, tunnels().refusedTotal("draining"));
        Await.await("no tunnel left", 5, () -> tunnels().open() == 0);
        assertEquals(1, tunnels().closedTotal("drain"));
    }

    @Test
    void tunnelsOverTls(@TempDir Path dir) throws Exception {
        origin = WebSocketOrigin.start();
        var cert = TlsClient.certificate(dir, "site", "site.test", true);
        node = TestNode.startWith("node: {name: tls-node, event_loops: 1}\n"
                + "listeners:\n  - bind: 127.0.0.1:0\n    tls: {certificates: [" + cert.yaml() + "]}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n");
        HttpClient client =
                HttpClient.newBuilder().sslContext(trustingAnything()).build();
        Collector got = new Collector(true);
        WebSocket ws = connect(client, "wss://127.0.0.1:" + node.port() + "/ws", got);
        byte[] message = new byte[1024 * 1024];
        new Random(443).nextBytes(message);
        ws.sendBinary(ByteBuffer.wrap(message), true).get(5, TimeUnit.SECONDS);
        assertArrayEquals(message, (byte[]) got.next());
        assertEquals("https", origin.heads().get(0).get("X-Forwarded-Proto"));
        assertEquals(1, tunnels().open());
    }

    @Test
    void bytesGluedToThe101AndRawBytesAfterItCrossUnchanged() throws Exception {
        // An origin that sends its first bytes in the same write as its 101, then echoes what it reads.
        try (java.net.ServerSocket raw = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (Socket s = raw.accept()) {
                    java.io.InputStream in = s.getInputStream();
                    readHead(in);
                    s.getOutputStream()
                            .write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                            + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nEARLY")
                                    .getBytes(StandardCharsets.US_ASCII));
                    byte[] buffer = new byte[4];
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        s.getOutputStream().write(buffer, 0, n);
                    }
                } catch (java.io.IOException e) {
                    // the test's client went away
                }
            });
            server.setDaemon(true);
            server.start();
            node = TestNode.start("upstreams:\n  app:\n    servers: [127.0.0.1:" + raw.getLocalPort() + "]\n"
                    + "routes:\n  - {path: /, upstream: app}\n");
            try (Socket client = new Socket(java.net.InetAddress.getLoopbackAddress(), node.port())) {
                client.setSoTimeout(5_000);
                client.getOutputStream().write(handshake("/ws", "GET", "13").getBytes(StandardCharsets.US_ASCII));
                String head = readHead(client.getInputStream());
                assertTrue(head.startsWith("HTTP/1.1 101 "), head);
                assertTrue(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), head);
                assertEquals("EARLY", new String(client.getInputStream().readNBytes(5), StandardCharsets.US_ASCII));
                byte[] binary = {0, (byte) 0xff, '\r', '\n', 'G', 'E', 'T', ' '};
                client.getOutputStream().write(binary);
                assertArrayEquals(binary, client.getInputStream().readNBytes(binary.length), "bytes, not HTTP");
            }
            assertEquals(1, tunnels().openedTotal());
        }
    }

    /** Reads up to and including the blank line that ends a head. */
    private static String readHead(java.io.InputStream in) throws java.io.IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException(head.toString());
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private RawClient.Response answer(String request) throws Exception {
        try (RawClient client = node.client()) {
            client.send(request);
            return client.read();
        }
    }

    private static String handshake(String path, String method, String version) {
        return method + " " + path + " HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: " + version + "\r\n\r\n";
    }

    /** TLS trusting any certificate and any name: the node's certificate is a throwaway one. */
    private static SSLContext trustingAnything() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(
                null,
                new javax.net.ssl.TrustManager[] {
                    new X509ExtendedTrustManager() {
                        @Override
                        public void checkClientTrusted(X509Certificate[] chain, String type, Socket socket) {}

                        @Override
                        public void checkServerTrusted(X509Certificate[] chain, String type, Socket socket) {}

                        @Override
                        public void checkClientTrusted(X509Certificate[] chain, String type, SSLEngine engine) {}

                        @Override
                        public void checkServerTrusted(X509Certificate[] chain, String type, SSLEngine engine) {}

                        @Override
                        public void checkClientTrusted(X509Certificate[] chain, String type) {}

                        @Override
                        public void checkServerTrusted(X509Certificate[] chain, String type) {}

                        @Override
                        public X509Certificate[] getAcceptedIssuers() {
                            return new X509Certificate[0];
                        }
                    }
                },
                null);
        return context;
    }

    /**
     * Collects whole messages (String or byte[]); binary bytes are also counted and checked against
     * the firehose's pattern. With {@code autoDemand} off it asks for nothing until the test does.
     */
    private static final class Collector implements WebSocket.Listener {
        private final boolean autoDemand;
        private final LinkedBlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        private final StringBuilder text = new StringBuilder();
        private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();
        final AtomicLong binaryBytes = new AtomicLong();
        final AtomicLong firstBadOffset = new AtomicLong(-1);
        final CompletableFuture<Integer> closed = new CompletableFuture<>();

        Collector(boolean autoDemand) {
            this.autoDemand = autoDemand;
        }

        Object next() throws InterruptedException {
            Object message = messages.poll(10, TimeUnit.SECONDS);
            assertFalse(message == null, "no message within 10 s");
            return message;
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            if (autoDemand) {
                webSocket.request(1);
            }
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            if (autoDemand) {
                webSocket.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] part = new byte[data.remaining()];
            data.get(part);
            long offset = binaryBytes.get();
            if (autoDemand) {
                binary.write(part, 0, part.length);
            } else {
                for (int i = 0; i < part.length && firstBadOffset.get() < 0; i++) {
                    if (part[i] != WebSocketOrigin.patternByte(offset + i)) {
                        firstBadOffset.set(offset + i);
                    }
                }
            }
            binaryBytes.set(offset + part.length);
            if (last && autoDemand) {
                messages.add(binary.toByteArray());
                binary.reset();
            }
            if (autoDemand) {
                webSocket.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(-1);
        }
    }
}
