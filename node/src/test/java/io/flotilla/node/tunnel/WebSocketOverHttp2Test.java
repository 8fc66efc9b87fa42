package io.flotilla.node.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.Await;
import io.flotilla.node.testing.ExternalTool;
import io.flotilla.node.testing.H2Client;
import io.flotilla.node.testing.H2WebSocketClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TlsClient;
import io.flotilla.node.testing.WebSocketOrigin;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebSocket over HTTP/2 (RFC 8441) through a real node: a Netty HTTP/2 client that opens extended
 * CONNECT streams and speaks WebSocket in their DATA frames ({@link H2WebSocketClient}), Netty's
 * WebSocket server behind the node ({@link WebSocketOrigin}), and raw frames ({@link H2Client}) for
 * what no real client sends. docs/websocket.md says what is checked here.
 */
class WebSocketOverHttp2Test {
    private static final int PROTOCOL_ERROR = 1;
    private static final int NO_ERROR = 0;

    private WebSocketOrigin origin;
    private TestNode node;
    private H2WebSocketClient client;

    @TempDir
    Path dir;

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    /** A node with an h2c listener in front of a new origin: {@code /} tunnels, {@code /off} does not. */
    private TestNode start(String nodeFields, String extra) throws Exception {
        origin = WebSocketOrigin.start();
        node = TestNode.startWith("node: {name: h2-ws, event_loops: 1" + nodeFields + "}\n"
                + "listeners:\n  - {bind: 127.0.0.1:0, h2c: true}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n"
                + "  - {path: /off, upstream: app, websocket: false}\n" + extra);
        return node;
    }

    private Tunnels tunnels() {
        return node.node().tunnels();
    }

    private long counter(String name) {
        return node.node().metrics().registry().counter(name).getCount();
    }

