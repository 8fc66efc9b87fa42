package io.flotilla.node.statics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.FileRegion;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class StaticFileResponderTest {

    private static final Instant MTIME = Instant.parse("2024-05-06T07:08:09.123Z");
    private static final String LAST_MODIFIED = "Mon, 06 May 2024 07:08:09 GMT";
    private static final String HELLO = "hello, world\n";

    // One temp dir holding both, so that JUnit's cleanup never meets a link leading out of it.
    @TempDir
    Path tmp;

    private Path root;
    private Path outside;

    private Path hello;
    private String helloTag;

    @BeforeEach
    void files() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        hello = write(root.resolve("hello.txt"), HELLO);
        helloTag = "\"" + Long.toHexString(HELLO.length()) + "-" + Long.toHexString(MTIME.toEpochMilli()) + "\"";
        Files.createDirectories(root.resolve("docs"));
        write(root.resolve("docs/index.html"), "<h1>docs</h1>");
        Files.createDirectories(root.resolve("empty-dir"));
        write(outside.resolve("secret.txt"), "secret");
    }

    @Test
    void servesFileWithAllHeadersAsFileRegion() {
        Exchange ex = exchange(request(HttpMethod.GET, "/hello.txt"));

        assertEquals(List.of("response", "region", "last"), ex.shape);
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals("text/plain; charset=utf-8", ex.header(HttpHeaderNames.CONTENT_TYPE));
        assertEquals(String.valueOf(HELLO.length()), ex.header(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals(LAST_MODIFIED, ex.header(HttpHeaderNames.LAST_MODIFIED));
        assertEquals(helloTag, ex.header(HttpHeaderNames.ETAG));
        assertTrue(ex.header(HttpHeaderNames.ETAG).matches("\"[0-9a-f]+-[0-9a-f]+\""));
        assertEquals("bytes", ex.header(HttpHeaderNames.ACCEPT_RANGES));
        Date date = DateFormatter.parseHttpDate(ex.header(HttpHeaderNames.DATE));
        assertNotNull(date);
        assertTrue(Math.abs(date.getTime() - System.currentTimeMillis()) < 5_000);
        assertNull(ex.header(HttpHeaderNames.CONNECTION));
        assertNull(ex.header(HttpHeaderNames.TRANSFER_ENCODING));
        assertEquals(0, ex.regionPosition);
        assertEquals(HELLO.length(), ex.regionCount);
        assertEquals(HELLO, ex.body());
    }

    @Test
    void releasingTheRegionClosesTheFile() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs /proc/self/fd");
        StaticFileResponder responder = new StaticFileResponder(root);
        EmbeddedChannel channel = new EmbeddedChannel(new SimpleChannelInboundHandler<HttpRequest>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, HttpRequest msg) {
                responder.respond(ctx, msg, msg.uri(), true);
            }
        });
        channel.writeInbound(request(HttpMethod.GET, "/hello.txt"));

        assertTrue(channel.readOutbound() instanceof HttpResponse);
        FileRegion region = channel.readOutbound();
        assertEquals(1, openDescriptorsTo(hello));
        region.release();
        assertEquals(0, openDescriptorsTo(hello));
        assertEquals(LastHttpContent.EMPTY_LAST_CONTENT, channel.readOutbound());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void writeOnAClosedChannelFailsWithoutLeakingTheFile() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs /proc/self/fd");
        AtomicReference<ChannelHandlerContext> context = new AtomicReference<>();
        EmbeddedChannel channel = new EmbeddedChannel(new SimpleChannelInboundHandler<Object>() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                context.set(ctx);
            }

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, Object msg) {}
        });
        channel.close().syncUninterruptibly();

        ChannelFuture future = new StaticFileResponder(root)
                .respond(context.get(), request(HttpMethod.GET, "/hello.txt"), "/hello.txt", true);
        channel.runPendingTasks();

        assertTrue(future.isDone());
        assertFalse(future.isSuccess());
        assertEquals(0, openDescriptorsTo(hello));
        assertFalse(channel.finishAndReleaseAll());
    }

    @ParameterizedTest
    @CsvSource({
        "page.html, text/html; charset=utf-8",
        "style.css, text/css; charset=utf-8",
        "app.js, text/javascript; charset=utf-8",
        "mod.mjs, text/javascript; charset=utf-8",
        "data.json, application/json",
        "notes.txt, text/plain; charset=utf-8",
        "feed.xml, application/xml",
        "logo.svg, image/svg+xml",
        "a.png, image/png",
        "a.jpg, image/jpeg",
        "a.jpeg, image/jpeg",
        "a.gif, image/gif",
        "a.webp, image/webp",
        "favicon.ico, image/vnd.microsoft.icon",
        "f.woff, font/woff",
        "f.woff2, font/woff2",
        "m.wasm, application/wasm",
        "d.pdf, application/pdf",
        "v.mp4, video/mp4",
        "SHOUT.PNG, image/png",
        "archive.tar.gz, application/octet-stream",
        "README, application/octet-stream",
    })
    void contentTypeFollowsTheExtension(String name, String type) throws IOException {
        write(root.resolve(name), "x");
        Exchange ex = exchange(request(HttpMethod.GET, "/" + name));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals(type, ex.header(HttpHeaderNames.CONTENT_TYPE));
    }

    @Test
    void headSendsTheSameHeadersWithoutBody() {
        Exchange get = exchange(request(HttpMethod.GET, "/hello.txt"));
        Exchange head = exchange(request(HttpMethod.HEAD, "/hello.txt"));

        assertEquals(List.of("response", "last"), head.shape);
        assertEquals(HttpResponseStatus.OK, head.response.status());
        for (CharSequence name : List.of(
                HttpHeaderNames.CONTENT_TYPE,
                HttpHeaderNames.CONTENT_LENGTH,
                HttpHeaderNames.LAST_MODIFIED,
                HttpHeaderNames.ETAG,
                HttpHeaderNames.ACCEPT_RANGES)) {
            assertEquals(get.header(name), head.header(name), name.toString());
        }
        assertEquals(0, head.body.length);
    }

    @Test
    void connectionCloseWhenNotKeepingAlive() {
        Exchange ex = exchange(request(HttpMethod.GET, "/hello.txt"), "", false);
        assertEquals("close", ex.header(HttpHeaderNames.CONNECTION));
        Exchange missing = exchange(request(HttpMethod.GET, "/missing"), "", false);
        assertEquals("close", missing.header(HttpHeaderNames.CONNECTION));
    }

    @Test
    void http10KeepAliveIsAnnounced() {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/hello.txt");
        Exchange ex = exchange(request, "", true);
        assertEquals("keep-alive", ex.header(HttpHeaderNames.CONNECTION));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "HELLO_TAG",
                "\"other\", HELLO_TAG",
                "W/HELLO_TAG",
                "\"a\",W/\"b\" ,  HELLO_TAG",
                "*",
            })
    void ifNoneMatchGives304(String value) {
        Exchange ex = exchange(request(
                HttpMethod.GET, "/hello.txt", HttpHeaderNames.IF_NONE_MATCH, value.replace("HELLO_TAG", helloTag)));
        assertNotModified(ex);
    }

    @Test
    void ifNoneMatchOnHeadGives304() {
        assertNotModified(exchange(request(HttpMethod.HEAD, "/hello.txt", HttpHeaderNames.IF_NONE_MATCH, helloTag)));
    }

    @Test
    void ifNoneMatchMismatchServesTheFileEvenIfItWasNotModifiedSince() {
        Exchange ex = exchange(request(
                HttpMethod.GET,
                "/hello.txt",
                HttpHeaderNames.IF_NONE_MATCH,
                "\"stale\"",
                HttpHeaderNames.IF_MODIFIED_SINCE,
                LAST_MODIFIED));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals(HELLO, ex.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {LAST_MODIFIED, "Tue, 07 May 2024 00:00:00 GMT"})
    void ifModifiedSinceNotModifiedGives304(String since) {
        assertNotModified(exchange(request(HttpMethod.GET, "/hello.txt", HttpHeaderNames.IF_MODIFIED_SINCE, since)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Mon, 06 May 2024 07:08:08 GMT", "yesterday"})
    void ifModifiedSinceOlderOrInvalidServesTheFile(String since) {
        Exchange ex = exchange(request(HttpMethod.GET, "/hello.txt", HttpHeaderNames.IF_MODIFIED_SINCE, since));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals(HELLO, ex.body());
    }

    @Test
    void ifMatchMismatchGives412() {
        Exchange ex = exchange(request(HttpMethod.GET, "/hello.txt", HttpHeaderNames.IF_MATCH, "\"other\""));
        assertEquals(HttpResponseStatus.PRECONDITION_FAILED, ex.response.status());
        assertEquals(List.of("full"), ex.shape);
    }

    @Test
    void ifMatchUsesStrongComparison() {
        Exchange ex = exchange(request(HttpMethod.GET, "/hello.txt", HttpHeaderNames.IF_MATCH, "W/" + helloTag));
        assertEquals(HttpResponseStatus.PRECONDITION_FAILED, ex.response.status());
    }

    @ParameterizedTest
    @ValueSource(strings = {"HELLO_TAG", "\"x\", HELLO_TAG", "*"})
    void ifMatchMatchServesTheFile(String value) {
        Exchange ex = exchange(
                request(HttpMethod.GET, "/hello.txt", HttpHeaderNames.IF_MATCH, value.replace("HELLO_TAG", helloTag)));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals(HELLO, ex.body());
    }

    @Test
    void ifUnmodifiedSinceBeforeTheChangeGives412() {
        Exchange ex = exchange(request(
                HttpMethod.GET, "/hello.txt", HttpHeaderNames.IF_UNMODIFIED_SINCE, "Mon, 06 May 2024 07:08:08 GMT"));
        assertEquals(HttpResponseStatus.PRECONDITION_FAILED, ex.response.status());
        Exchange same =
                exchange(request(HttpMethod.GET, "/hello.txt", HttpHeaderNames.IF_UNMODIFIED_SINCE, LAST_MODIFIED));
        assertEquals(HttpResponseStatus.OK, same.response.status());
    }

    @Test
    void ifUnmodifiedSinceIsIgnoredWhenIfMatchIsPresent() {
        Exchange ex = exchange(request(
                HttpMethod.GET,
                "/hello.txt",
                HttpHeaderNames.IF_MATCH,
                helloTag,
                HttpHeaderNames.IF_UNMODIFIED_SINCE,
                "Mon, 06 May 2024 07:08:08 GMT"));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
    }

    @Test
    void ifMatchIsCheckedBeforeIfNoneMatch() {
        Exchange ex = exchange(request(
                HttpMethod.GET,
                "/hello.txt",
                HttpHeaderNames.IF_MATCH,
                "\"other\"",
                HttpHeaderNames.IF_NONE_MATCH,
                helloTag));
        assertEquals(HttpResponseStatus.PRECONDITION_FAILED, ex.response.status());
    }

    @ParameterizedTest
    @CsvSource({
        "bytes=0-4,       0, 4",
        "bytes=7-,        7, 12",
        "bytes=-6,        7, 12",
        "bytes=3-3,       3, 3",
        "bytes=2-1000,    2, 12",
        "bytes=-1000,     0, 12",
        "BYTES=1-2,       1, 2",
        "'bytes= 1-2 ,',  1, 2",
        "bytes=0-99999999999999999999999, 0, 12",
    })
    void singleRangeGives206(String range, long first, long last) {
        Exchange ex = exchange(request(HttpMethod.GET, "/hello.txt", HttpHeaderNames.RANGE, range));

        assertEquals(HttpResponseStatus.PARTIAL_CONTENT, ex.response.status());
        assertEquals(List.of("response", "region", "last"), ex.shape);
        assertEquals("bytes " + first + "-" + last + "/" + HELLO.length(), ex.header(HttpHeaderNames.CONTENT_RANGE));
        assertEquals(String.valueOf(last - first + 1), ex.header(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals(helloTag, ex.header(HttpHeaderNames.ETAG));
        assertEquals(first, ex.regionPosition);
        assertEquals(last - first + 1, ex.regionCount);
        assertEquals(HELLO.substring((int) first, (int) last + 1), ex.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=13-", "bytes=100-200", "bytes=-0", "bytes=99999999999999999999999-"})
    void unsatisfiableRangeGives416(String range) {
        Exchange ex = exchange(request(HttpMethod.GET, "/hello.txt", HttpHeaderNames.RANGE, range));
        assertEquals(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, ex.response.status());
        assertEquals("bytes */" + HELLO.length(), ex.header(HttpHeaderNames.CONTENT_RANGE));
        assertEquals(List.of("full"), ex.shape);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "bytes=0-1,3-4",
                "bytes=0-1, -2",
                "bytes=5-2",
                "bytes=abc",
                "bytes=1-2x",
                "bytes=-",
                "bytes=",
                "bytes=+1-2",
                "items=0-1",
                "bytes 0-1",
            })
    void multipleOrInvalidRangesServeTheWholeFile(String range) {
        Exchange ex = exchange(request(HttpMethod.GET, "/hello.txt", HttpHeaderNames.RANGE, range));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertNull(ex.header(HttpHeaderNames.CONTENT_RANGE));
        assertEquals(HELLO, ex.body());
    }

    @Test
    void headIgnoresRange() {
        Exchange ex = exchange(request(HttpMethod.HEAD, "/hello.txt", HttpHeaderNames.RANGE, "bytes=0-1"));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals(String.valueOf(HELLO.length()), ex.header(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals(List.of("response", "last"), ex.shape);
    }

    @ParameterizedTest
    @ValueSource(strings = {"HELLO_TAG", LAST_MODIFIED})
    void ifRangeMatchingAppliesTheRange(String ifRange) {
        Exchange ex = exchange(request(
                HttpMethod.GET,
                "/hello.txt",
                HttpHeaderNames.RANGE,
                "bytes=0-4",
                HttpHeaderNames.IF_RANGE,
                ifRange.replace("HELLO_TAG", helloTag)));
        assertEquals(HttpResponseStatus.PARTIAL_CONTENT, ex.response.status());
        assertEquals("hello", ex.body());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "\"other\"",
                "W/HELLO_TAG",
                "Mon, 06 May 2024 07:08:08 GMT",
                "Tue, 07 May 2024 00:00:00 GMT",
                "garbage"
            })
    void ifRangeMismatchServesTheWholeFile(String ifRange) {
        Exchange ex = exchange(request(
                HttpMethod.GET,
                "/hello.txt",
                HttpHeaderNames.RANGE,
                "bytes=0-4",
                HttpHeaderNames.IF_RANGE,
                ifRange.replace("HELLO_TAG", helloTag)));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals(HELLO, ex.body());
    }

    @Test
    void emptyFileHasNoRegionAndIgnoresRange() throws IOException {
        write(root.resolve("empty.txt"), "");
        Exchange ex = exchange(request(HttpMethod.GET, "/empty.txt", HttpHeaderNames.RANGE, "bytes=-5"));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals("0", ex.header(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals(List.of("response", "last"), ex.shape);
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
    void otherMethodsGive405(String method) {
        Exchange ex = exchange(request(HttpMethod.valueOf(method), "/hello.txt"));
        assertEquals(HttpResponseStatus.METHOD_NOT_ALLOWED, ex.response.status());
        assertEquals("GET, HEAD", ex.header(HttpHeaderNames.ALLOW));
        assertEquals("text/plain; charset=utf-8", ex.header(HttpHeaderNames.CONTENT_TYPE));
        assertEquals("405 Method Not Allowed\n", ex.body());
        assertEquals(String.valueOf(ex.body.length), ex.header(HttpHeaderNames.CONTENT_LENGTH));
    }

    @Test
    void directoryWithoutSlashIsRedirectedKeepingPrefixAndQuery() {
        Exchange ex = exchange(request(HttpMethod.GET, "/static/docs?lang=en"), "/static", true);
        assertEquals(HttpResponseStatus.MOVED_PERMANENTLY, ex.response.status());
        assertEquals("/static/docs/?lang=en", ex.header(HttpHeaderNames.LOCATION));
    }

    @Test
    void redirectKeepsTheEncodedPath() throws IOException {
        Files.createDirectories(root.resolve("a b"));
        Exchange ex = exchange(request(HttpMethod.GET, "/a%20b"));
        assertEquals(HttpResponseStatus.MOVED_PERMANENTLY, ex.response.status());
        assertEquals("/a%20b/", ex.header(HttpHeaderNames.LOCATION));
    }

    @Test
    void routeRootWithoutSlashIsRedirected() {
        Exchange ex = exchange(request(HttpMethod.GET, "/static"), "/static", true);
        assertEquals(HttpResponseStatus.MOVED_PERMANENTLY, ex.response.status());
        assertEquals("/static/", ex.header(HttpHeaderNames.LOCATION));
    }

    @Test
    void redirectNeverPointsToAnotherHost() throws IOException {
        Files.createDirectories(root.resolve("evil.example"));
        Exchange ex = exchange(request(HttpMethod.GET, "//evil.example"));
        assertEquals(HttpResponseStatus.MOVED_PERMANENTLY, ex.response.status());
        assertEquals("/evil.example/", ex.header(HttpHeaderNames.LOCATION));
    }

    @Test
    void directoryWithSlashServesItsIndex() {
        Exchange ex = exchange(request(HttpMethod.GET, "/docs/"));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals("text/html; charset=utf-8", ex.header(HttpHeaderNames.CONTENT_TYPE));
        assertEquals("<h1>docs</h1>", ex.body());
    }

    @Test
    void rootServesItsIndex() throws IOException {
        write(root.resolve("index.html"), "home");
        Exchange ex = exchange(request(HttpMethod.GET, "/"));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals("home", ex.body());
    }

    @Test
    void directoryWithoutIndexIsNotListed() {
        Exchange ex = exchange(request(HttpMethod.GET, "/empty-dir/"));
        assertEquals(HttpResponseStatus.NOT_FOUND, ex.response.status());
        assertEquals("404 Not Found\n", ex.body());
    }

    @Test
    void fileWithTrailingSlashIsNotFound() {
        assertEquals(
                HttpResponseStatus.NOT_FOUND,
                exchange(request(HttpMethod.GET, "/hello.txt/")).response.status());
    }

    @Test
    void missingFileGives404WithTextBody() {
        Exchange ex = exchange(request(HttpMethod.GET, "/nope.txt"));
        assertEquals(HttpResponseStatus.NOT_FOUND, ex.response.status());
        assertEquals(List.of("full"), ex.shape);
        assertEquals("text/plain; charset=utf-8", ex.header(HttpHeaderNames.CONTENT_TYPE));
        assertEquals("404 Not Found\n", ex.body());
        assertNotNull(ex.header(HttpHeaderNames.DATE));
    }

    @Test
    void headOfMissingFileHasNoBody() {
        Exchange ex = exchange(request(HttpMethod.HEAD, "/nope.txt"));
        assertEquals(HttpResponseStatus.NOT_FOUND, ex.response.status());
        assertEquals(0, ex.body.length);
        assertEquals(String.valueOf("404 Not Found\n".length()), ex.header(HttpHeaderNames.CONTENT_LENGTH));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/../etc/passwd",
                "/%2e%2e/x",
                "/%2E%2e/x",
                "/a/%2e%2e/%2e%2e/x",
                "/docs/../hello.txt",
                "/./hello.txt",
                "/%2e/hello.txt",
                "/..%2fx",
                "/docs%2findex.html",
                "/docs%2Findex.html",
                "/\\..\\",
                "/%5c..%5chello.txt",
                "/hello.txt%00",
                "/a%00b",
                "/%c0%ae%c0%ae/x",
                "/%ff",
                "/%zz",
                "/abc%2",
                "/abc%",
                "hello.txt",
            })
    void unsafeOrMalformedPathsGive400(String path) {
        Exchange ex = exchange(request(HttpMethod.GET, path));
        assertEquals(HttpResponseStatus.BAD_REQUEST, ex.response.status(), path);
        assertEquals("400 Bad Request\n", ex.body());
    }

    @Test
    void decodesPercentEncodedUtf8() throws IOException {
        try {
            write(root.resolve("caf\u00e9 menu.txt"), "menu");
        } catch (InvalidPathException e) {
            assumeTrue(false, "the platform encoding cannot name non-ASCII files");
        }
        Exchange ex = exchange(request(HttpMethod.GET, "/caf%C3%A9%20menu.txt"));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals("menu", ex.body());
    }

    @Test
    void symlinkPointingOutsideIsNotFound() throws IOException {
        Files.createSymbolicLink(root.resolve("escape.txt"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(root.resolve("escape-dir"), outside);
        write(outside.resolve("index.html"), "outside index");

        assertEquals(
                HttpResponseStatus.NOT_FOUND,
                exchange(request(HttpMethod.GET, "/escape.txt")).response.status());
        assertEquals(
                HttpResponseStatus.NOT_FOUND,
                exchange(request(HttpMethod.GET, "/escape-dir/secret.txt"))
                        .response
                        .status());
        assertEquals(
                HttpResponseStatus.NOT_FOUND,
                exchange(request(HttpMethod.GET, "/escape-dir/")).response.status());
        assertEquals(
                HttpResponseStatus.NOT_FOUND,
                exchange(request(HttpMethod.GET, "/escape-dir")).response.status());
    }

    @Test
    void indexSymlinkPointingOutsideIsNotFound() throws IOException {
        Files.createDirectories(root.resolve("trap"));
        Files.createSymbolicLink(root.resolve("trap/index.html"), outside.resolve("secret.txt"));
        assertEquals(
                HttpResponseStatus.NOT_FOUND,
                exchange(request(HttpMethod.GET, "/trap/")).response.status());
    }

    @Test
    void symlinkPointingInsideIsServed() throws IOException {
        Files.createSymbolicLink(root.resolve("alias.txt"), Path.of("hello.txt"));
        Files.createSymbolicLink(root.resolve("manual"), root.resolve("docs"));

        Exchange ex = exchange(request(HttpMethod.GET, "/alias.txt"));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals(HELLO, ex.body());
        Exchange index = exchange(request(HttpMethod.GET, "/manual/"));
        assertEquals(HttpResponseStatus.OK, index.response.status());
        assertEquals("<h1>docs</h1>", index.body());
    }

    @Test
    void rootMayItselfBeASymlink() throws IOException {
        Path link = outside.resolve("root-link");
        Files.createSymbolicLink(link, root);
        Exchange ex = exchange(new StaticFileResponder(link), request(HttpMethod.GET, "/hello.txt"), "", true);
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals(HELLO, ex.body());
    }

    @Test
    void hiddenFilesAreServed() throws IOException {
        write(root.resolve(".well-known"), "hidden");
        Exchange ex = exchange(request(HttpMethod.GET, "/.well-known"));
        assertEquals(HttpResponseStatus.OK, ex.response.status());
        assertEquals("hidden", ex.body());
    }

    @Test
    void unreadableFileGives403() throws IOException {
        Path locked = write(root.resolve("locked.txt"), "locked");
        try {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        } catch (UnsupportedOperationException e) {
            assumeTrue(false, "needs POSIX permissions");
        }
        assumeFalse(Files.isReadable(locked), "the test user (root?) can read a file with mode 000");

        Exchange ex = exchange(request(HttpMethod.GET, "/locked.txt"));
        assertEquals(HttpResponseStatus.FORBIDDEN, ex.response.status());
        assertEquals("403 Forbidden\n", ex.body());
    }

    @Test
    void specialFilesAreNotOpened() throws Exception {
        Path fifo = root.resolve("pipe");
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        } catch (IOException e) {
            assumeTrue(false, "needs mkfifo");
            return;
        }
        assumeTrue(mkfifo.waitFor() == 0 && Files.exists(fifo), "mkfifo failed");

        assertEquals(
                HttpResponseStatus.NOT_FOUND,
                exchange(request(HttpMethod.GET, "/pipe")).response.status());
    }

    @Test
    void rootMustBeADirectory() {
        assertThrows(IllegalArgumentException.class, () -> new StaticFileResponder(hello));
        assertThrows(UncheckedIOException.class, () -> new StaticFileResponder(root.resolve("missing")));
    }

    @Test
    void bodyOfRangeMatchesTheBytesOnDisk() throws IOException {
        byte[] bytes = new byte[256];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        Files.write(root.resolve("bytes.bin"), bytes);
        Exchange ex = exchange(request(HttpMethod.GET, "/bytes.bin", HttpHeaderNames.RANGE, "bytes=250-"));
        assertEquals(HttpResponseStatus.PARTIAL_CONTENT, ex.response.status());
        assertEquals("application/octet-stream", ex.header(HttpHeaderNames.CONTENT_TYPE));
        assertArrayEquals(new byte[] {(byte) 250, (byte) 251, (byte) 252, (byte) 253, (byte) 254, (byte) 255}, ex.body);
    }

    private static void assertNotModified(Exchange ex) {
        assertEquals(HttpResponseStatus.NOT_MODIFIED, ex.response.status());
        assertEquals(List.of("response", "last"), ex.shape);
        assertNotNull(ex.header(HttpHeaderNames.ETAG));
        assertEquals(LAST_MODIFIED, ex.header(HttpHeaderNames.LAST_MODIFIED));
        assertNotNull(ex.header(HttpHeaderNames.DATE));
        assertNull(ex.header(HttpHeaderNames.CONTENT_LENGTH));
        assertNull(ex.header(HttpHeaderNames.CONTENT_TYPE));
        assertEquals(0, ex.body.length);
    }

    private static HttpRequest request(HttpMethod method, String uri, CharSequence... headers) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        for (int i = 0; i < headers.length; i += 2) {
            request.headers().add(headers[i], headers[i + 1]);
        }
        return request;
    }

    private static Path write(Path file, String content) throws IOException {
        Files.writeString(file, content, StandardCharsets.UTF_8);
        Files.setLastModifiedTime(file, FileTime.from(MTIME));
        return file;
    }

    private Exchange exchange(HttpRequest request) {
        return exchange(request, "", true);
    }

    private Exchange exchange(HttpRequest request, String routePrefix, boolean keepAlive) {
        return exchange(new StaticFileResponder(root), request, routePrefix, keepAlive);
    }

    /** Runs one request through an EmbeddedChannel and collects, then releases, everything written back. */
    private static Exchange exchange(
            StaticFileResponder responder, HttpRequest request, String routePrefix, boolean keepAlive) {
        EmbeddedChannel channel = new EmbeddedChannel(new SimpleChannelInboundHandler<HttpRequest>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, HttpRequest msg) {
                String uri = msg.uri();
                int query = uri.indexOf('?');
                String path = (query < 0 ? uri : uri.substring(0, query)).substring(routePrefix.length());
                responder.respond(ctx, msg, path, keepAlive);
            }
        });
        channel.writeInbound(request);

        Exchange ex = new Exchange();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Object msg;
        while ((msg = channel.readOutbound()) != null) {
            try {
                if (msg instanceof FullHttpResponse full) {
                    ex.shape.add("full");
                    ex.response = full;
                    full.content()
                            .getBytes(
                                    full.content().readerIndex(),
                                    body,
                                    full.content().readableBytes());
                } else if (msg instanceof HttpResponse response) {
                    ex.shape.add("response");
                    ex.response = response;
                } else if (msg instanceof FileRegion region) {
                    ex.shape.add("region");
                    ex.regionPosition = region.position();
                    ex.regionCount = region.count();
                    WritableByteChannel sink = Channels.newChannel(body);
                    long done = 0;
                    while (done < region.count()) {
                        done += region.transferTo(sink, done);
                    }
                } else if (msg == LastHttpContent.EMPTY_LAST_CONTENT) {
                    ex.shape.add("last");
                } else {
                    ex.shape.add(msg.getClass().getSimpleName());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
        ex.body = body.toByteArray();
        assertFalse(channel.finishAndReleaseAll());
        return ex;
    }

    /** How many descriptors of this process are open on {@code file}. */
    private static long openDescriptorsTo(Path file) throws IOException {
        Path real = file.toRealPath();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                        try {
                            return Files.readSymbolicLink(fd).equals(real);
                        } catch (IOException e) {
                            return false;
                        }
                    })
                    .count();
        }
    }

    private static final class Exchange {
        final List<String> shape = new ArrayList<>();
        HttpResponse response;
        byte[] body;
        long regionPosition = -1;
        long regionCount = -1;

        String header(CharSequence name) {
            return response.headers().get(name);
        }

        String body() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }
}
