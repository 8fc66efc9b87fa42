package io.flotilla.node.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Malformed and smuggling requests sent as raw bytes (RFC 9112 strict parsing): each gets its exact status
 * and a closed connection, and the origin receives nothing smuggled.
 */
class SmugglingTest {
    private static final String LIMITS =
            "limits: {request_line: 256, header_line: 256, headers_total: 1k, header_count: 10, body: 1k}\n";
    /** The valid request that precedes an attack on the same connection. */
    private static final String FIRST = "GET /first HTTP/1.1\r\nHost: a\r\n\r\n";
    /** What an attack tries to slip past the proxy inside another request. */
    private static final String SMUGGLED = "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n";
    /** Marks where a request is cut into two writes; never part of a payload. */
    private static final char CUT = '|';
    /** How long the origin is given to record anything the proxy may have sent it. */
    private static final long SETTLE_MS = 50;

    private TestOrigin origin;
    private TestNode node;

    @BeforeEach
    void start() throws Exception {
        origin = TestOrigin.start();
        node = TestNode.inFrontOf(origin, LIMITS);
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
        origin.close();
    }

    // ---- the corpus -----------------------------------------------------------------------------

    static Stream<Arguments> refused() {
        List<Arguments> cases = new ArrayList<>();

        // RFC 9112 §6.1, §6.3: Content-Length with Transfer-Encoding is the root of CL.TE and TE.CL.
        String clTeBody = "0\r\n\r\n" + SMUGGLED;
        cases.add(bad(
                "CL.TE: Content-Length counts a smuggled request after the last chunk",
                post("Content-Length: " + clTeBody.length(), "Transfer-Encoding: chunked") + clTeBody));
        String hex = Integer.toHexString(SMUGGLED.length());
        cases.add(bad(
                "TE.CL: Content-Length stops inside the first chunk, which holds a smuggled request",
                post("Transfer-Encoding: chunked", "Content-Length: " + (hex.length() + 2)) + hex + "\r\n" + SMUGGLED
                        + "\r\n0\r\n\r\n"));
        cases.add(bad(
                "TE.TE: a second Transfer-Encoding hides chunked from one reader",
                post("Content-Length: 4", "Transfer-Encoding: chunked", "Transfer-encoding: x") + "0\r\n\r\n"
                        + SMUGGLED));
        cases.add(bad(
                "CL and TE in HTTP/1.0",
                req("POST / HTTP/1.0", "Content-Length: 5", "Transfer-Encoding: chunked") + "0\r\n\r\n"));

        // RFC 9110 §8.6, RFC 9112 §6.3 item 5: an invalid Content-Length is an unrecoverable framing error.
        cases.add(bad("two differing Content-Length", post("Content-Length: 5", "Content-Length: 40") + "hello"));
        cases.add(bad("two equal Content-Length", post("Content-Length: 5", "Content-Length: 5") + "hello"));
        cases.add(bad(
                "two differing Content-Length in HTTP/1.0",
                req("POST / HTTP/1.0", "Content-Length: 5", "Content-Length: 40") + "hello" + SMUGGLED));
        cases.add(bad(
                "two Content-Length in HTTP/1.0, cased differently",
                req("POST / HTTP/1.0", "Content-Length: 40", "content-length: 5") + "hello" + SMUGGLED));
        cases.add(bad("Content-Length: 1, 2", post("Content-Length: 1, 2") + "hi"));
        cases.add(bad("Content-Length: 5, 5", post("Content-Length: 5, 5") + "hello"));
        for (String value :
                new String[] {"+5", "-1", "0x10", " 5 5", "5a", "five", "", "1.0", "99999999999999999999999"}) {
            cases.add(bad("Content-Length: '" + value + "'", post("Content-Length: " + value) + "hello"));
        }

        // RFC 9112 §6.1, §6.3 item 4: chunked must be the final coding, exactly once, spelled exactly.
        cases.add(bad("Transfer-Encoding: gzip", post("Transfer-Encoding: gzip") + "hello"));
        cases.add(bad("Transfer-Encoding: identity", post("Transfer-Encoding: identity") + "hello"));
        cases.add(bad("Transfer-Encoding: chunked, gzip", post("Transfer-Encoding: chunked, gzip") + "0\r\n\r\n"));
        cases.add(
                bad("Transfer-Encoding: chunked, chunked", post("Transfer-Encoding: chunked, chunked") + "0\r\n\r\n"));
        cases.add(bad("Transfer-Encoding: xchunked", post("Transfer-Encoding: xchunked") + "0\r\n\r\n"));
        cases.add(bad("Transfer-Encoding: chunkedx", post("Transfer-Encoding: chunkedx") + "0\r\n\r\n"));
        cases.add(bad("Transfer-Encoding: \"chunked\"", post("Transfer-Encoding: \"chunked\"") + "0\r\n\r\n"));
        cases.add(bad("Transfer-Encoding: VT before chunked", post("Transfer-Encoding: \u000bchunked") + "0\r\n\r\n"));
        cases.add(bad("Transfer-Encoding: FF before chunked", post("Transfer-Encoding: \u000cchunked") + "0\r\n\r\n"));
        cases.add(
                bad("Transfer-Encoding: NBSP before chunked", post("Transfer-Encoding: \u00a0chunked") + "0\r\n\r\n"));
        cases.add(bad(
                "Transfer-Encoding: chunked in HTTP/1.0",
                req("POST / HTTP/1.0", "Transfer-Encoding: chunked") + "0\r\n\r\n"));
        cases.add(bad(
                "Transfer-Encoding split over two lines, the last not chunked",
                post("Transfer-Encoding: chunked", "Transfer-Encoding: gzip") + "0\r\n\r\n"));
        cases.add(bad(
                "Transfer-Encoding split over two lines, the first not chunked, with Content-Length",
                post("Content-Length: 5", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked") + "0\r\n\r\n"
                        + SMUGGLED));
        // RFC 9112 §6.1: framing is sound, but a coding the proxy does not apply must not be dropped silently.
        cases.add(status(
                501,
                "Transfer-Encoding split over two lines, the first not chunked",
                post("Transfer-Encoding: gzip", "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n"));
        cases.add(status(
                501,
                "Transfer-Encoding: gzip, chunked",
                post("Transfer-Encoding: gzip, chunked") + "5\r\nhello\r\n0\r\n\r\n"));

        // RFC 9112 §7.1: chunk-size = 1*HEXDIG, chunk lines end in CRLF, chunk data is exactly chunk-size octets.
        cases.add(bad("chunk size not hex", chunked("g\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("chunk size negative", chunked("-5\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("chunk size 0x5", chunked("0x5\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("chunk size 0x", chunked("0x\r\n\r\n")));
        cases.add(bad("chunk size empty", chunked("\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("chunk size overflowing", chunked("ffffffffffffffffff\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("chunk size with leading space", chunked(" 5\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("chunk extension with a slash in its name", chunked("5;a/b\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("chunk extension with a space in its value", chunked("5;a=b c\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("chunk extension with an unterminated quoted value", chunked("5;a=\"b\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("chunk extension with a control char", chunked("5;a\u0001\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("no CRLF after chunk data", chunked("5\r\nhello0\r\n\r\n")));
        cases.add(bad(
                "chunk data longer than declared, a smuggled request inside",
                chunked("5\r\nhello" + SMUGGLED + "\r\n0\r\n\r\n")));
        cases.add(bad(
                "chunk data shorter than declared, the next chunk line eaten",
                chunked("8\r\nhello\r\n0\r\n\r\n" + SMUGGLED)));
        cases.add(bad("LF-only chunk size line", chunked("5\nhello\r\n0\r\n\r\n")));
        cases.add(bad("LF-only after chunk data", chunked("5\r\nhello\n0\r\n\r\n")));
        cases.add(bad("LF-only last chunk", chunked("5\r\nhello\r\n0\n\n")));
        cases.add(bad("bare CR in chunk size line", chunked("5\rX\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("CR CR LF after chunk size", chunked("5\r\r\nhello\r\n0\r\n\r\n")));
        cases.add(bad("a request hidden in the trailer section", chunked("0\r\n" + SMUGGLED)));
        cases.add(bad("NUL in a trailer", chunked("0\r\nX-T: a\u0000b\r\n\r\n")));

        // RFC 9112 §5.1: no whitespace between field name and colon.
        cases.add(bad("Host : a", req("GET / HTTP/1.1", "Host : a")));
        cases.add(bad("Content-Length : 5", post("Content-Length : 5") + "hello"));
        cases.add(bad("Transfer-Encoding : chunked", post("Transfer-Encoding : chunked") + "0\r\n\r\n"));
        cases.add(bad("tab before colon", req("GET / HTTP/1.1", "Host\t: a")));
        // RFC 9112 §5.2: obs-fold is refused, never unfolded by us and read differently behind us.
        cases.add(bad("obs-fold with SP", get("X-A: a", " b")));
        cases.add(bad("obs-fold with HT", get("X-A: a", "\tb")));
        cases.add(bad(
                "folded Transfer-Encoding", post("Transfer-Encoding:", " chunked", "Content-Length: 5") + "0\r\n\r\n"));
        cases.add(bad("whitespace before the first header line", req("GET / HTTP/1.1", " X-A: b", "Host: a")));
        // RFC 9112 §2.2: lines end in CRLF; a bare CR is refused, as is NUL.
        cases.add(bad("bare CR inside a header value", get("X-A: a\rb")));
        cases.add(bad("bare CR ending a header line", "GET / HTTP/1.1\r\nHost: a\rX-A: b\r\n\r\n"));
        cases.add(bad("bare LF line endings", "GET / HTTP/1.1\nHost: a\n\n"));
        cases.add(bad("bare LF ending one header line", "GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n"));
        cases.add(bad("bare LF ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\n"));
        cases.add(bad("NUL in a header value", get("X-A: a\u0000b")));
        cases.add(bad("NUL in the request target", req("GET /a\u0000b HTTP/1.1", "Host: a")));
        // RFC 9110 §5.5: field values are VCHAR, SP, HTAB and obs-text.
        for (char c : new char[] {0x01, 0x0b, 0x0c, 0x1b, 0x7f}) {
            cases.add(bad(String.format("control char 0x%02x in a header value", (int) c), get("X-A: a" + c + "b")));
        }
        // RFC 9110 §5.1: a field name is a token.
        cases.add(bad("header line without a colon", get("X-A")));
        cases.add(bad("empty header name", get(": a")));
        for (String name : new String[] {"X(A)", "X\"A\"", "X/A", "X@A", "X[A]", "X=A", "X,A", "\u00c4"}) {
            cases.add(bad("non-token header name " + name, get(name + ": b")));
        }

        // RFC 9112 §3.2: exactly one valid Host in HTTP/1.1.
        cases.add(bad("missing Host in HTTP/1.1", req("GET / HTTP/1.1")));
        cases.add(bad("two equal Host headers", req("GET / HTTP/1.1", "Host: a", "Host: a")));
        cases.add(bad("two differing Host headers", req("GET / HTTP/1.1", "Host: a", "Host: b")));
        for (String host : new String[] {"a b", "a@b", "a/b", "a:b", "a:123456", "[::1", "", "a\\b"}) {
            cases.add(bad("Host: '" + host + "'", req("GET / HTTP/1.1", "Host: " + host)));
        }
        // RFC 9112 §3.2.2: the authority of an absolute-form target becomes Host, so it must be one.
        cases.add(bad("absolute-form with userinfo", req("GET http://a@b/ HTTP/1.1", "Host: b")));
        cases.add(bad("absolute-form with an empty authority", req("GET http:///admin HTTP/1.1", "Host: a")));
        cases.add(bad("absolute-form with a bad IPv6 literal", req("GET http://[zz]/ HTTP/1.1", "Host: a")));
        cases.add(bad("absolute-form with a bad port", req("GET http://a:x/ HTTP/1.1", "Host: a")));
        cases.add(bad("absolute-form of another scheme", req("GET ftp://a/ HTTP/1.1", "Host: a")));

        // RFC 9112 §3: method SP request-target SP HTTP-version, with single spaces and a case-sensitive version.
        cases.add(bad("double space after the method", req("GET  / HTTP/1.1", "Host: a")));
        cases.add(bad("double space before the version", req("GET /  HTTP/1.1", "Host: a")));
        cases.add(bad("trailing space after the version", req("GET / HTTP/1.1 ", "Host: a")));
        cases.add(bad("tab after the method", req("GET\t/ HTTP/1.1", "Host: a")));
        cases.add(bad("tab before the version", req("GET /\tHTTP/1.1", "Host: a")));
        cases.add(bad("missing version", "GET /\r\nHost: a\r\n\r\n"));
        cases.add(bad("missing method", req("/ HTTP/1.1", "Host: a")));
        cases.add(bad("lowercase http/1.1", req("GET / http/1.1", "Host: a")));
        cases.add(bad(
                "lowercase http/1.1 with chunked",
                "POST / http/1.1\r\nHost: a\r\n" + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
        cases.add(bad("version HTTP/1", req("GET / HTTP/1", "Host: a")));
        cases.add(bad("version HTTP/1.10", req("GET / HTTP/1.10", "Host: a")));
        cases.add(bad("version HTTP/1.1 with a suffix", req("GET / HTTP/1.1x", "Host: a")));
        cases.add(bad("version FOO/1.1", req("GET / FOO/1.1", "Host: a")));
        cases.add(status(505, "HTTP/1.2", req("GET / HTTP/1.2", "Host: a")));
        cases.add(status(505, "HTTP/2.0", req("GET / HTTP/2.0", "Host: a")));
        cases.add(status(505, "HTTP/2 connection preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        cases.add(bad("method with a parenthesis", req("GE(T / HTTP/1.1", "Host: a")));
        cases.add(bad("method with an at sign", req("G@T / HTTP/1.1", "Host: a")));
        cases.add(bad("method with a control char", req("GE\u0001T / HTTP/1.1", "Host: a")));
        cases.add(bad("method with DEL", req("GE\u007fT / HTTP/1.1", "Host: a")));
        cases.add(bad("target not starting with a slash", req("GET admin HTTP/1.1", "Host: a")));
        cases.add(bad("asterisk-form for GET", req("GET * HTTP/1.1", "Host: a")));
        cases.add(status(405, "CONNECT", req("CONNECT a:443 HTTP/1.1", "Host: a:443")));

        // Size limits (see LIMITS), each with its own status.
        cases.add(status(414, "request line too long", req("GET /" + "a".repeat(300) + " HTTP/1.1", "Host: a")));
        cases.add(status(431, "one header line too long", get("X-Long: " + "a".repeat(300))));
        String[] big = new String[6];
        for (int i = 0; i < big.length; i++) {
            big[i] = "X-Fill-" + i + ": " + "a".repeat(200);
        }
        cases.add(status(431, "headers larger than headers_total", get(big)));
        String[] many = new String[10];
        for (int i = 0; i < many.length; i++) {
            many[i] = "X-" + i + ": a";
        }
        cases.add(status(431, "more than header_count fields", get(many)));
        cases.add(status(413, "Content-Length above the body limit", post("Content-Length: 2000") + "a".repeat(100)));
        String chunk = "12c\r\n" + "a".repeat(300) + "\r\n";
        cases.add(status(413, "chunked body above the body limit", chunked(chunk.repeat(4) + "0\r\n\r\n")));
        return cases.stream();
    }

    /** Attacks cut into two writes right where the scanner must carry its state from one read to the next. */
    static Stream<Arguments> refusedAcrossReads() {
        return Stream.of(
                bad("bare CR at the end of a read", "GET / HTTP/1.1\r\nHost: a\r|X-A: b\r\n\r\n"),
                bad("obs-fold at the start of a read", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\r\n| b\r\n\r\n"),
                bad("bare LF at the start of a read", "GET / HTTP/1.1\r\nHost: a|\nX-A: b\r\n\r\n"),
                bad("whitespace before the colon in the next read", "GET / HTTP/1.1\r\nHost|\t: a\r\n\r\n"),
                bad(
                        "CL.TE with the headers in two reads",
                        post("Content-Length: 4|", "Transfer-Encoding: chunked") + "0\r\n\r\n" + SMUGGLED),
                bad(
                        "chunk data longer than declared, cut after the data",
                        chunked("5\r\nhello|" + SMUGGLED + "\r\n0\r\n\r\n")),
                status(
                        431,
                        "too many fields over two reads",
                        get(
                                "X-0: a", "X-1: a", "X-2: a", "X-3: a", "X-4: a|", "X-5: a", "X-6: a", "X-7: a",
                                "X-8: a", "X-9: a")));
    }

    // ---- the tests ------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void refusedAlone(String raw, int status) throws Exception {
        try (RawClient client = node.client().timeout(3000)) {
            client.send(raw);
            assertRefused(client, status);
        }
        assertOriginSaw();
        assertHealthy();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void refusedAfterAValidRequestInTheSameWrite(String raw, int status) throws Exception {
        try (RawClient client = node.client().timeout(3000)) {
            client.send(FIRST + raw);
            RawClient.Response first = client.read();
            assertEquals(200, first.status(), first.head());
            assertRefused(client, status);
        }
        assertOriginSaw("GET /first");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedAcrossReads")
    void refusedWhenCutAcrossReads(String raw, int status) throws Exception {
        int cut = raw.indexOf(CUT);
        try (RawClient client = node.client().timeout(3000)) {
            client.send(raw.substring(0, cut));
            Thread.sleep(50); // the proxy reads the first part on its own
            client.send(raw.substring(cut + 1));
            assertRefused(client, status);
        }
        assertOriginSaw();
    }

    @Test
    void validRequestThenMalformedOneOnTheSameConnection() throws Exception {
        try (RawClient client = node.client().timeout(3000)) {
            assertEquals(200, client.get("/first", "a").status());
            client.send(post("Content-Length: 5", "Transfer-Encoding: chunked") + "0\r\n\r\n" + SMUGGLED);
            assertRefused(client, 400);
        }
        assertOriginSaw("GET /first");
        assertHealthy();
    }

    @Test
    void pipelinedValidPairIsAnsweredInOrder() throws Exception {
        try (RawClient client = node.client().timeout(3000)) {
            client.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n");
            RawClient.Response one = client.read();
            RawClient.Response two = client.read();
            assertEquals(200, one.status());
            assertEquals(200, two.status());
            assertEquals("ok", one.bodyText());
            assertEquals("ok", two.bodyText());
        }
        assertOriginSaw("GET /one", "GET /two");
    }

    @Test
    void chunkedBodyEndsAtItsLastChunkAndThePipelinedRequestAfterItIsItsOwn() throws Exception {
        try (RawClient client = node.client().timeout(3000)) {
            client.send(chunked("5\r\nhello\r\n6;ext=\"v\"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
                    + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, client.read().status());
            assertEquals(200, client.read().status());
        }
        assertOriginSaw("POST /", "GET /next");
        TestOrigin.Received post = origin.received().get(0);
        assertEquals("hello world", post.bodyText());
        assertEquals("chunked", post.header("Transfer-Encoding"));
        assertNull(post.header("Content-Length"));
    }

    @Test
    void aBodyAndThenAMalformedHeadInTheSameWrite() throws Exception {
        try (RawClient client = node.client().timeout(3000)) {
            client.send(post("Content-Length: 5") + "hello" + "GET / HTTP/1.1\r\nHost: a\rX: " + SMUGGLED);
            assertEquals(200, client.read().status());
            assertRefused(client, 400);
        }
        assertOriginSaw("POST /");
        assertEquals("hello", origin.last().bodyText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"Content-Length", "Transfer-Encoding", "Host", "close, content-length"})
    void connectionHeaderCannotStripTheFraming(String named) throws Exception {
        // RFC 9110 §7.6.1: fields named in Connection are removed, but never the ones that frame or route.
        boolean chunked = named.equals("Transfer-Encoding");
        String framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + SMUGGLED.length();
        String body = chunked ? Integer.toHexString(SMUGGLED.length()) + "\r\n" + SMUGGLED + "\r\n0\r\n\r\n" : SMUGGLED;
        try (RawClient client = node.client().timeout(3000)) {
            client.send(post("Connection: " + named, framing) + body);
            assertEquals(200, client.read().status());
        }
        Thread.sleep(SETTLE_MS);
        List<TestOrigin.Received> received = origin.received();
        assertEquals(1, received.size(), "the body must stay a body, not become a second request");
        assertEquals("POST /", received.get(0).method() + " " + received.get(0).target());
        assertEquals(SMUGGLED, received.get(0).bodyText());
        assertEquals("a", received.get(0).header("Host"));
    }

    @Test
    void optionalWhitespaceAroundTransferEncodingIsNotAnAttack() throws Exception {
        // RFC 9110 §5.6.3: OWS (SP / HTAB) around a field value is part of the grammar, not obfuscation.
        try (RawClient client = node.client().timeout(3000)) {
            client.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\t chunked \t\r\n\r\n"
                    + "5\r\nhello\r\n0\r\n\r\n");
            assertEquals(200, client.read().status());
        }
        assertOriginSaw("POST /");
        assertEquals("hello", origin.last().bodyText());
    }

    @Test
    void emptyLinesBeforeTheRequestLineAreIgnored() throws Exception {
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request-line.
        try (RawClient client = node.client().timeout(3000)) {
            client.send("\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, client.read().status());
        }
        assertOriginSaw("GET /x");
    }

    @Test
    void absoluteFormAuthorityReplacesAConflictingHost() throws Exception {
        // RFC 9112 §3.2.2: a proxy sets Host from the target's authority, ignoring the received Host.
        try (RawClient client = node.client().timeout(3000)) {
            client.send("GET http://good.example/p?q=1 HTTP/1.1\r\nHost: evil.example\r\n\r\n");
            assertEquals(200, client.read().status());
        }
        assertOriginSaw("GET /p?q=1");
        assertEquals("good.example", origin.last().header("Host"));
    }

    @Test
    void validRequestSentByteByByteIsProxied() throws Exception {
        byte[] raw = chunked("5\r\nhello\r\n0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        try (RawClient client = node.client().timeout(3000)) {
            for (byte b : raw) {
                client.send(new byte[] {b});
                Thread.sleep(1);
            }
            assertEquals(200, client.read().status());
        }
        assertOriginSaw("POST /");
        assertEquals("hello", origin.last().bodyText());
    }

    @Test
    void bodyAboveTheLimitByContentLengthNeverContactsTheOrigin() throws Exception {
        try (RawClient client = node.client().timeout(3000)) {
            client.send(post("Content-Length: 1025"));
            assertRefused(client, 413);
        }
        assertOriginSaw();
        assertEquals(0, origin.connectionCount());
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** Reads the final response: the expected status, announced and real close (RFC 9112 §9.6). */
    private static void assertRefused(RawClient client, int status) throws IOException {
        RawClient.Response response = client.read();
        assertEquals(status, response.status(), response.head());
        assertEquals("close", response.header("Connection"), response.head());
        assertTrue(client.closedByPeer(), "the proxy closes the connection after refusing");
    }

    /** The origin received exactly these requests ("METHOD target"), in order, with no request in a body. */
    private void assertOriginSaw(String... expected) throws InterruptedException {
        Thread.sleep(SETTLE_MS);
        List<TestOrigin.Received> received = origin.received();
        assertEquals(
                List.of(expected),
                received.stream().map(r -> r.method() + " " + r.target()).toList());
        for (TestOrigin.Received r : received) {
            assertFalse(r.bodyText().contains("HTTP/1.1"), "a request smuggled in a body: " + r.bodyText());
            assertFalse(r.target().contains("admin"), r.target());
        }
    }

    /** A fresh connection is still served normally. */
    private void assertHealthy() throws IOException {
        try (RawClient client = node.client().timeout(3000)) {
            assertEquals(200, client.get("/healthy", "a").status());
        }
        assertEquals(
                "GET /healthy", origin.last().method() + " " + origin.last().target());
    }

    private static Arguments bad(String name, String raw) {
        return status(400, name, raw);
    }

    private static Arguments status(int status, String name, String raw) {
        return Arguments.of(Named.of(name, raw), status);
    }

    /** A head: the request line, the fields, the empty line. */
    private static String req(String requestLine, String... fields) {
        StringBuilder head = new StringBuilder(requestLine).append("\r\n");
        for (String field : fields) {
            head.append(field).append("\r\n");
        }
        return head.append("\r\n").toString();
    }

    private static String get(String... fields) {
        return req("GET / HTTP/1.1", withHost(fields));
    }

    private static String post(String... fields) {
        return req("POST / HTTP/1.1", withHost(fields));
    }

    private static String chunked(String body) {
        return post("Transfer-Encoding: chunked") + body;
    }

    private static String[] withHost(String... fields) {
        String[] all = new String[fields.length + 1];
        all[0] = "Host: a";
        System.arraycopy(fields, 0, all, 1, fields.length);
        return all;
    }
}
