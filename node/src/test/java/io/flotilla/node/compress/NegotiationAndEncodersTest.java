package io.flotilla.node.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.config.CompressionConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Accept-Encoding negotiation as a table, and each coding's streaming encoder against its decoder. */
class NegotiationAndEncodersTest {
    private static final List<Coding> OFFERED = List.of(Coding.BR, Coding.ZSTD, Coding.GZIP);

    @Test
    void negotiation() {
        Map<String, Coding> table = Map.ofEntries(
                Map.entry("gzip", Coding.GZIP),
                Map.entry("GZIP", Coding.GZIP),
                Map.entry("gzip, deflate, br, zstd", Coding.BR),
                Map.entry("gzip;q=1.0, br;q=0.9", Coding.GZIP),
                Map.entry("br;q=0, *", Coding.ZSTD),
                Map.entry("*", Coding.BR),
                Map.entry("*;q=0", Coding.IDENTITY),
                Map.entry("identity;q=0, *;q=0", Coding.IDENTITY),
                Map.entry("gzip;q=0.5, identity", Coding.IDENTITY),
                Map.entry("gzip;q=0.5, identity;q=0.4", Coding.GZIP),
                Map.entry("gzip;q=0", Coding.IDENTITY),
                Map.entry("gzip;q=2", Coding.IDENTITY), // malformed weight: the member is ignored
                Map.entry("gzip;q=0.0001", Coding.IDENTITY),
                Map.entry("gzip ; q=0.300 , zstd;q=0.299", Coding.GZIP),
                Map.entry("deflate, compress", Coding.IDENTITY),
                Map.entry("x-gzip", Coding.GZIP),
                Map.entry("", Coding.IDENTITY));
        table.forEach(
                (field, expected) -> assertEquals(expected, AcceptEncoding.negotiate(List.of(field), OFFERED), field));
        assertEquals(Coding.IDENTITY, AcceptEncoding.negotiate(List.of(), OFFERED), "no field: identity");
        assertEquals(Coding.GZIP, AcceptEncoding.negotiate(List.of("br;q=0.1", "gzip"), OFFERED), "two field lines");
        assertEquals(
                Coding.GZIP,
                AcceptEncoding.negotiate(List.of("gzip, br"), List.of(Coding.GZIP, Coding.BR)),
                "the server's order breaks ties");
    }

    @Test
    void eachCodingStreamsPartByPartAndDecodes() throws Exception {
        byte[] page = CompressionTest.page(200_000);
        for (Coding coding : OFFERED) {
            ContentEncoder encoder = new ContentEncoder(coding.newEncoder(CompressionConfig.DEFAULT));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int producedBeforeEnd = 0;
            for (int i = 0; i < page.length; i += 16384) {
                int n = Math.min(16384, page.length - i);
                HttpContent encoded = encoder.encode(new DefaultHttpContent(Unpooled.wrappedBuffer(page, i, n)));
                producedBeforeEnd += take(encoded, out);
            }
            LastHttpContent last = new DefaultLastHttpContent();
            last.trailingHeaders().set("x-trailer", "kept");
            HttpContent end = encoder.encode(last);
            assertTrue(end instanceof LastHttpContent);
            assertEquals("kept", ((LastHttpContent) end).trailingHeaders().get("x-trailer"));
            take(end, out);
            encoder.close();
            assertTrue(
                    producedBeforeEnd > out.size() / 2,
                    coding + ": output streams, not held to the end (" + producedBeforeEnd + " of " + out.size() + ")");
            assertTrue(out.size() < page.length / 2, coding + " ratio " + out.size());
            assertArrayEquals(
                    page, CompressionTest.decode(response(coding.token(), out.toByteArray())), coding.token());
        }
    }

    @Test
    void anEncoderCutShortReleasesWhatItHeld() {
        for (Coding coding : OFFERED) {
            ContentEncoder encoder = new ContentEncoder(coding.newEncoder(CompressionConfig.DEFAULT));
            encoder.encode(new DefaultHttpContent(Unpooled.wrappedBuffer(CompressionTest.page(5000))))
                    .release();
            encoder.close(); // the leak detector (PARANOID) fails the class if anything stayed
            encoder.close();
        }
    }

    private static int take(HttpContent encoded, ByteArrayOutputStream out) {
        ByteBuf b = encoded.content();
        int n = b.readableBytes();
        byte[] bytes = new byte[n];
        b.readBytes(bytes);
        out.writeBytes(bytes);
        encoded.release();
        return n;
    }

    private static HttpResponse<byte[]> response(String coding, byte[] body) {
        HttpHeaders headers = HttpHeaders.of(Map.of("Content-Encoding", List.of(coding)), (a, b) -> true);
        return new HttpResponse<>() {
            public int statusCode() {
                return 200;
            }

            public java.net.http.HttpRequest request() {
                return null;
            }

            public java.util.Optional<HttpResponse<byte[]>> previousResponse() {
                return java.util.Optional.empty();
            }

            public HttpHeaders headers() {
                return headers;
            }

            public byte[] body() {
                return body;
            }

            public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
                return java.util.Optional.empty();
            }

            public java.net.URI uri() {
                return null;
            }

            public java.net.http.HttpClient.Version version() {
                return java.net.http.HttpClient.Version.HTTP_1_1;
            }
        };
    }
}
