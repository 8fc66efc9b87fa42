package io.flotilla.node.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.decoder.Decoder;
import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import com.aayushatharva.brotli4j.decoder.DirectDecompress;
import com.github.luben.zstd.ZstdInputStream;
import io.flotilla.node.testing.ExternalTool;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Response compression end to end: a real node in front of a scripted origin and over a static
 * directory, read by curl (which decodes gzip, br and zstd itself) and by the JDK's HTTP client,
 * whose bodies are decoded here with the JDK's gzip and the brotli and zstd bindings.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompressionTest {
    /** What the origin answers for one path. */
    record Reply(int status, Map<String, String> headers, byte[] body) {}

    private static final byte[] PAGE = page(20_000);
    private static final int LARGE = 32 << 20;
    private final Map<String, Function<TestOrigin.Received, Reply>> script = new ConcurrentHashMap<>();
    private final AtomicLong originWrote = new AtomicLong();
    /** How far the cache's clock is ahead of the wall clock. */
    private final AtomicLong ahead = new AtomicLong();

    private TestOrigin origin;
    private TestNode node;
    private HttpClient client;
    private Path dir;

    @BeforeAll
    void start(@TempDir Path temp) throws Exception {
        dir = temp;
        origin = TestOrigin.start((request, out) -> {
            String path = request.target();
            if (path.endsWith("/large")) {
                writeLarge(out, LARGE);
                return true;
            }
            Function<TestOrigin.Received, Reply> f = script.get(path.substring(path.lastIndexOf('/')));
            if (f == null) {
                TestOrigin.writeResponse(out, 404, Map.of(), new byte[0], true);
                return true;
            }
            Reply r = f.apply(request);
            boolean bodyless = request.method().equals("HEAD") || r.status() == 304;
            Map<String, String> headers = new LinkedHashMap<>(r.headers());
            if (r.status() == 304) {
                headers.put("Content-Length", "0");
            } else if (!headers.containsKey("Transfer-Encoding")) {
                headers.put("Content-Length", String.valueOf(r.body().length));
            }
            TestOrigin.writeResponse(out, r.status(), headers, r.body(), !bodyless);
            return true;
        });
        Path statics = Files.createDirectories(dir.resolve("www"));
        Files.write(statics.resolve("page.html"), PAGE);
        node = TestNode.startWith(
                "node: {name: gz, event_loops: 1, admin: 127.0.0.1:0}\n"
                        + "listeners:\n  - bind: 127.0.0.1:0\n"
                        + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                        + "compression: {gzip_level: 1, min_length: 300}\n"
                        + "routes:\n"
                        + "  - {path: /cached/, upstream: app, cache: true}\n"
                        + "  - {path: /off/, upstream: app, compression: false}\n"
                        + "  - {path: /static/, static: " + statics + "}\n"
                        + "  - {path: /, upstream: app}\n"
                        + "cache: {max_entry: 1m}\n",
                () -> System.currentTimeMillis() + ahead.get());
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        script.put(
                "/page",
                r -> new Reply(
                        200,
                        Map.of(
                                "Content-Type",
                                "text/html; charset=utf-8",
                                "ETag",
                                "\"v1\"",
                                "Vary",
                                "Origin",
                                "Accept-Ranges",
                                "bytes"),
                        PAGE));
    }

    @AfterAll
    void stop() throws Exception {
        node.close();
        origin.close();
    }

    // ---- negotiation and what every client decodes --------------------------------------------

    @Test
    void curlDecodesEachCodingItAsksFor() throws Exception {
        Path curl = ExternalTool.require("/usr/bin/curl", "curl");
        for (String[] ask : new String[][] {
            {null, "br"}, {"gzip", "gzip"}, {"br", "br"}, {"zstd", "zstd"}, {"gzip;q=0.5, zstd;q=0.8, br;q=0", "zstd"}
        }) {
            List<String> command = new ArrayList<>(List.of(
                    curl.toString(),
                    "-sS",
                    "--compressed",
                    "-D",
                    "-",
                    "-o",
                    dir.resolve("body").toString()));
            if (ask[0] != null) {
                command.addAll(List.of("-H", "Accept-Encoding: " + ask[0]));
            }
            command.add(url("/a/page"));
            String head = ExternalTool.run(Duration.ofSeconds(20), "", command).toLowerCase(Locale.ROOT);
            assertTrue(head.contains("content-encoding: " + ask[1] + "\r\n"), ask[0] + " -> " + head);
            assertArrayEquals(PAGE, Files.readAllBytes(dir.resolve("body")), "curl decoded " + ask[1]);
        }
    }

    @Test
    void qValuesStarAndRefusalsDecideAndTheJdkClientDecodes() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("gzip", "gzip");
        expected.put("gzip, deflate, br, zstd", "br"); // a browser: equal q, the server's order
        expected.put("br;q=0, *", "zstd");
        expected.put("*;q=0.1, gzip;q=0.9", "gzip");
        expected.put("gzip;q=0.5, identity", null); // identity preferred
        expected.put("br;q=0, zstd;q=0, gzip;q=0", null);
        expected.put("deflate", null);
        expected.put("x-gzip", "gzip");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            HttpResponse<byte[]> r = get("/a/page", "Accept-Encoding", e.getKey());
            assertEquals(200, r.statusCode());
            assertEquals(
                    e.getValue(), r.headers().firstValue("Content-Encoding").orElse(null), e.getKey());
            assertArrayEquals(PAGE, decode(r), e.getKey());
            assertEquals(
                    "Origin, Accept-Encoding", r.headers().firstValue("Vary").orElseThrow(), "Vary merged");
            assertEquals(
                    e.getValue() == null ? "\"v1\"" : "W/\"v1\"",
                    r.headers().firstValue("ETag").orElseThrow());
            if (e.getValue() != null) {
                assertTrue(r.headers().firstValue("Content-Length").isEmpty(), "length unknown while encoding");
                assertTrue(r.headers().firstValue("Accept-Ranges").isEmpty(), "no ranges of the encoded form");
            }
        }
        // The origin was asked for exactly the coding chosen (the cache keys variants by it).
        assertEquals("gzip", origin.last().header("accept-encoding"));
    }

    @Test
    void weakEtagStillRevalidatesTo304() throws Exception {
        script.put("/etag", r -> {
            String inm = r.header("if-none-match");
            boolean match = inm != null && inm.replace("W/", "").equals("\"e1\""); // weak comparison
            return match
                    ? new Reply(304, Map.of("ETag", "\"e1\""), new byte[0])
                    : new Reply(200, Map.of("Content-Type", "application/json", "ETag", "\"e1\""), PAGE);
        });
        HttpResponse<byte[]> first = get("/a/etag", "Accept-Encoding", "gzip");
        String etag = first.headers().firstValue("ETag").orElseThrow();
        assertEquals("W/\"e1\"", etag);
        HttpResponse<byte[]> again = get("/a/etag", "Accept-Encoding", "gzip", "If-None-Match", etag);
        assertEquals(304, again.statusCode());
        assertEquals("W/\"e1\"", again.headers().firstValue("ETag").orElseThrow(), "the 304 names the encoded form");
    }

    @Test
    void responsesThatMustNotBeEncodedAreLeftAlone() throws Exception {
        byte[] gz = gzip(PAGE);
        script.put(
                "/encoded", r -> new Reply(200, Map.of("Content-Type", "text/html", "Content-Encoding", "gzip"), gz));
        script.put(
                "/notransform",
                r -> new Reply(
                        200, Map.of("Content-Type", "text/html", "Cache-Control", "public, no-transform"), PAGE));
        script.put("/image", r -> new Reply(200, Map.of("Content-Type", "image/png"), PAGE));
        script.put("/small", r -> new Reply(200, Map.of("Content-Type", "text/plain"), new byte[299]));
        script.put("/status", r -> new Reply(500, Map.of("Content-Type", "text/html"), PAGE));

        HttpResponse<byte[]> encoded = get("/a/encoded", "Accept-Encoding", "br, gzip");
        assertEquals("gzip", encoded.headers().firstValue("Content-Encoding").orElseThrow());
        assertArrayEquals(gz, encoded.body(), "never encoded twice: the origin's bytes as they were");
        for (String path : List.of("/a/notransform", "/a/image", "/a/small", "/a/status", "/off/page")) {
            HttpResponse<byte[]> r = get(path, "Accept-Encoding", "gzip, br");
            assertTrue(r.headers().firstValue("Content-Encoding").isEmpty(), path);
            assertTrue(r.headers().firstValue("Content-Length").isPresent(), path);
        }
        assertTrue(
                get("/a/page", "Accept-Encoding", "gzip", "Cache-Control", "no-transform")
                        .headers()
                        .firstValue("Content-Encoding")
                        .isEmpty(),
                "a request's no-transform too");
        assertEquals(
                "Origin",
                get("/off/page", "Accept-Encoding", "gzip")
                        .headers()
                        .firstValue("Vary")
                        .orElseThrow(),
                "a route with compression off adds no Vary");
        // An HTTP/1.0 client has no chunked framing: identity, as NGINX's gzip_http_version 1.1.
        try (Socket s = new Socket("127.0.0.1", node.port())) {
            s.getOutputStream()
                    .write("GET /a/page HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertFalse(response.toLowerCase(Locale.ROOT).contains("content-encoding"), response.substring(0, 300));
        }
    }

    @Test
    void unknownLengthIsEncodedAndHeadGetsTheHeadersOfGet() throws Exception {
        script.put("/chunked", r -> {
            Map<String, String> h = Map.of("Content-Type", "text/plain", "Transfer-Encoding", "chunked");
            return new Reply(200, h, chunked(PAGE));
        });
        HttpResponse<byte[]> r = get("/a/chunked", "Accept-Encoding", "zstd");
        assertEquals("zstd", r.headers().firstValue("Content-Encoding").orElseThrow());
        assertArrayEquals(PAGE, decode(r));

        HttpResponse<byte[]> get = get("/a/page", "Accept-Encoding", "br");
        HttpResponse<Void> head = client.send(
                HttpRequest.newBuilder(URI.create(url("/a/page")))
                        .method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .header("Accept-Encoding", "br")
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        for (String field : List.of("Content-Encoding", "Vary", "ETag", "Content-Length", "Content-Type")) {
            assertEquals(get.headers().firstValue(field), head.headers().firstValue(field), field);
        }
    }

    @Test
    void rangeRequestsGetIdentityRanges() throws Exception {
        script.put("/ranged", r -> {
            String range = r.header("range");
            if (range == null) {
                return new Reply(200, Map.of("Content-Type", "text/plain", "Accept-Ranges", "bytes"), PAGE);
            }
            assertEquals("identity", r.header("accept-encoding"), "a range is of the identity");
            byte[] part = java.util.Arrays.copyOfRange(PAGE, 100, 200);
            return new Reply(
                    206, Map.of("Content-Type", "text/plain", "Content-Range", "bytes 100-199/" + PAGE.length), part);
        });
        HttpResponse<byte[]> r = get("/a/ranged", "Accept-Encoding", "gzip", "Range", "bytes=100-199");
        assertEquals(206, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Encoding").isEmpty());
        assertArrayEquals(java.util.Arrays.copyOfRange(PAGE, 100, 200), r.body());
    }

    // ---- static files ---------------------------------------------------------------------------

    @Test
    void staticFilesAreEncodedAsTheyAreReadAndRangesStayIdentity() throws Exception {
        HttpResponse<byte[]> r = get("/static/page.html", "Accept-Encoding", "gzip");
        assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElseThrow());
        assertArrayEquals(PAGE, decode(r));
        String etag = r.headers().firstValue("ETag").orElseThrow();
        assertTrue(etag.startsWith("W/\""), etag);
        assertEquals("Accept-Encoding", r.headers().firstValue("Vary").orElseThrow());

        HttpResponse<byte[]> notModified = get("/static/page.html", "Accept-Encoding", "gzip", "If-None-Match", etag);
        assertEquals(304, notModified.statusCode());
        assertEquals(etag, notModified.headers().firstValue("ETag").orElseThrow());

        HttpResponse<byte[]> range = get("/static/page.html", "Accept-Encoding", "gzip", "Range", "bytes=0-9");
        assertEquals(206, range.statusCode());
        assertTrue(range.headers().firstValue("Content-Encoding").isEmpty());
        assertArrayEquals(java.util.Arrays.copyOf(PAGE, 10), range.body());
    }

    // ---- the cache ------------------------------------------------------------------------------

    @Test
    void theCacheStoresEachCodingOnceAndPurgeRemovesEveryVariant() throws Exception {
        script.put(
                "/hit",
                r -> new Reply(
                        200,
                        Map.of("Content-Type", "text/css", "Cache-Control", "max-age=300", "ETag", "\"h1\""),
                        PAGE));
        long before = originCount("/cached/hit");
        HttpResponse<byte[]> gz = get("/cached/hit", "Accept-Encoding", "gzip, deflate");
        assertEquals("gzip", gz.headers().firstValue("Content-Encoding").orElseThrow());
        HttpResponse<byte[]> plain = get("/cached/hit");
        assertNull(plain.headers().firstValue("Content-Encoding").orElse(null));
        assertArrayEquals(PAGE, plain.body());
        HttpResponse<byte[]> gzHit = get("/cached/hit", "Accept-Encoding", "gzip"); // another spelling, same variant
        assertTrue(gzHit.headers().firstValue("Cache-Status").orElseThrow().contains("hit"), "a stored gzip variant");
        assertEquals("gzip", gzHit.headers().firstValue("Content-Encoding").orElseThrow());
        assertArrayEquals(gz.body(), gzHit.body(), "served as stored, not encoded again");
        assertArrayEquals(PAGE, decode(gzHit));
        assertEquals("W/\"h1\"", gzHit.headers().firstValue("ETag").orElseThrow());
        HttpResponse<byte[]> notModified = get("/cached/hit", "Accept-Encoding", "gzip", "If-None-Match", "W/\"h1\"");
        assertEquals(304, notModified.statusCode(), "the cache's own 304 for the encoded variant");
        assertEquals("W/\"h1\"", notModified.headers().firstValue("ETag").orElseThrow());
        HttpResponse<byte[]> plainHit = get("/cached/hit", "Accept-Encoding", "identity");
        assertTrue(plainHit.headers().firstValue("Cache-Status").orElseThrow().contains("hit"));
        assertArrayEquals(PAGE, plainHit.body());
        assertEquals(2, originCount("/cached/hit") - before, "one fetch per coding");

        HttpResponse<String> purged = client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.adminPort()
                                + "/cache/purge?url=http://127.0.0.1:" + node.port() + "/cached/hit"))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, purged.statusCode(), purged.body());
        assertTrue(
                get("/cached/hit", "Accept-Encoding", "gzip")
                        .headers()
                        .firstValue("Cache-Status")
                        .orElseThrow()
                        .contains("fwd="),
                "the gzip variant is gone");
        assertTrue(
                get("/cached/hit")
                        .headers()
                        .firstValue("Cache-Status")
                        .orElseThrow()
                        .contains("fwd="),
                "the identity variant is gone");
        assertEquals(4, originCount("/cached/hit") - before);
    }

    @Test
    void aBackgroundRefreshStoresTheVariantEncodedAsItsKeySays() throws Exception {
        AtomicLong versions = new AtomicLong();
        script.put(
                "/swr",
                r -> new Reply(
                        200,
                        Map.of(
                                "Content-Type",
                                "application/json",
                                "Cache-Control",
                                "max-age=30, stale-while-revalidate=120"),
                        (versions.incrementAndGet() + new String(PAGE, StandardCharsets.US_ASCII))
                                .getBytes(StandardCharsets.US_ASCII)));
        get("/cached/swr", "Accept-Encoding", "br");
        ahead.addAndGet(
                35_000); // stale, within stale-while-revalidate; the refreshed copy then stays fresh for 30 s of real
        // time
        HttpResponse<byte[]> stale = get("/cached/swr", "Accept-Encoding", "br");
        assertTrue(stale.headers().firstValue("Cache-Status").orElseThrow().contains("stale-while-revalidate"));
        long deadline = System.currentTimeMillis() + 5_000;
        HttpResponse<byte[]> refreshed;
        do {
            Thread.sleep(20);
            refreshed = get("/cached/swr", "Accept-Encoding", "br");
        } while (decode(refreshed)[0] != '2' && System.currentTimeMillis() < deadline);
        assertEquals(
                "br", refreshed.headers().firstValue("Content-Encoding").orElseThrow(), "stored encoded, as keyed");
        assertEquals('2', decode(refreshed)[0]);
        assertEquals(2, versions.get());
    }

    // ---- streaming ------------------------------------------------------------------------------

    @Test
    void aLargeBodyStreamsToASlowReaderWithBoundedMemory() throws Exception {
        int total = LARGE;
        originWrote.set(0);
        // The pool is the JVM's, and earlier tests in this fork leave chunks in use: count what this adds.
        long before = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
        try (Socket s = new Socket("127.0.0.1", node.port())) {
            s.setReceiveBufferSize(64 * 1024);
            s.getOutputStream()
                    .write("GET /a/large HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
            Thread.sleep(1500); // the client reads nothing: the relay must stop reading the origin
            long stalled = originWrote.get();
            long direct = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            // Measured: ~11 MiB, what the kernel's socket buffers on both sides hold; the node a chunk or two.
            assertTrue(stalled < 24 << 20, "the origin was held back, wrote " + stalled);
            assertTrue(direct - before < 16 << 20, "pooled direct memory in use " + direct + ", " + before + " before");
            InputStream in = s.getInputStream();
            String head = readHead(in);
            assertTrue(head.toLowerCase(Locale.ROOT).contains("content-encoding: gzip"), head);
            assertTrue(head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked"), head);
            long[] decoded = {0};
            try (InputStream body = new GZIPInputStream(new ChunkedStream(in), 65536)) {
                byte[] buf = new byte[65536];
                int n;
                while ((n = body.readNBytes(buf, 0, buf.length)) > 0) {
                    for (int i = 0; i < n; i++) {
                        if (buf[i] != LETTERS[(int) ((decoded[0] + i) % LETTERS.length)]) {
                            throw new AssertionError("byte " + (decoded[0] + i) + " differs");
                        }
                    }
                    decoded[0] += n;
                }
            }
            assertEquals(total, decoded[0]);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    private String url(String path) {
        return "http://127.0.0.1:" + node.port() + path;
    }

    private HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private long originCount(String path) {
        return origin.received().stream().filter(r -> r.target().equals(path)).count();
    }

    static byte[] decode(HttpResponse<byte[]> r) throws IOException {
        String coding = r.headers().firstValue("Content-Encoding").orElse("identity");
        byte[] body = r.body();
        switch (coding) {
            case "gzip":
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
                    return in.readAllBytes();
                }
            case "br":
                Brotli4jLoader.ensureAvailability();
                DirectDecompress d = Decoder.decompress(body);
                assertEquals(DecoderJNI.Status.DONE, d.getResultStatus());
                return d.getDecompressedData();
            case "zstd":
                try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(body))) {
                    return in.readAllBytes();
                }
            case "identity":
                return body;
            default:
                throw new AssertionError("unexpected coding " + coding);
        }
    }

    /** Text that compresses as pages do (about 4:1 with gzip), not as a run of one byte would. */
    static byte[] page(int size) {
        StringBuilder b = new StringBuilder(size + 100);
        Random random = new Random(1);
        String[] words = {
            "flotilla",
            "proxy",
            "node",
            "fleet",
            "cache",
            "route",
            "<div class=\"item\">",
            "</div>\n",
            "upstream",
            "request",
            "response",
            "compression",
            "the",
            "a",
            "of",
            "and",
            "{\"id\":",
            "},\n"
        };
        while (b.length() < size) {
            b.append(words[random.nextInt(words.length)])
                    .append(random.nextInt(1000))
                    .append(' ');
        }
        return b.substring(0, size).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] gzip(byte[] data) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] chunked(byte[] data) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < data.length; i += 4096) {
            int n = Math.min(4096, data.length - i);
            out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(data, i, n);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /**
     * Seeded random letters, repeated: gzip gets them to about 60% (the repeats are beyond its
     * window), so the encoded body is nearly as large as the origin's.
     */
    private static final byte[] LETTERS = letters(1 << 20);

    private static byte[] letters(int n) {
        Random random = new Random(7);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + random.nextInt(26));
        }
        return b;
    }

    /** {@code total} seeded letters, chunked in 64 KiB parts, counting what the origin got to write. */
    private void writeLarge(OutputStream out, int total) throws IOException {
        out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        int part = 65536;
        for (int sent = 0; sent < total; sent += part) {
            out.write((Integer.toHexString(part) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(LETTERS, sent % LETTERS.length, part);
            out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            originWrote.addAndGet(part);
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                return head.toString();
            }
        }
        throw new IOException("eof in head: " + head);
    }

    /** The body of a chunked message, without its framing. */
    static final class ChunkedStream extends InputStream {
        private final InputStream in;
        private long left;
        private boolean done;

        ChunkedStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (left == 0) {
                String line = line();
                if (line.isEmpty()) {
                    line = line(); // the CRLF after the previous chunk
                }
                left = Long.parseLong(line.trim(), 16);
                if (left == 0) {
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new IOException("eof in chunk");
            }
            left -= n;
            return n;
        }

        private String line() throws IOException {
            StringBuilder s = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (c != '\r') {
                    s.append((char) c);
                }
            }
            return s.toString();
        }
    }
}
