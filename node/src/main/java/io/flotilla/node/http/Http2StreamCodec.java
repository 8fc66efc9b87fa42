package io.flotilla.node.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;

/**
 * The codec of one HTTP/2 stream (RFC 9113), between the stream's frames and the HTTP messages the
 * request path handles: the request's HEADERS become an {@link HttpRequest} (HTTP/1.1 semantics, so
 * every stage runs unchanged), DATA frames its content, trailing HEADERS its {@link LastHttpContent};
 * responses go out as HEADERS and DATA frames, with the connection-specific fields HTTP/1.1 needed
 * removed (§8.2.2). It sits in the stream channel's pipeline right before the {@code ProxyHandler}.
 *
 * <p>Netty's frame codec already finds malformed frames, connection-specific request fields, TE other
 * than trailers, upper-case names and a Content-Length the DATA frames do not add up to; the stream
 * errors among them reach this handler as exceptions, and it resets the stream with their code. What
 * the frame codec leaves is checked here, each a stream error (RST_STREAM PROTOCOL_ERROR, §8.1.1),
 * never the connection's: missing pseudo-header fields, a Host naming another authority than
 * {@code :authority} (§8.3.1),
 * userinfo in {@code :authority}, and CR, LF, NUL or surrounding whitespace in a value (§8.2.1), which an
 * HTTP/1.1 origin behind the proxy would read as framing.
 */
public final class Http2StreamCodec extends ChannelDuplexHandler implements ClientCodec {
    private static final String PROTOCOL = "HTTP/2.0";

    private final CharSequence stampName;
    private final String stampValue;
    private final int maxHeaderCount;

    private boolean requestStarted;
    private boolean head;
    private int lastStatus;
    private long bodyBytes;

    /**
     * @param stampName      a field set on every final response (HSTS on TLS listeners), or null
     * @param maxHeaderCount the most request fields taken, as on HTTP/1.1 ({@code limits.header_count})
     */
    public Http2StreamCodec(CharSequence stampName, String stampValue, int maxHeaderCount) {
        this.stampName = stampName;
        this.stampValue = stampValue;
        this.maxHeaderCount = maxHeaderCount;
    }

