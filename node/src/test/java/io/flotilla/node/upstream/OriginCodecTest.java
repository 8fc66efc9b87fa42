package io.flotilla.node.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.http.StrictResponseDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The upstream codec reads origin responses strictly without validating header maps: every rule the
 * scanner now enforces in their place is refused here (a failed decoder result: the exchange's 502),
 * whole, after a good response on the same connection, and cut across reads byte by byte.
 */
class OriginCodecTest {
    private static EmbeddedChannel channel() {
        EmbeddedChannel ch = new EmbeddedChannel(
                new OriginCodec(StrictResponseDecoder.config(8 * 1024, 64 * 1024, 64 * 1024), 8 * 1024, 64 * 1024));
        return ch;
    }

    private static void request(EmbeddedChannel ch, HttpMethod method) {
        ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/"));
        ByteBuf sent;
        while ((sent = ch.readOutbound()) != null) {
            sent.release();
        }
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    /** Every message the codec read, in order; the caller releases them. */
    private static List<HttpObject> read(EmbeddedChannel ch) {
        List<HttpObject> out = new ArrayList<>();
        Object msg;
        while ((msg = ch.readInbound()) != null) {
            out.add((HttpObject) msg);
        }
        return out;
    }

    private static void release(List<HttpObject> messages) {
        messages.forEach(ReferenceCountUtil::release);
    }

    private static HttpResponse only(List<HttpObject> messages) {
        return assertInstanceOf(HttpResponse.class, messages.get(0));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", // obs-fold (Netty unfolds it)
                "HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nX(A: b\r\nContent-Length: 0\r\n\r\n", // not a token
                "HTTP/1.1 200 OK\r\nX-A\u00e9: b\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nX-A b: c\r\nContent-Length: 0\r\n\r\n", // whitespace inside a name
                "HTTP/1.1 200 OK\r\n: b\r\nContent-Length: 0\r\n\r\n", // empty name
                "HTTP/1.1 200 OK\r\nX-A: a\u0001b\r\nContent-Length: 0\r\n\r\n", // control character
                "HTTP/1.1 200 OK\r\nX-A: a\u007fb\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n", // NUL
                "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n", // bare CR
                "HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 0\r\n\r\n", // bare LF
                "HTTP/1.1 200 OK\r\nX-A\r\nContent-Length: 0\r\n\r\n", // no colon
                "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", // HTTP-name is case-sensitive
                "HTTP/1.1 200 O\u0001K\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", // Netty keeps the first
                "HTTP/1.0 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nab",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", // Netty's refusals stay
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "HTTP/1.1 abc\r\n\r\n",
            })
    void refusedWholeAfterAGoodResponseAndByteByByte(String bad) {
        EmbeddedChannel whole = channel();
        request(whole, HttpMethod.GET);
        whole.writeInbound(bytes("HTTP/1.1 200 OK\r\nX-Fine : yes\r\nContent-Length: 2\r\n\r\nok"));
        List<HttpObject> good = read(whole);
        assertTrue(only(good).decoderResult().isSuccess());
        assertEquals("yes", only(good).headers().get("X-Fine"), "whitespace before the colon is removed");
        release(good);
        request(whole, HttpMethod.GET);
        whole.writeInbound(bytes(bad + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        List<HttpObject> refused = read(whole);
        assertTrue(only(refused).decoderResult().isFailure(), bad);
        assertEquals(1, refused.size(), "nothing after a refused head is read: " + refused);
        release(refused);
        whole.finishAndReleaseAll(); // what the decoder makes of the close is not this test's concern

        EmbeddedChannel pieces = channel();
        request(pieces, HttpMethod.GET);
        List<HttpObject> out = new ArrayList<>();
        for (byte b : bad.getBytes(StandardCharsets.ISO_8859_1)) {
            pieces.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            out.addAll(read(pieces));
        }
        assertTrue(only(out).decoderResult().isFailure(), "byte by byte: " + bad);
        release(out);
        pieces.finishAndReleaseAll();
    }

    @Test
    void interimResponsesHeadAndBodiesKeepTheHeadsApart() {
        EmbeddedChannel ch = channel();
        request(ch, HttpMethod.HEAD);
        request(ch, HttpMethod.GET);
        // A 100 and a 103 before the HEAD response (with a length but no body), then a GET's in one read.
        ch.writeInbound(bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: t\r\n\r\n"));
        List<HttpObject> out = read(ch);
        List<Integer> statuses = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        for (HttpObject o : out) {
            assertTrue(o.decoderResult().isSuccess(), o.toString());
            if (o instanceof HttpResponse r) {
                statuses.add(r.status().code());
            }
            if (o instanceof HttpContent c) {
                body.append(c.content().toString(StandardCharsets.US_ASCII));
            }
        }
        assertEquals(List.of(100, 103, 200, 200), statuses);
        assertEquals("abc", body.toString(), "the HEAD response had no body, the GET's came whole");
        assertEquals(
                "t",
                ((LastHttpContent) out.get(out.size() - 1)).trailingHeaders().get("X-T"));
        release(out);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void trailersAreStillValidatedByNetty() {
        EmbeddedChannel ch = channel();
        request(ch, HttpMethod.GET);
        ch.writeInbound(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX(T: t\r\n\r\n"));
        List<HttpObject> out = read(ch);
        assertTrue(out.stream().anyMatch(o -> o.decoderResult().isFailure()), out.toString());
        release(out);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void afterA101TheBytesAreAnotherProtocolsAndPassUnscanned() {
        EmbeddedChannel ch = channel();
        request(ch, HttpMethod.GET);
        ch.writeInbound(bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                + "\u0081\u0005hel\u0000\r\nlo"));
        List<Object> out = new ArrayList<>();
        Object msg;
        while ((msg = ch.readInbound()) != null) {
            out.add(msg);
        }
        assertEquals(101, ((HttpResponse) out.get(0)).status().code());
        assertTrue(((HttpResponse) out.get(0)).decoderResult().isSuccess());
        StringBuilder raw = new StringBuilder();
        for (Object o : out) {
            if (o instanceof ByteBuf b) {
                raw.append(b.toString(StandardCharsets.ISO_8859_1));
            } else if (o instanceof HttpContent c) {
                raw.append(c.content().toString(StandardCharsets.ISO_8859_1));
            }
        }
        assertEquals("\u0081\u0005hel\u0000\r\nlo", raw.toString());
        out.forEach(ReferenceCountUtil::release);
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
    }
}