    @Test
    void announcesExtendedConnectAndRelaysBothWaysAsOneTunnel() throws Exception {
        Path log = dir.resolve("access.log");
        start(", access_log: {path: " + log + "}", "");
        client = H2WebSocketClient.h2c(node.port());
        Http2Settings settings = client.serverSettings();
        assertEquals(Boolean.TRUE, settings.connectProtocolEnabled(), "SETTINGS_ENABLE_CONNECT_PROTOCOL = 1");

        H2WebSocketClient.Tunnel ws =
                client.open(H2WebSocketClient.connect("/ws").set("sec-websocket-protocol", "chat, superchat"));
        assertEquals(200, ws.status());
        assertNull(ws.head().get("sec-websocket-accept"), "the origin's accept value is the node's business");
        assertNull(ws.head().get("upgrade"));
        assertEquals("1.1 h2-ws", ws.head().get("via").toString());
        assertEquals(1, tunnels().open());

        ws.sendText("hello over h2");
        assertEquals("hello over h2", ws.next());
        byte[] large = new byte[3 * 1024 * 1024];
        new Random(8441).nextBytes(large);
        ws.sendBinary(large);
        assertArrayEquals(large, (byte[]) ws.next(), "3 MiB echoed byte for byte, in many DATA frames");

        // The origin got an HTTP/1.1 handshake the node made: a key of its own, the client's fields.
        HttpHeaders handshake = origin.heads().get(0);
        assertEquals("websocket", handshake.get(HttpHeaderNames.UPGRADE).toLowerCase());
        assertTrue(handshake.get(HttpHeaderNames.CONNECTION).toLowerCase().contains("upgrade"));
        assertEquals("13", handshake.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION));
        assertEquals(16, Base64.getDecoder().decode(handshake.get(HttpHeaderNames.SEC_WEBSOCKET_KEY)).length);
        assertEquals("chat, superchat", handshake.get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL));
        assertEquals("localhost", handshake.get(HttpHeaderNames.HOST));
        assertEquals("127.0.0.1", handshake.get("X-Forwarded-For"));
        assertEquals("2 h2-ws", handshake.get(HttpHeaderNames.VIA), "received over HTTP/2");

        ws.sendClose(1000);
        assertEquals(1000, ws.closed.get(5, TimeUnit.SECONDS), "the origin's close frame came back");
        assertEquals(-1L, ws.ended.get(5, TimeUnit.SECONDS), "then the stream ended with END_STREAM");
        Await.await("the tunnel to close", 5, () -> tunnels().open() == 0);
        assertEquals(1, tunnels().openedTotal());
        assertTrue(counter("flotilla.websocket.bytes.to_upstream") > large.length);
        assertTrue(counter("flotilla.websocket.bytes.to_client") > large.length);

        Await.await("the access log line", 5, () -> Await.read(log).contains("\"target\":\"/ws\""));
        String line = Await.read(log).trim();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.contains("\"status\":200") && line.contains("HTTP/2.0"), line);

        // The connection serves on: a second tunnel on a new stream, which the client then resets.
        H2WebSocketClient.Tunnel again = client.openWebSocket("/ws");
        again.sendText("again");
        assertEquals("again", again.next());
        again.channel().close().sync(); // RST_STREAM CANCEL
        Await.await("the reset tunnel to close", 5, () -> tunnels().closedTotal("client") == 1);
        assertEquals(0, tunnels().open());
    }

    @Test
    void hyperH2AnIndependentImplementationTunnelsToo() throws Exception {
        // Debian's python3-h2: hyper-h2 checks RFC 8441 on the client side (no :protocol on other methods).
        ExternalTool.require("/usr/lib/python3/dist-packages/h2", "python3-h2");
        start("", "");
        Path script =
                Path.of(getClass().getResource("/rfc8441/hyper_h2_client.py").toURI());
        String out = ExternalTool.run(
                Duration.ofSeconds(30), "", List.of("/usr/bin/python3", script.toString(), "" + node.port(), "/ws"));
        assertTrue(out.contains("enable_connect_protocol 1\n"), out);
        assertTrue(out.contains("status 200\n"), out);
        assertTrue(out.contains("echo 1 hello from hyper-h2\n"), out);
        assertTrue(out.contains("closed 8 1000\n"), out);
        assertTrue(out.contains("stream ended\n"), out);
        Await.await("the tunnel to close", 5, () -> tunnels().open() == 0);
        assertEquals(1, tunnels().openedTotal());
    }

    @Test
    void overTlsWithAlpnOnTwoEventLoops() throws Exception {
        origin = WebSocketOrigin.start();
        var cert = TlsClient.certificate(dir, "site", "localhost", true);
        node = TestNode.startWith("node: {name: h2-ws, event_loops: 2}\n"
                + "listeners:\n  - bind: 127.0.0.1:0\n    tls: {certificates: [" + cert.yaml() + "]}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n");
        client = H2WebSocketClient.tls(node.port());
        assertEquals(Boolean.TRUE, client.serverSettings().connectProtocolEnabled());
        H2WebSocketClient.Tunnel ws =
                client.open(H2WebSocketClient.connect("/ws").scheme("https"));
        assertEquals(200, ws.status());
        ws.sendText("wss over h2");
        assertEquals("wss over h2", ws.next());
        assertEquals("https", origin.heads().get(0).get("X-Forwarded-Proto"));
        // A second connection lands on the other event loop; its tunnel's upstream side is opened there.
        try (H2WebSocketClient second = H2WebSocketClient.tls(node.port())) {
            H2WebSocketClient.Tunnel other =
                    second.open(H2WebSocketClient.connect("/ws").scheme("https"));
            assertEquals(200, other.status());
            other.sendBinary(new byte[] {8, 4, 4, 1});
            assertArrayEquals(new byte[] {8, 4, 4, 1}, (byte[]) other.next());
            assertEquals(2, tunnels().open());
        }
    }

    @Test
    void aStalledClientHoldsTheOriginBackThroughTheStreamWindow() throws Exception {
        start("", "");
        client = H2WebSocketClient.h2c(node.port());
        H2WebSocketClient.Tunnel ws = client.openWebSocket("/ws");
        ws.reading(false); // no more window for the node's stream until it reads again
        long size = 48L * 1024 * 1024;
        ws.sendText("firehose " + size);

        Await.await("the firehose to start", 10, () -> origin.fireHosed() > 0);
        long peak = Stall.peakHeldUntilStalled(origin::fireHosed, tunnels()::pendingOutboundBytes, 600);
        assertTrue(origin.fireHosed() < size, "the origin is held back (" + origin.fireHosed() + " of " + size + ")");
        assertTrue(origin.firehoseBlocked());
        long toClient = counter("flotilla.websocket.bytes.to_client");
        assertTrue(toClient < 4L * 1024 * 1024, "the node stopped reading the origin at " + toClient);
        assertTrue(peak < 2L * 1024 * 1024, "node held at most " + peak + " bytes unsent");
        System.out.println("[h2-ws] stalled client: node held at most " + peak + " bytes, relayed " + toClient
                + ", origin sent " + origin.fireHosed());

        ws.reading(true);
        Await.await("the whole firehose", 30, () -> ws.binaryBytes.get() >= size);
        assertEquals(size, ws.binaryBytes.get());
        assertEquals(-1, ws.firstBadOffset.get(), "every byte in order");
    }

    @Test
    void aStalledOriginHoldsTheClientBackNotTheNodesMemory() throws Exception {
        try (StalledOrigin stalled = new StalledOrigin()) {
            node = TestNode.startWith("node: {name: h2-ws, event_loops: 1}\n"
                    + "listeners:\n  - {bind: 127.0.0.1:0, h2c: true}\n"
                    + "upstreams:\n  app:\n    servers: [127.0.0.1:" + stalled.port() + "]\n"
                    + "routes:\n  - {path: /, upstream: app}\n");
            client = H2WebSocketClient.h2c(node.port());
            H2WebSocketClient.Tunnel ws = client.openWebSocket("/ws");
            assertEquals(200, ws.status());
            int frames = 256;
            byte[] payload = new byte[64_000];
            for (int i = 0; i < frames; i++) {
                ws.sendBinaryLater(payload);
            }
            long total = frames * (64_000L + 8); // a masked frame of this size has an 8-byte head

            // The origin reads nothing: the node's upstream socket fills, then the stream's window does.
            long peak = Stall.peakHeldUntilStalled(
                    () -> counter("flotilla.websocket.bytes.to_upstream"), tunnels()::pendingOutboundBytes, 600);
            long relayed = counter("flotilla.websocket.bytes.to_upstream");
            assertTrue(relayed < total, "the node stopped taking the client's bytes at " + relayed + " of " + total);
            assertEquals(0, stalled.received.get());
            assertTrue(peak < 2L * 1024 * 1024, "node held at most " + peak + " bytes unsent");
            assertFalse(ws.channel().isWritable(), "the client's stream window is spent");
            System.out.println("[h2-ws] stalled origin: node held at most " + peak + " bytes, relayed " + relayed
                    + " of " + total + " before the origin read");
            stalled.resume.countDown();
            Await.await("every byte at the origin", 30, () -> stalled.received.get() >= total);
            assertEquals(total, stalled.received.get());
            assertEquals(total, counter("flotilla.websocket.bytes.to_upstream"));
        }
    }

    @Test
    void anOriginThatDoesNotSwitchIsRelayedWithoutATunnel() throws Exception {
        start("", "");
        try (H2Client raw = H2Client.connect(node.port())) {
            raw.headers(1, H2WebSocketClient.connect("/refuse"), false).flush();
            H2Client.Response refused = raw.response(1);
            assertEquals(403, refused.status(), "the origin's answer, as it gave it");
            assertEquals("Forbidden", refused.bodyText());
            // A 2xx would tell the client its tunnel is open: an origin that answered 200 is a bad gateway.
            raw.headers(3, H2WebSocketClient.connect("/plain"), false).flush();
            H2Client.Response ok = raw.response(3);
            assertEquals(502, ok.status());
            assertEquals(0, ok.body().length);
            assertEquals(NO_ERROR, resetCode(raw, 3), "then the client is asked to stop its side");
        }
        Await.await("both exchanges ended", 5, () -> tunnels().refusedTotal("not_upgraded") == 2);
        assertEquals(0, tunnels().openedTotal());
        assertEquals(2, origin.heads().size());
        Await.await("the slots back", 5, () -> tunnels().tryReserve(2));
    }

    @Test
    void malformedConnectsAreResetAndBadHandshakesAnswered() throws Exception {
        start("", "");
        try (H2Client raw = H2Client.connect(node.port())) {
            // RFC 8441 §4: :protocol belongs on CONNECT only; RFC 9113 §8.3: a malformed request is reset.
            raw.headers(1, H2Client.get("/ws", "localhost").set(":protocol", "websocket"), true)
                    .flush();
            assertEquals(PROTOCOL_ERROR, raw.response(1).resetCode());
            // RFC 8441 §5: an extended CONNECT carries :scheme and :path.
            Http2Headers noPath = H2WebSocketClient.connect("/ws");
            noPath.remove(":path");
            raw.headers(3, noPath, false).flush();
            assertEquals(PROTOCOL_ERROR, raw.response(3).resetCode());
            // RFC 9113 §8.5: a CONNECT without :protocol names only the authority.
            Http2Headers plainWithPath = new DefaultHttp2Headers(false)
                    .method("CONNECT")
                    .authority("localhost")
                    .path("/ws");
            raw.headers(5, plainWithPath, false).flush();
            assertEquals(PROTOCOL_ERROR, raw.response(5).resetCode());
            // A tunnel with its client side already closed cannot carry anything.
            raw.headers(7, H2WebSocketClient.connect("/ws"), true).flush();
            assertEquals(PROTOCOL_ERROR, raw.response(7).resetCode());

            // Well-formed but not for this node: the proxy does not tunnel TCP (405, as on HTTP/1.1) ...
            raw.headers(9, new DefaultHttp2Headers(false).method("CONNECT").authority("example.com:443"), false)
                    .flush();
            assertEquals(405, raw.response(9).status());
            // ... nor other protocols, nor WebSocket where the route says websocket: false (501).
            raw.headers(11, H2WebSocketClient.connect("/ws").set(":protocol", "connect-udp"), false)
                    .flush();
            assertEquals(501, raw.response(11).status());
            raw.headers(13, H2WebSocketClient.connect("/off/ws"), false).flush();
            assertEquals(501, raw.response(13).status());

            // RFC 6455 §4.1 via RFC 8441 §5: version 13 only (426 naming it), and present (400); no body.
            raw.headers(15, H2WebSocketClient.connect("/ws").set("sec-websocket-version", "8"), false)
                    .flush();
            H2Client.Response oldVersion = raw.response(15);
            assertEquals(426, oldVersion.status());
            assertEquals("13", oldVersion.headers().get("sec-websocket-version").toString());
            Http2Headers noVersion = H2WebSocketClient.connect("/ws");
            noVersion.remove("sec-websocket-version");
            raw.headers(17, noVersion, false).flush();
            assertEquals(400, raw.response(17).status());
            raw.headers(19, H2WebSocketClient.connect("/ws").set("content-length", "5"), false)
                    .flush();
            assertEquals(400, raw.response(19).status());

            // Every refusal left the connection serving.
            raw.headers(21, H2Client.get("/plain", "localhost"), true).flush();
            assertEquals(200, raw.response(21).status());
        }
        assertEquals(3, tunnels().refusedTotal("bad_handshake"));
        assertEquals(1, origin.heads().size(), "only the plain GET reached the origin");
    }

    @Test
    void switchedOffTheNodeDoesNotAnnounceItAndResetsAProtocol() throws Exception {
        start("", "websocket: {http2: false}\n");
        client = H2WebSocketClient.h2c(node.port());
        assertNull(client.serverSettings().connectProtocolEnabled());
        try (H2Client raw = H2Client.connect(node.port())) {
            raw.headers(1, H2WebSocketClient.connect("/ws"), false).flush();
            assertEquals(PROTOCOL_ERROR, raw.response(1).resetCode(), "RFC 8441 §3: unannounced, malformed");
        }
        assertTrue(origin.heads().isEmpty());
    }

    @Test
    void overTheCapAStreamGets503AndReachesNoOrigin() throws Exception {
        start("", "websocket: {max_tunnels: 1}\n");
        client = H2WebSocketClient.h2c(node.port());
        H2WebSocketClient.Tunnel first = client.openWebSocket("/ws");
        assertEquals(200, first.status());
        H2WebSocketClient.Tunnel second = client.open(H2WebSocketClient.connect("/ws"));
        assertEquals(503, second.status());
        assertEquals(1, tunnels().refusedTotal("over_limit"));
        assertEquals(1, origin.heads().size());
        first.sendText("the first one works on");
        assertEquals("the first one works on", first.next());
    }

    @Test
    void aDrainClosesTunnelsOnStreamsWithGoingAwayAfterDrainTimeout() throws Exception {
        start(", drain_grace: 300ms, drain_timeout: 700ms", "");
        client = H2WebSocketClient.h2c(node.port());
        H2WebSocketClient.Tunnel ws = client.openWebSocket("/ws");
        long started = System.nanoTime();
        CompletableFuture<Void> drained = node.node().drain();
        ws.sendText("during the drain");
        assertEquals("during the drain", ws.next(), "the tunnel works on until drain_timeout");
        assertEquals(1001, ws.closed.get(10, TimeUnit.SECONDS), "going away, then closed");
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(tookMillis >= 900, "closed after grace + drain_timeout, took " + tookMillis + " ms");
        drained.get(5, TimeUnit.SECONDS);
        Await.await("no tunnel left", 5, () -> tunnels().open() == 0);
        assertEquals(1, tunnels().closedTotal("drain"));
    }

    @Test
    void anIdleTunnelIsClosed() throws Exception {
        start("", "websocket: {idle_timeout: 300ms}\n");
        client = H2WebSocketClient.h2c(node.port());
        H2WebSocketClient.Tunnel ws = client.openWebSocket("/ws");
        ws.sendText("still here");
        assertEquals("still here", ws.next());
        ws.ended.get(5, TimeUnit.SECONDS);
        Await.await("the tunnel to close", 5, () -> tunnels().open() == 0);
        assertEquals(1, tunnels().closedTotal("idle"));
    }

    /** Reads until the stream's RST_STREAM and returns its code (the response ended before it). */
    private static int resetCode(H2Client raw, int stream) throws IOException {
        while (true) {
            H2Client.Frame frame = raw.next();
            if (frame.type() == H2Client.RST_STREAM && frame.stream() == stream) {
                return frame.errorCode();
            }
        }
    }

    /** An origin that accepts one WebSocket handshake, then reads nothing until {@link #resume}. */
    private static final class StalledOrigin implements AutoCloseable {
        final CountDownLatch resume = new CountDownLatch(1);
        final AtomicLong received = new AtomicLong();
        private final ServerSocket server = new ServerSocket();
        private final AtomicReference<Socket> accepted = new AtomicReference<>();

        StalledOrigin() throws IOException {
            server.setReceiveBufferSize(64 * 1024); // a small kernel buffer: the node feels the stall soon
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread thread = new Thread(this::serve, "stalled-origin");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve() {
            try (Socket socket = server.accept()) {
                accepted.set(socket);
                InputStream in = socket.getInputStream();
                ByteArrayOutputStream head = new ByteArrayOutputStream();
                while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                    head.write(in.read());
                }
                String key = head.toString(StandardCharsets.ISO_8859_1)
                        .lines()
                        .filter(l -> l.toLowerCase().startsWith("sec-websocket-key:"))
                        .findFirst()
                        .orElseThrow()
                        .substring(18)
                        .trim();
                String accept = Base64.getEncoder()
                        .encodeToString(MessageDigest.getInstance("SHA-1")
                                .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                        .getBytes(StandardCharsets.US_ASCII)));
                OutputStream out = socket.getOutputStream();
                out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                resume.await(60, TimeUnit.SECONDS);
                byte[] buffer = new byte[64 * 1024];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    received.addAndGet(n);
                }
            } catch (Exception e) {
                // the test ended, or the node closed the connection
            }
        }

        @Override
        public void close() throws IOException {
            resume.countDown();
            Socket socket = accepted.get();
            if (socket != null) {
                socket.close();
            }
            server.close();
        }
    }
}
