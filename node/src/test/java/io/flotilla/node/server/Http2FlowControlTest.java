package io.flotilla.node.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.H2Client;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Flow control as backpressure (RFC 9113 §5.2): a stream whose client does not read holds up its own
 * upstream only, never the other streams of its connection, and the node does not buffer its body.
 */
class Http2FlowControlTest {
    private static final int BIG = 32 << 20;
    private static final int CHUNK = 64 * 1024;

    private TestOrigin origin;
    private final AtomicLong bigWritten = new AtomicLong();

    @BeforeEach
    void startOrigin() throws Exception {
        origin = TestOrigin.start((request, out) -> {
            if (request.target().equals("/big")) {
                writeBig(out);
            } else {
                TestOrigin.writeResponse(out, 200, java.util.Map.of(), "small".getBytes(StandardCharsets.UTF_8), true);
            }
            return true;
        });
    }

    /** 32 MiB in 64 KiB writes, counted as the origin's socket takes them. */
    private void writeBig(OutputStream out) throws java.io.IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + BIG + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        byte[] chunk = pattern();
        for (int sent = 0; sent < BIG; sent += CHUNK) {
            out.write(chunk);
            bigWritten.addAndGet(CHUNK);
        }
        out.flush();
    }

    private static byte[] pattern() {
        byte[] chunk = new byte[CHUNK];
        for (int i = 0; i < CHUNK; i++) {
            chunk[i] = (byte) (i * 31);
        }
        return chunk;
    }

    @AfterEach
    void stopOrigin() throws Exception {
        origin.close();
    }

    private TestNode node(String extra) throws Exception {
        return TestNode.startWith("node: {name: h2-flow, event_loops: 1}\n"
                + "listeners:\n  - {bind: 127.0.0.1:0, h2c: true}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n" + extra);
    }

    @Test
    void aStreamReadSlowlyStallsItsOwnUpstreamOnlyAndTheNodeDoesNotBufferItsBody() throws Exception {
        try (TestNode node = node("");
                H2Client h2 = H2Client.connect(node.port())) {
            long directBefore = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            h2.hold(1, true).headers(1, H2Client.get("/big", "a.test"), true).flush();
            // The client's stream window (64 KiB) fills; the other stream still completes at once.
            while (h2.received(1) < 65_535) {
                h2.next();
            }
            h2.headers(3, H2Client.get("/small", "a.test"), true).flush();
            H2Client.Response small = h2.response(3);
            assertEquals("small", small.bodyText(), "not stalled behind the slow stream");

            Thread.sleep(1000);
            long written = bigWritten.get();
            long direct = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - directBefore;
            assertEquals(65_535, h2.received(1), "no byte past the stream's window");
            // What left the origin sits in the two sockets' kernel buffers (a few MiB on loopback), not in the node.
            assertTrue(written < BIG / 2, "the origin is held back by the socket buffers: " + written);
            assertTrue(direct < 8 << 20, "the node holds no more than a few reads of it: " + direct);

            h2.hold(1, false);
            H2Client.Response big = h2.response(1);
            assertEquals(BIG, big.body().length, "then all of it, intact");
            CRC32 expected = new CRC32();
            byte[] chunk = pattern();
            for (int i = 0; i < BIG / CHUNK; i++) {
                expected.update(chunk);
            }
            CRC32 got = new CRC32();
            got.update(big.body());
            assertEquals(expected.getValue(), got.getValue());
        }
    }

    @Test
    void aStreamNotReadForClientWriteIsResetAloneAndTheConnectionServesOn() throws Exception {
        try (TestNode node = node("timeouts: {client_write: 400ms}\n");
                H2Client h2 = H2Client.connect(node.port())) {
            h2.hold(1, true).headers(1, H2Client.get("/big", "a.test"), true).flush();
            H2Client.Response cut = h2.response(1);
            assertEquals(0x8, cut.resetCode(), "CANCEL: the stream is cut, not the connection");
            assertTrue(node.node()
                            .metrics()
                            .counter("flotilla.timeouts.client_write")
                            .getCount()
                    >= 1);
            h2.headers(3, H2Client.get("/small", "a.test"), true).flush();
            assertEquals("small", h2.response(3).bodyText());
        }
    }
}
