package io.flotilla.node.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;
import java.util.function.Supplier;

/**
 * Netty's request decoder with the head of every request first checked byte by byte against
 * RFC 9112 ({@link HeadScanner}), refusing what Netty would otherwise tolerate and what a proxy must
 * never pass on.
 *
 * <p>Netty already refuses Content-Length with Transfer-Encoding, a final coding other than chunked,
 * bad chunk lines and bare LF. It folds obs-fold lines and leaves bare CR, NUL and whitespace before
 * the colon to header validation; an origin behind us may read those differently (the root of
 * request smuggling), so they are refused here before the decoder sees them:
 * <ul>
 *   <li>obs-fold, a line starting with SP or HT (RFC 9112 §5.2)</li>
 *   <li>a CR not followed by LF, or NUL anywhere in the head (RFC 9112 §2.2)</li>
 *   <li>a field name that is not a token, or whitespace before the colon (RFC 9112 §5.1)</li>
 *   <li>control characters in field values (RFC 9110 §5.5)</li>
 *   <li>an HTTP-name other than exactly {@code HTTP}, which is case-sensitive (RFC 9112 §2.3)</li>
 *   <li>a second Content-Length field, which Netty takes the first of in HTTP/1.0 (RFC 9112 §6.3)</li>
 *   <li>the size limits of one header line (431), the number of fields (431), the request line (414)</li>
 * </ul>
 * A refused head becomes an {@link HttpRequest} whose decoder result is a failure, like Netty's own
 * refusals, and everything after it on the connection is discarded: the caller answers and closes.
 */
public class StrictRequestDecoder extends HttpRequestDecoder {
    private static final Supplier<HttpRequest> FAILED =
            () -> new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request");

    private final HeadScanner scanner;
    private boolean headSignalled;

    public StrictRequestDecoder(HttpDecoderConfig config, int maxRequestLine, int maxHeaderLine, int maxHeaderCount) {
        super(config);
        this.scanner = new HeadScanner(true, maxRequestLine, maxHeaderLine, maxHeaderCount);
    }

    /** One per connection; said here so that adding it skips Netty's per-class lookup (issue 16). */
    @Override
    public boolean isSharable() {
        return false;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (!headSignalled && scanner.expectingHead(buffer)) {
            headSignalled = true;
            ctx.fireUserEventTriggered(RequestHeadStarted.INSTANCE);
        }
        if (scanner.decodable(buffer, out, FAILED)) {
            super.decode(ctx, buffer, out);
            if (scanner.decoded(buffer, out) instanceof LastHttpContent) {
                headSignalled = false;
            }
        }
    }
}
