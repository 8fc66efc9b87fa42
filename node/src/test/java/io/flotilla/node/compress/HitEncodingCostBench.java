package io.flotilla.node.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.config.CompressionConfig;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What the cache decision in docs/compression.md rests on: the event loop's CPU time for a cache
 * hit served as stored (the encoded variant), against the CPU time of encoding that body once more,
 * which a cache that stored only the identity would spend on every hit. Both are thread CPU times
 * (ThreadMXBean), so other load on the machine moves them less than wall time; proportions are
 * what to read. Bounded: a fixed count of requests and encodings. Run by hand with {@link #main}
 * on the test classpath (loadtest/bench/hit-encoding-cost.sh), not under surefire, whose PARANOID
 * leak detector records a stack trace per buffer and multiplies both figures.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class HitEncodingCostBench {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) throws Exception {
        new HitEncodingCostBench().hitAsStoredAgainstEncodingPerHit();
        levels();
    }

    /** CPU and size per level for a 64 KiB page: what the default levels were chosen from. */
    static void levels() {
        byte[] body = CompressionTest.page(64 * 1024);
        int[][] sweep = {{1, 4, 5, 6, 9}, {1, 3, 4, 5, 6}, {1, 3, 6}};
        Coding[] codings = {Coding.GZIP, Coding.BR, Coding.ZSTD};
        for (int c = 0; c < codings.length; c++) {
            for (int level : sweep[c]) {
                CompressionConfig config = new CompressionConfig(
                        true,
                        List.of(),
                        java.util.Set.of(),
                        0,
                        c == 0 ? level : 5,
                        c == 1 ? level : 4,
                        c == 2 ? level : 3);
                ContentEncoder sized = new ContentEncoder(codings[c].newEncoder(config));
                io.netty.handler.codec.http.HttpContent out =
                        sized.encode(new DefaultLastHttpContent(Unpooled.wrappedBuffer(body)));
                int bytes = out.content().readableBytes();
                out.release();
                int times = 300;
                for (int i = 0; i < times; i++) {
                    encodeOnce(codings[c], body, config);
                }
                long before = THREADS.getCurrentThreadCpuTime();
                for (int i = 0; i < times; i++) {
                    encodeOnce(codings[c], body, config);
                }
                double micros = (THREADS.getCurrentThreadCpuTime() - before) / 1000.0 / times;
                System.out.printf(
                        Locale.ROOT,
                        "level %-4s %2d  %6.1f us per 64 KiB  %5.1f MB/s  size %5.1f%%%n",
                        codings[c].token(),
                        level,
                        micros,
                        body.length / micros,
                        100.0 * bytes / body.length);
            }
        }
    }

    @Test
    void hitAsStoredAgainstEncodingPerHit() throws Exception {
        for (int size : new int[] {1024, 64 * 1024}) {
            byte[] body = CompressionTest.page(size);
            try (TestOrigin origin = TestOrigin.start((r, out) -> {
                        TestOrigin.writeResponse(
                                out,
                                200,
                                Map.of("Content-Type", "text/html", "Cache-Control", "max-age=600"),
                                body,
                                !r.method().equals("HEAD"));
                        return true;
                    });
                    TestNode node = TestNode.start(
                            "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                                    + "compression: true\nroutes:\n  - {path: /, upstream: app, cache: true}\ncache: {max_entry: 1m}\n")) {
                for (String coding : List.of("gzip", "br", "zstd")) {
                    int requests = size > 4096 ? 4000 : 20000;
                    double hit = hitMicros(node.port(), coding, requests);
                    double encode = encodeMicros(Coding.of(coding), body, requests / 4);
                    System.out.printf(
                            Locale.ROOT,
                            "%6d B %-4s  hit as stored %7.1f us/request (event loop CPU)   "
                                    + "encode again %7.1f us (%.1fx the hit)%n",
                            size,
                            coding,
                            hit,
                            encode,
                            encode / hit);
                }
                assertEquals(3, origin.requestCount(), "one fill per coding, every other request a hit");
            }
        }
    }

    /** Event-loop CPU per keep-alive request for {@code requests} hits of the variant, after as many to warm up. */
    private static double hitMicros(int port, String coding, int requests) throws Exception {
        java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/page"))
                                .header("Accept-Encoding", coding)
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.discarding()); // the miss that stores the variant
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setTcpNoDelay(true);
            byte[] request = ("GET /page HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAccept-Encoding: " + coding
                            + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            OutputStream out = s.getOutputStream();
            InputStream in = new java.io.BufferedInputStream(s.getInputStream(), 1 << 17);
            for (int i = 0; i < requests; i++) {
                exchange(out, in, request, coding);
            }
            long before = eventLoopCpu();
            for (int i = 0; i < requests; i++) {
                exchange(out, in, request, coding);
            }
            return (eventLoopCpu() - before) / 1000.0 / requests;
        }
    }

    private static void exchange(OutputStream out, InputStream in, byte[] request, String coding) throws IOException {
        out.write(request);
        out.flush();
        StringBuilder head = new StringBuilder(512);
        while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed");
            }
            head.append((char) c);
        }
        String h = head.toString().toLowerCase(Locale.ROOT);
        int at = h.indexOf("content-length: ");
        assertTrue(at > 0 && h.contains("content-encoding: " + coding), h);
        long length = Long.parseLong(h.substring(at + 16, h.indexOf('\r', at)).trim());
        in.skipNBytes(length);
    }

    private static long eventLoopCpu() {
        long total = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("flotilla-io")) {
                total += THREADS.getThreadCpuTime(t.getId());
            }
        }
        return total;
    }

    /** This thread's CPU per encoding of {@code body} in one part, as the relay would encode a stored body. */
    private static double encodeMicros(Coding coding, byte[] body, int times) {
        for (int i = 0; i < times; i++) {
            encodeOnce(coding, body);
        }
        long before = THREADS.getCurrentThreadCpuTime();
        for (int i = 0; i < times; i++) {
            encodeOnce(coding, body);
        }
        return (THREADS.getCurrentThreadCpuTime() - before) / 1000.0 / times;
    }

    private static void encodeOnce(Coding coding, byte[] body) {
        encodeOnce(coding, body, CompressionConfig.DEFAULT);
    }

    private static void encodeOnce(Coding coding, byte[] body, CompressionConfig config) {
        ContentEncoder encoder = new ContentEncoder(coding.newEncoder(config));
        encoder.encode(new DefaultLastHttpContent(Unpooled.wrappedBuffer(body))).release();
    }
}