    // ---- the request: frames in, HTTP messages out ------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame frame) {
            if (!requestStarted) {
                requestStarted = true;
                HttpRequest request = request(frame);
                if (request == null) {
                    reset(ctx);
                    return;
                }
                head = HttpMethod.HEAD.equals(request.method());
                ctx.fireChannelRead(request);
                if (frame.isEndStream()) {
                    ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
                }
            } else {
                LastHttpContent trailers = trailers(frame);
                if (trailers == null) {
                    reset(ctx);
                    return;
                }
                ctx.fireChannelRead(trailers);
            }
        } else if (msg instanceof Http2DataFrame data) {
            // The frame is only a holder of its content, whose reference passes on with it.
            ByteBuf content = data.content();
            ctx.fireChannelRead(
                    data.isEndStream() ? new DefaultLastHttpContent(content) : new DefaultHttpContent(content));
        } else {
            // A reset from the client closes this stream's channel by itself; nothing else is for the request.
            ReferenceCountUtil.release(msg);
        }
    }

    /** The request of a HEADERS frame, or null when it is malformed (§8.1.1). */
    private HttpRequest request(Http2HeadersFrame frame) {
        Http2Headers h = frame.headers();
        CharSequence method = h.method();
        CharSequence authority = h.authority();
        if (method == null) {
            return null;
        }
        String target;
        if (HttpMethod.CONNECT.asciiName().contentEquals(method)) {
            // §8.5: CONNECT names only the authority; the request path refuses it as on HTTP/1.1.
            if (authority == null || h.path() != null || h.scheme() != null) {
                return null;
            }
            target = authority.toString();
        } else {
            CharSequence path = h.path();
            if (path == null || path.length() == 0 || h.scheme() == null) {
                return null;
            }
            target = path.toString();
        }
        if (authority != null && (authority.length() == 0 || AsciiString.indexOf(authority, '@', 0) >= 0)) {
            return null; // §8.3.1: no userinfo in :authority
        }
        HttpHeaders headers =
                DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
        StringBuilder cookie = null;
        int count = 0;
        for (Map.Entry<CharSequence, CharSequence> field : h) {
            CharSequence name = field.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                continue; // the frame codec let only the four request pseudo-fields through, before the rest
            }
            CharSequence value = field.getValue();
            if (!validValue(value) || ++count > maxHeaderCount) {
                return null;
            }
            if (HttpHeaderNames.COOKIE.contentEquals(name)) {
                // §8.2.3: cookie crumbs come as several fields; HTTP/1.1 needs them as one.
                cookie = cookie == null
                        ? new StringBuilder(value)
                        : cookie.append("; ").append(value);
            } else {
                headers.add(name, value);
            }
        }
        if (cookie != null) {
            headers.set(HttpHeaderNames.COOKIE, cookie.toString());
        }
        if (authority != null) {
            String host = headers.get(HttpHeaderNames.HOST);
            if (host != null && !AsciiString.contentEqualsIgnoreCase(host, authority)) {
                return null;
            }
            headers.set(HttpHeaderNames.HOST, authority);
        }
        if (!frame.isEndStream() && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            // A body of unknown length: on HTTP/1.1 that is chunked, which the path and the upstream take.
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method.toString()), target, headers);
    }

    /** Trailers, which must end the stream and carry no pseudo-fields (§8.1); null when they do not. */
    private static LastHttpContent trailers(Http2HeadersFrame frame) {
        if (!frame.isEndStream()) {
            return null;
        }
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        for (Map.Entry<CharSequence, CharSequence> field : frame.headers()) {
            if (field.getKey().length() == 0 || field.getKey().charAt(0) == ':' || !validValue(field.getValue())) {
                return null;
            }
            last.trailingHeaders().add(field.getKey(), field.getValue());
        }
        return last;
    }

    /** §8.2.1: no NUL, CR or LF, and no whitespace at either end. */
    private static boolean validValue(CharSequence value) {
        int n = value.length();
        if (n > 0 && (isSpace(value.charAt(0)) || isSpace(value.charAt(n - 1)))) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c == 0 || c == '\r' || c == '\n') {
                return false;
            }
        }
        return true;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t';
    }

    private static void reset(ChannelHandlerContext ctx) {
        reset(ctx, Http2Error.PROTOCOL_ERROR);
    }

    private static void reset(ChannelHandlerContext ctx, Http2Error error) {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(error));
        ctx.close();
    }

    /** A stream error the frame codec found in what the client sent: the stream is reset with its code. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // The multiplexer hands a stream its error's cause, then closes the stream's channel.
        if (cause instanceof Http2Exception.StreamException error) {
            reset(ctx, error.error());
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    // ---- the response: HTTP messages in, frames out -----------------------------------------------

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response) {
            writeHead(ctx, response, promise);
        } else if (msg instanceof LastHttpContent last) {
            writeEnd(ctx, last.content(), last.trailingHeaders(), promise);
        } else if (msg instanceof HttpContent content) {
            if (head) {
                content.release();
                promise.setSuccess();
                return;
            }
            bodyBytes += content.content().readableBytes();
            ctx.write(new DefaultHttp2DataFrame(content.content(), false), promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    private void writeHead(ChannelHandlerContext ctx, HttpResponse response, ChannelPromise promise) {
        boolean interim = response.status().code() < 200;
        if (!interim) {
            lastStatus = response.status().code();
            bodyBytes = 0;
            if (stampName != null) {
                response.headers().set(stampName, stampValue);
            }
        }
        Http2Headers headers = HttpConversionUtil.toHttp2Headers(response, false);
        if (!(response instanceof FullHttpMessage full)) {
            ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
            return;
        }
        ByteBuf body = full.content();
        if (interim) {
            // A 1xx precedes the final response on the same stream (RFC 9113 §8.1): never the end.
            body.release();
            ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
        } else if ((head || !body.isReadable()) && full.trailingHeaders().isEmpty()) {
            body.release();
            ctx.write(new DefaultHttp2HeadersFrame(headers, true), promise);
        } else {
            ctx.write(new DefaultHttp2HeadersFrame(headers, false));
            writeEnd(ctx, body, full.trailingHeaders(), promise);
        }
    }

    /** The response's end: its last content, then its trailers as HEADERS if it has any. */
    private void writeEnd(ChannelHandlerContext ctx, ByteBuf body, HttpHeaders trailers, ChannelPromise promise) {
        if (head && body.isReadable()) {
            body.release();
            body = Unpooled.EMPTY_BUFFER;
        }
        bodyBytes += body.readableBytes();
        if (trailers.isEmpty()) {
            ctx.write(new DefaultHttp2DataFrame(body, true), promise);
            return;
        }
        if (body.isReadable()) {
            ctx.write(new DefaultHttp2DataFrame(body, false));
        } else {
            body.release();
        }
        Http2Headers fields = new DefaultHttp2Headers(false);
        HttpConversionUtil.toHttp2Headers(trailers, fields);
        ctx.write(new DefaultHttp2HeadersFrame(fields, true), promise);
    }

    // ---- what the request path reads (ClientCodec) ------------------------------------------------

    @Override
    public int lastStatus() {
        return lastStatus;
    }

    @Override
    public long bodyBytesSent() {
        return bodyBytes;
    }

    @Override
    public void reportBytes() {
        // Wire bytes are the connection's, counted there (Http2FloodGuard) for all its streams at once.
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }
}
