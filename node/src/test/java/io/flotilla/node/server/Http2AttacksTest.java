package io.flotilla.node.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.H2Client;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The attacks HTTP/2 servers have been hurt by, each sent with raw frames (an h2c listener, so the
 * bytes are the test's own): the connection must end with the right GOAWAY code, and the node must
 * serve the next client as if nothing happened.
 */
class Http2AttacksTest {
    private static final int PROTOCOL_ERROR = 0x1;
    private static final int REFUSED_STREAM = 0x7;
    private static final int ENHANCE_YOUR_CALM = 0xb;

    private TestOrigin origin;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = TestOrigin.start();
    }

    @AfterEach
    void stopOrigin() throws Exception {
        origin.close();
    }

    private TestNode node(String limits, String extra) throws Exception {
        return TestNode.startWith("node: {name: h2-attacked, event_loops: 1}\n"
                + "listeners:\n  - {bind: 127.0.0.1:0, h2c: true, http2_limits: {" + limits + "}}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n" + extra);
    }

    /** A new client on a new connection is served: the attack cost its own connection only. */
    private static void stillServes(TestNode node) throws IOException {
        try (H2Client fresh = H2Client.connect(node.port())) {
            fresh.headers(1, H2Client.get("/after", "a.test"), true).flush();
            assertEquals(200, fresh.response(1).status(), "the node serves the next client");
        }
    }

    private static void assertGoAway(H2Client h2, int code) throws IOException {
        H2Client.Frame goAway = h2.awaitGoAway();
        assertNotNull(goAway, "GOAWAY before the close");
        assertEquals(code, goAway.errorCode(), "GOAWAY code");
        assertTrue(h2.closedByServer(), "and the connection is closed");
    }

    @Test
    void rapidResetIsCalmedWithGoAway() throws Exception {
        // CVE-2023-44487: open a stream and cancel it at once, over and over; each costs the server work.
        try (TestNode node = node("max_resets: 50, reset_window: 30s", "");
                H2Client h2 = H2Client.connect(node.port())) {
            for (int stream = 1; stream < 2 * 200; stream += 2) {
                h2.headers(stream, H2Client.get("/r", "a.test"), true).rst(stream, 0x8);
            }
            h2.flush();
            assertGoAway(h2, ENHANCE_YOUR_CALM);
            stillServes(node);
        }
    }

    @Test
    void continuationFloodIsRefused() throws Exception {
        // CVE-2024-27316: a header block that never ends, in CONTINUATION frames the server must buffer.
        try (TestNode node = node("max_small_continuations: 16", "");
                H2Client h2 = H2Client.connect(node.port())) {
            byte[] block = h2.block(1, H2Client.get("/c", "a.test"));
            h2.frame(H2Client.HEADERS, 0, 1, block);
            try {
                for (int i = 0; i < 2000; i++) {
                    h2.frame(H2Client.CONTINUATION, 0, 1, new byte[] {0x40, 0x01, 'x', 0x01, 'y'});
                }
                h2.flush();
            } catch (IOException closedMidway) {
                // the server may close before all is written: that is the point
            }
            H2Client.Frame goAway = h2.awaitGoAway();
            assertNotNull(goAway, "GOAWAY");
            assertTrue(
                    goAway.errorCode() == ENHANCE_YOUR_CALM || goAway.errorCode() == PROTOCOL_ERROR,
                    "code " + goAway.errorCode());
            stillServes(node);
        }
        try (TestNode node = node("", "");
                H2Client h2 = H2Client.connect(node.port())) {
            // The same with big CONTINUATION frames: bounded by the header list limit, not by their count.
            byte[] filler = new byte[16_000];
            h2.frame(H2Client.HEADERS, 0, 1, h2.block(1, H2Client.get("/c", "a.test")));
            try {
                for (int i = 0; i < 200; i++) {
                    h2.frame(H2Client.CONTINUATION, 0, 1, literal("x-" + i, filler.length - 20));
                }
                h2.flush();
            } catch (IOException closedMidway) {
                // as above
            }
            assertNotNull(h2.awaitGoAway(), "GOAWAY well before 3 MB of header block");
            stillServes(node);
        }
    }

    /** An HPACK literal field without indexing: name and a value of {@code size} 'v's. */
    private static byte[] literal(String name, int size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x00);
        hpackInt(out, name.length(), 7, 0);
        out.writeBytes(name.getBytes(StandardCharsets.US_ASCII));
        hpackInt(out, size, 7, 0);
        out.writeBytes("v".repeat(size).getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** RFC 7541 §5.1 integer with an {@code prefix}-bit prefix, first byte's high bits {@code flags}. */
    private static void hpackInt(ByteArrayOutputStream out, int value, int prefix, int flags) {
        int max = (1 << prefix) - 1;
        if (value < max) {
            out.write(flags | value);
            return;
        }
        out.write(flags | max);
        value -= max;
        while (value >= 128) {
            out.write((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        out.write(value);
    }

    /**
     * One 4000-byte field put in the dynamic table, then referenced by a 1-byte index 1000 times: 4 MB
     * of header list from 5 KB on the wire.
     */
    private static byte[] hpackBomb() {
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        block.writeBytes(new byte[] {(byte) 0x82, (byte) 0x86, (byte) 0x84}); // GET, http, /
        block.write(0x01); // :authority, literal without indexing
        hpackInt(block, 6, 7, 0);
        block.writeBytes("a.test".getBytes(StandardCharsets.US_ASCII));
        block.write(0x40); // literal with incremental indexing, new name
        hpackInt(block, 4, 7, 0);
        block.writeBytes("bomb".getBytes(StandardCharsets.US_ASCII));
        hpackInt(block, 4000, 7, 0);
        block.writeBytes("b".repeat(4000).getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 1000; i++) {
            block.write(0x80 | 62); // indexed: the newest dynamic table entry
        }
        return block.toByteArray();
    }

    @Test
    void anHpackBombIsRefusedWithoutDecompressingAndRepeatedOnesAreCalmed() throws Exception {
        try (TestNode node = node("max_resets: 10", "");
                H2Client h2 = H2Client.connect(node.port())) {
            h2.frame(H2Client.HEADERS, H2Client.END_HEADERS | H2Client.END_STREAM, 1, hpackBomb())
                    .flush();
            // Netty stops adding fields at the header list limit, answers 431 and resets the stream.
            H2Client.Response refused = h2.response(1);
            assertEquals(431, refused.status(), "Request Header Fields Too Large");
            assertEquals(0, origin.requestCount(), "nothing forwarded");
            stillServes(node);
            try {
                for (int stream = 3; stream < 3 + 2 * 40; stream += 2) {
                    h2.frame(H2Client.HEADERS, H2Client.END_HEADERS | H2Client.END_STREAM, stream, hpackBomb());
                }
                h2.flush();
            } catch (IOException closedMidway) {
                // the server may close before all is written
            }
            // Each refusal resets a stream; a client that keeps making the node reset is one too many.
            assertGoAway(h2, ENHANCE_YOUR_CALM);
            assertEquals(1, origin.requestCount(), "only stillServes' request was forwarded");
            stillServes(node);
        }
    }

    @Test
    void aHeaderListOverTheLimitIsRefusedOnItsStreamAlone() throws Exception {
        try (TestNode node = node("", "limits: {headers_total: 8k}\n");
                H2Client h2 = H2Client.connect(node.port())) {
            Http2Headers big = H2Client.get("/big", "a.test");
            for (int i = 0; i < 3; i++) {
                big.add("x-big-" + i, "v".repeat(3000));
            }
            h2.headers(1, big, true).flush();
            H2Client.Response refused = h2.response(1);
            assertTrue(refused.status() == 431 || refused.resetCode() != null, "refused: " + refused);
            h2.headers(3, H2Client.get("/small", "a.test"), true).flush();
            assertEquals(200, h2.response(3).status(), "the connection serves on");
            assertEquals(1, origin.requestCount());
        }
    }

    @Test
    void settingsPingAndWindowUpdateFloodsAreCalmed() throws Exception {
        int[] types = {H2Client.SETTINGS, H2Client.PING, H2Client.WINDOW_UPDATE, H2Client.PRIORITY};
        byte[][] payloads = {new byte[0], new byte[8], H2Client.int32(1), new byte[] {0, 0, 0, 0, 15}};
        for (int t = 0; t < types.length; t++) {
            try (TestNode node = node("max_control_frames_per_second: 500", "");
                    H2Client h2 = H2Client.connect(node.port())) {
                h2.headers(1, H2Client.get("/before", "a.test"), true).flush();
                assertEquals(200, h2.response(1).status());
                try {
                    for (int i = 0; i < 2000; i++) {
                        h2.frame(types[t], 0, types[t] == H2Client.PRIORITY ? 3 : 0, payloads[t]);
                    }
                    h2.flush();
                } catch (IOException closedMidway) {
                    // as above
                }
                assertGoAway(h2, ENHANCE_YOUR_CALM);
                assertTrue(node.node()
                                .metrics()
                                .counter("flotilla.errors.http2_flood")
                                .getCount()
                        >= 1);
                stillServes(node);
            }
        }
    }

    @Test
    void aClientThatFloodsAndNeverReadsIsClosedOnceItsAcknowledgementsPileUp() throws Exception {
        // The acknowledgements a PING flood asks for queue in the node while the client reads nothing.
        // No stream is ever opened: the idle timeouts are set long, so they cannot be what closes it.
        try (TestNode node = node(
                "max_control_frames_per_second: 100000000, max_queued_control_frames: 100",
                "timeouts: {client_header: 180s, keepalive: 180s}\n")) {
            long start = System.nanoTime();
            java.net.Socket socket = new java.net.Socket();
            socket.setReceiveBufferSize(4096); // before connecting: a small window, so the node's writes back up
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", node.port()));
            try (H2Client h2 = new H2Client(socket).preface()) {
                boolean cut = false;
                try {
                    for (int i = 0; i < 600_000; i++) {
                        h2.ping();
                        if (i % 1000 == 0) {
                            h2.flush();
                        }
                    }
                    h2.flush();
                } catch (IOException closed) {
                    cut = true; // the node closed while the flood was still being written
                }
                assertTrue(cut || h2.closedByServer(), "the connection is closed");
                // 14 s on a quiet machine, 33 s under a loaded suite: well short of the 180 s timeouts.
                assertTrue(System.nanoTime() - start < 120_000_000_000L, "by the queue limit, not a timeout");
            }
            stillServes(node);
        }
    }

    @Test
    void emptyDataFramesAreCalmed() throws Exception {
        try (TestNode node = node("max_empty_frames: 2", "");
                H2Client h2 = H2Client.connect(node.port())) {
            h2.headers(1, H2Client.request("POST", "/e", "a.test"), false);
            for (int i = 0; i < 50; i++) {
                h2.data(1, new byte[0], false);
            }
            h2.flush();
            assertGoAway(h2, ENHANCE_YOUR_CALM);
            stillServes(node);
        }
    }

    @Test
    void streamsOverTheConcurrencyLimitAreRefusedAndTheRestServed() throws Exception {
        try (TestNode node = node("max_concurrent_streams: 4", "");
                H2Client h2 = H2Client.connect(node.port())) {
            h2.next(); // the server's SETTINGS first, so its limit is in force
            for (int stream = 1; stream <= 11; stream += 2) {
                Http2Headers post = H2Client.request("POST", "/s" + stream, "a.test");
                post.set("content-length", "2");
                h2.headers(stream, post, false);
            }
            h2.flush();
            assertEquals(REFUSED_STREAM, h2.response(9).resetCode(), "the fifth: over the limit");
            assertEquals(REFUSED_STREAM, h2.response(11).resetCode());
            for (int stream = 1; stream <= 7; stream += 2) {
                h2.data(stream, "ok".getBytes(), true);
            }
            h2.flush();
            for (int stream = 1; stream <= 7; stream += 2) {
                assertEquals(200, h2.response(stream).status(), "stream " + stream);
            }
            assertEquals(4, origin.requestCount());
        }
    }

    @Test
    void aStreamThatNeverSendsItsBodyTimesOutAloneWhileTheConnectionServesOthers() throws Exception {
        try (TestNode node = node("", "timeouts: {client_body: 300ms}\n");
                H2Client h2 = H2Client.connect(node.port())) {
            Http2Headers post = H2Client.request("POST", "/stuck", "a.test");
            post.set("content-length", "10");
            h2.headers(1, post, false).flush();
            h2.headers(3, H2Client.get("/quick", "a.test"), true).flush();
            assertEquals(200, h2.response(3).status(), "the other stream is not held up");
            H2Client.Response stuck = h2.response(1);
            assertTrue(stuck.status() == 408 || stuck.resetCode() != null, "timed out: " + stuck);
            h2.headers(5, H2Client.get("/later", "a.test"), true).flush();
            assertEquals(200, h2.response(5).status(), "the connection lives on");
            assertTrue(node.node()
                            .metrics()
                            .counter("flotilla.timeouts.client_body")
                            .getCount()
                    >= 1);
        }
    }

    @Test
    void anIdleConnectionIsClosedWithGoAwayNoError() throws Exception {
        try (TestNode node = node("", "timeouts: {keepalive: 300ms}\n");
                H2Client h2 = H2Client.connect(node.port())) {
            h2.headers(1, H2Client.get("/one", "a.test"), true).flush();
            assertEquals(200, h2.response(1).status());
            long start = System.nanoTime();
            assertGoAway(h2, 0);
            assertTrue(System.nanoTime() - start < 5_000_000_000L);
        }
    }
}
