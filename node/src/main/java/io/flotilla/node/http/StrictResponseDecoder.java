package io.flotilla.node.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.function.Supplier;

/**
 * Netty's response decoder with the head of every origin response first checked byte by byte by
 * {@link HeadScanner} (obs-fold, bare CR/LF, NUL, names that are not tokens, control characters in
 * values, a second Content-Length, the HTTP-name), so its header maps skip Netty's per-field
 * validation. Netty itself still refuses Content-Length with Transfer-Encoding, conflicting lengths,
 * bad chunk lines, a status line it cannot read and, in trailers (which the scanner does not reach),
 * bad names and values.
 *
 * <p>A refused head becomes an {@link HttpResponse} whose decoder result is a failure, as Netty's own
 * refusals are, and everything after it on the connection is discarded: the exchange answers 502 and
 * the connection is never reused. After a 101 the connection carries another protocol: no more heads.
 */
public class StrictResponseDecoder extends HttpResponseDecoder {
    private static final Supplier<HttpResponse> FAILED =
            () -> new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY);

    private final HeadScanner scanner;

    public StrictResponseDecoder(HttpDecoderConfig config, int maxStatusLine, int maxHeaderLine) {
        super(config);
        this.scanner = new HeadScanner(false, maxStatusLine, maxHeaderLine, Integer.MAX_VALUE);
    }

    /** One per connection; said here so that adding it skips Netty's per-class lookup (issue 16). */
    @Override
    public boolean isSharable() {
        return false;
    }

    /**
     * Decoder settings for origin responses from these limits: strict lines, RFC 9112 framing, no
     * duplicate lengths, and header maps without validation (the scanner did it). Trailers keep Netty's.
     */
    public static HttpDecoderConfig config(int maxStatusLine, int maxHeadersTotal, int maxChunk) {
        return new HttpDecoderConfig()
                .setMaxInitialLineLength(maxStatusLine)
                .setMaxHeaderSize(maxHeadersTotal)
                .setMaxChunkSize(maxChunk)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setAllowDuplicateContentLengths(false)
                .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(false));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (scanner.decodable(buffer, out, FAILED)) {
            super.decode(ctx, buffer, out);
            scanner.decoded(buffer, out);
        }
    }
}
