package io.flotilla.node.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bodies stream in both directions, in every framing, with memory bounded whatever their size. */
class StreamingTest {
    private TestOrigin origin;
    private TestNode node;

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    /** Deterministic content, so both ends can check a CRC without holding the body. */
    private static byte patternByte(long i) {
        return (byte) ('a' + (i * 7 + i / 4096) % 26);
    }

    private static long patternCrc(long length) {
        CRC32 crc = new CRC32();
        byte[] block = new byte[65536];
        for (long off = 0; off < length; off += block.length) {
            int n = (int) Math.min(block.length, length - off);
            for (int i = 0; i < n; i++) {
                block[i] = patternByte(off + i);
            }
            crc.update(block, 0, n);
        }
        return crc.getValue();
    }

    private static void writePattern(OutputStream out, long length) throws IOException {
        byte[] block = new byte[65536];
        for (long off = 0; off < length; off += block.length) {
            int n = (int) Math.min(block.length, length - off);
            for (int i = 0; i < n; i++) {
                block[i] = patternByte(off + i);
            }
            out.write(block, 0, n);
        }
        out.flush();
    }

    /** Samples the proxy JVM's pooled direct memory while a transfer runs, keeping the peak. */
    private static Thread sampler(AtomicLong peak, AtomicReference<Boolean> running) {
        Thread t = new Thread(() -> {
            while (running.get()) {
                peak.accumulateAndGet(PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory(), Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void twoGibUploadPassesWithBoundedMemory() throws Exception {
        long size = 2L * 1024 * 1024 * 1024;
        origin = TestOrigin.start(TestOrigin.ok("stored"));
        node = TestNode.inFrontOf(origin, "limits: {body: 4g}\n");
        AtomicLong peak = new AtomicLong();
        AtomicReference<Boolean> running = new AtomicReference<>(true);
        Thread sampling = sampler(peak, running);
        try (RawClient client = node.client()) {
            client.timeout(60_000);
            client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + size + "\r\n\r\n");
            writePattern(client.output(), size);
            RawClient.Response response = client.read();
            assertEquals(200, response.status());
        } finally {
            running.set(false);
            sampling.join();
        }
        TestOrigin.Received seen = origin.last();
        assertEquals(size, seen.bodyLength());
        assertEquals(patternCrc(size), seen.bodyCrc(), "every byte arrived, in order");
        // Pooled direct memory the proxy held at its peak: a few chunks, never the body.
        assertTrue(peak.get() < 64L * 1024 * 1024, "peak pooled direct memory " + peak.get());
    }

    @Test
    void chunkedUploadIsForwardedChunked() throws Exception {
        origin = TestOrigin.start(TestOrigin.ok("ok"));
        node = TestNode.inFrontOf(origin, "");
        try (RawClient client = node.client()) {
            client.send("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n");
            assertEquals(200, client.read().status());
        }
        TestOrigin.Received seen = origin.last();
        assertEquals("chunked", seen.header("Transfer-Encoding"));
        assertNull(seen.header("Content-Length"));
        assertEquals("hello world", seen.bodyText());
    }

    @Test
    void largeDownloadStreamsBeforeTheOriginFinishes() throws Exception {
        long size = 256L * 1024 * 1024;
        origin = TestOrigin.start((request, out) -> {
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            writePattern(out, size);
            return true;
        });
        node = TestNode.inFrontOf(origin, "");
        AtomicLong peak = new AtomicLong();
        AtomicReference<Boolean> running = new AtomicReference<>(true);
        Thread sampling = sampler(peak, running);
        try (RawClient client = node.client()) {
            client.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals(200, response.status());
            assertEquals(size, response.body().length);
            CRC32 crc = new CRC32();
            crc.update(response.body());
            assertEquals(patternCrc(size), crc.getValue());
        } finally {
            running.set(false);
            sampling.join();
        }
        assertTrue(peak.get() < 64L * 1024 * 1024, "peak pooled direct memory " + peak.get());
    }

    @Test
    void chunkedAndCloseDelimitedResponsesReachTheClientIntact() throws Exception {
        origin = TestOrigin.start((request, out) -> {
            if (request.target().equals("/chunked")) {
                out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                return true;
            }
            out.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end".getBytes(StandardCharsets.US_ASCII));
            return false; // close-delimited: the body ends when the origin closes
        });
        node = TestNode.inFrontOf(origin, "");
        try (RawClient client = node.client()) {
            RawClient.Response chunked = client.get("/chunked", "a");
            assertEquals("abcdefg", chunked.bodyText());
            assertEquals("chunked", chunked.header("Transfer-Encoding"));
            // A close-delimited body is re-framed as chunked so this client connection stays usable.
            RawClient.Response delimited = client.get("/close", "a");
            assertEquals("until the end", delimited.bodyText());
            assertEquals("chunked", delimited.header("Transfer-Encoding"));
            assertEquals("abcdefg", client.get("/chunked", "a").bodyText());
        }
        try (RawClient old = node.client()) {
            RawClient.Response response =
                    old.send("GET /close HTTP/1.0\r\nHost: a\r\n\r\n").read();
            assertEquals("until the end", response.bodyText(), "HTTP/1.0: close-delimited, as it came");
            assertNull(response.header("Transfer-Encoding"));
        }
    }

    @Test
    void expectContinueIsAnsweredByTheProxy() throws Exception {
        origin = TestOrigin.start(TestOrigin.ok("got it"));
        node = TestNode.inFrontOf(origin, "limits: {body: 1k}\n");
        try (RawClient client = node.client()) {
            client.send("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            String interim = readLine(client);
            assertEquals("HTTP/1.1 100 Continue", interim);
            assertEquals("", readLine(client));
            client.send("hello");
            RawClient.Response response = client.read();
            assertEquals(200, response.status());
        }
        assertNull(origin.last().header("Expect"), "the origin never sees the expectation");
        assertEquals("hello", origin.last().bodyText());
        try (RawClient client = node.client()) {
            client.send("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals(413, response.status(), "too large: refused before the body is sent");
            assertTrue(client.closedByPeer());
        }
        assertEquals(1, origin.requestCount());
        try (RawClient client = node.client()) {
            client.send("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: something-else\r\n\r\nhello");
            assertEquals(417, client.read().status());
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        origin = TestOrigin.start((request, out) -> {
            if (request.target().equals("/slow")) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            TestOrigin.writeResponse(
                    out, 200, Map.of(), ("body of " + request.target()).getBytes(), !"HEAD".equals(request.method()));
            return true;
        });
        node = TestNode.inFrontOf(origin, "");
        try (RawClient client = node.client()) {
            client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "POST /post HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"
                    + "HEAD /head HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /fast HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals("body of /slow", client.read().bodyText());
            assertEquals("body of /post", client.read().bodyText());
            RawClient.Response head = client.read(true);
            assertEquals(200, head.status());
            assertEquals("body of /fast", client.read().bodyText());
        }
        assertEquals(4, origin.requestCount());
        assertArrayEquals("xyz".getBytes(), origin.received().get(1).body());
    }

    private static String readLine(RawClient client) throws IOException {
        StringBuilder line = new StringBuilder();
        InputStream in = client.input();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }
}
