package io.flotilla.node.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
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
import io.netty.handler.codec.http2.Http2StreamChannelOption;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
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
 *
 * <p>An extended CONNECT (RFC 8441 §4, where the connection announced it) becomes a GET of its
 * {@code :path}, complete at its head, which the request path treats as a WebSocket handshake (see
 * {@link #connectProtocol()}); what the client sends on the stream meanwhile is held here, its flow
 * control credit with it, and handed to the tunnel when this codec leaves the pipeline. Until the
 * tunnel opens ({@link #openTunnel}), a 2xx final response cannot go out on such a stream (it would
 * tell the client that its tunnel is open): it becomes a 502. A response that ends such a stream
 * without a tunnel is followed by RST_STREAM NO_ERROR (RFC 9113 §8.1): the client's side is never ended.
 */
public final class Http2StreamCodec extends ChannelDuplexHandler implements ClientCodec {
    private static final String PROTOCOL = "HTTP/2.0";
    /** The version a stream's request was received in, for Via; the request itself has HTTP/1.1 semantics. */
    public static final HttpVersion HTTP_2 = new HttpVersion("HTTP", 2, 0, true);

    private final CharSequence stampName;
    private final String stampValue;
    private final int maxHeaderCount;
    private final boolean extendedConnect;

    private ChannelHandlerContext ctx;
    private boolean requestStarted;
    /** The {@code :protocol} of an extended CONNECT; null on every other stream. */
    private String connectProtocol;
    /** What an extended CONNECT's client sent before its tunnel opened. */
    private ArrayDeque<Object> held;

    private boolean tunnelled;
    /** The body of a response replaced by this codec, dropped. */
    private boolean dropBody;

    private boolean head;
    private int lastStatus;
    private long bodyBytes;

    /**
     * @param stampName      a field set on every final response (HSTS on TLS listeners), or null
     * @param maxHeaderCount the most request fields taken, as on HTTP/1.1 ({@code limits.header_count})
     * @param extendedConnect whether the connection announced SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441
     *                        §3): without it a {@code :protocol} field makes a request malformed
     */
    public Http2StreamCodec(CharSequence stampName, String stampValue, int maxHeaderCount, boolean extendedConnect) {
        this.stampName = stampName;
        this.stampValue = stampValue;
        this.maxHeaderCount = maxHeaderCount;
        this.extendedConnect = extendedConnect;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** What the client sent after an extended CONNECT goes to the tunnel that takes the stream (or nowhere). */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        Object msg;
        while (held != null && (msg = held.poll()) != null) {
            if (ctx.channel().isActive()) {
                ctx.fireChannelRead(msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    /**
     * The protocol an extended CONNECT asked for ({@code :protocol}, RFC 8441 §4), or null when the
     * stream's request is not one. Such a request reaches the request path as a GET of its {@code :path}.
     */
    public String connectProtocol() {
        return connectProtocol;
    }

    /**
     * Answers an extended CONNECT with 200 and {@code headers} (RFC 8441 §5: the tunnel is open), not
     * ending the stream: from now on the stream carries the tunnel's DATA frames.
     */
    public void openTunnel(HttpHeaders headers) {
        tunnelled = true;
        lastStatus = HttpResponseStatus.OK.code();
        if (stampName != null) {
            headers.set(stampName, stampValue);
        }
        Http2Headers fields = HttpConversionUtil.toHttp2Headers(
                new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, headers), false);
        ctx.write(new DefaultHttp2HeadersFrame(fields, false));
    }

    // ---- the request: frames in, HTTP messages out ------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (connectProtocol != null) {
            // An extended CONNECT's stream: nothing more for the request path, all for the tunnel.
            if (held == null) {
                held = new ArrayDeque<>(4);
            }
            held.add(msg);
            return;
        }
        if (msg instanceof Http2HeadersFrame frame) {
            if (!requestStarted) {
                requestStarted = true;
                HttpRequest request = request(frame);
                if (request == null) {
                    reset(ctx);
                    return;
                }
                head = HttpMethod.HEAD.equals(request.method());
                if (connectProtocol != null) {
                    // The client's bytes keep their credit until the tunnel passed them on (Http2StreamFraming).
                    ctx.channel().config().setOption(Http2StreamChannelOption.AUTO_STREAM_FLOW_CONTROL, false);
                }
                ctx.fireChannelRead(request);
                if (frame.isEndStream() || connectProtocol != null) {
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
        CharSequence protocol = h.get(Http2Headers.PseudoHeaderName.PROTOCOL.value());
        boolean connect = HttpMethod.CONNECT.asciiName().contentEquals(method);
        if (protocol != null) {
            // RFC 8441 §3-§5: only where announced, only on CONNECT, with :scheme and :path, a stream left open.
            CharSequence path = h.path();
            if (!extendedConnect
                    || !connect
                    || protocol.length() == 0
                    || path == null
                    || path.length() == 0
                    || h.scheme() == null
                    || frame.isEndStream()) {
                return null;
            }
            target = path.toString();
            method = HttpMethod.GET.asciiName();
        } else if (connect) {
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
        if (protocol != null) {
            connectProtocol = protocol.toString();
        } else if (!frame.isEndStream() && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            // A body of unknown length: on HTTP/1.1 that is chunked, which the path and the upstream take.
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return new StreamRequest(HttpMethod.valueOf(method.toString()), target, headers);
    }

    /**
     * The version {@code request} came in: HTTP/2 for a stream's, else its own. What {@code Via} names
     * (RFC 9110 §7.6.3), while everything else treats the request as HTTP/1.1.
     */
    public static HttpVersion receivedVersion(HttpRequest request) {
        return request instanceof StreamRequest ? HTTP_2 : request.protocolVersion();
    }

    /** A request received on an HTTP/2 stream, with HTTP/1.1 semantics. */
    private static final class StreamRequest extends DefaultHttpRequest {
        StreamRequest(HttpMethod method, String target, HttpHeaders headers) {
            super(HttpVersion.HTTP_1_1, method, target, headers);
        }
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
        if (dropBody && msg instanceof HttpContent content) {
            dropBody = !(content instanceof LastHttpContent);
            content.release();
            promise.setSuccess();
            return;
        }
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
        if (connectProtocol != null && response.status().codeClass() == HttpStatusClass.SUCCESS) {
            // The origin answered the handshake without switching: no tunnel, which a 2xx would claim.
            ReferenceCountUtil.release(response);
            dropBody = !(response instanceof FullHttpMessage);
            lastStatus = HttpResponseStatus.BAD_GATEWAY.code();
            Http2Headers fields = new DefaultHttp2Headers(false)
                    .status(HttpResponseStatus.BAD_GATEWAY.codeAsText())
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            ctx.write(new DefaultHttp2HeadersFrame(fields, true), resetAfter(ctx, promise));
            return;
        }
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
        if (connectProtocol != null && !interim) {
            // Its end is this stream's end, then its reset: any body goes with the last write.
            ctx.write(new DefaultHttp2HeadersFrame(headers, false));
            writeEnd(ctx, body, full.trailingHeaders(), promise);
            return;
        }
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
        if (connectProtocol != null && !tunnelled) {
            promise = resetAfter(ctx, promise);
        }
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

    /**
     * The promise for the write that ends an extended CONNECT's stream without a tunnel: once written,
     * RST_STREAM NO_ERROR asks the client to stop its side (RFC 9113 §8.1), then the caller hears.
     */
    private static ChannelPromise resetAfter(ChannelHandlerContext ctx, ChannelPromise promise) {
        return promise instanceof ResetAfter ? promise : new ResetAfter(ctx, promise);
    }

    /** See {@link #resetAfter}. */
    private static final class ResetAfter extends DefaultChannelPromise {
        ResetAfter(ChannelHandlerContext ctx, ChannelPromise then) {
            super(ctx.channel(), ctx.executor());
            addListener(f -> {
                if (f.isSuccess() && ctx.channel().isActive()) {
                    ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
                }
                if (f.isSuccess()) {
                    then.trySuccess();
                } else {
                    then.tryFailure(f.cause());
                }
            });
        }
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
