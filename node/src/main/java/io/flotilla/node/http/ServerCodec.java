package io.flotilla.node.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The downstream HTTP/1.1 codec: {@link StrictRequestDecoder} and a response encoder that knows which
 * request each response answers, so a response to HEAD never gets a body or a chunk terminator
 * (RFC 9110 §9.3.2). Like Netty's {@code HttpServerCodec}, with the strict decoder in place; the two
 * are separate pipeline handlers sharing the method queue, since a combined handler adds an extra
 * hop to every message in both directions.
 */
public final class ServerCodec implements ClientCodec {
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
    private final StrictRequestDecoder decoder;
    private final HttpResponseEncoder encoder;

    /** Where a connection's byte counts go (a listener's totals). */
    public interface ByteSink {
        void add(long received, long sent);
    }

    private static final ByteSink NOWHERE = (in, out) -> {};

    private ByteSink sink = NOWHERE;
    private CharSequence stampName;
    private String stampValue;

    /**
     * Sets {@code name: value} on every final response this connection sends, whoever made it (the
     * origin's, the proxy's own, static files): HSTS (RFC 6797) on a TLS listener.
     */
    public ServerCodec stampResponses(CharSequence name, String value) {
        this.stampName = name;
        this.stampValue = value;
        return this;
    }

    private long received;
    private long sent;

    /** Counts this connection's wire bytes into {@code sink} (see {@link #reportBytes()}). */
    public ServerCodec countInto(ByteSink sink) {
        this.sink = sink;
        return this;
    }

    /** Adds the bytes counted since the last report to the sink: once per exchange and at close. */
    @Override
    public void reportBytes() {
        if (received != 0 || sent != 0) {
            sink.add(received, sent);
            received = 0;
            sent = 0;
        }
    }

    public ServerCodec(int maxRequestLine, int maxHeaderLine, int maxHeadersTotal, int maxHeaderCount) {
        this(decoderConfig(maxRequestLine, maxHeadersTotal), maxRequestLine, maxHeaderLine, maxHeaderCount);
    }

    /**
     * A codec whose decoder reads {@code config}, which {@link #decoderConfig} built: one config serves
     * every connection of a listener (it is only read once built), so accepting costs no config objects.
     */
    public ServerCodec(HttpDecoderConfig config, int maxRequestLine, int maxHeaderLine, int maxHeaderCount) {
        this.decoder = new MethodRecordingDecoder(config, maxRequestLine, maxHeaderLine, maxHeaderCount);
        this.encoder = new MethodAwareEncoder();
    }

    /** The decoder settings for these limits; never changed once returned, so connections may share it. */
    public static HttpDecoderConfig decoderConfig(int maxRequestLine, int maxHeadersTotal) {
        return new HttpDecoderConfig()
                .setMaxInitialLineLength(maxRequestLine)
                .setMaxHeaderSize(maxHeadersTotal)
                .setMaxChunkSize(16 * 1024)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setAllowDuplicateContentLengths(false)
                // StrictRequestDecoder has already checked every name and value byte of the head
                // (tokens, no CTLs); validating them again costs ~4% per request. Trailers come after
                // the body, where the scanner does not look, so Netty still validates those.
                .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(false));
    }

    public StrictRequestDecoder decoder() {
        return decoder;
    }

    public HttpResponseEncoder encoder() {
        return encoder;
    }

    private final class MethodRecordingDecoder extends StrictRequestDecoder {
        MethodRecordingDecoder(HttpDecoderConfig config, int requestLine, int headerLine, int headerCount) {
            super(config, requestLine, headerLine, headerCount);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof ByteBuf buf) {
                received += buf.readableBytes();
            }
            super.channelRead(ctx, msg);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            int before = out.size();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
                if (out.get(i) instanceof HttpRequest) {
                    methods.add(((HttpRequest) out.get(i)).method());
                }
            }
        }
    }

    @Override
    public int lastStatus() {
        return lastStatus;
    }

    @Override
    public long bodyBytesSent() {
        return bodyBytes;
    }

    @Override
    public String protocol() {
        return null;
    }

    private int lastStatus;
    private long bodyBytes;

    private final class MethodAwareEncoder extends HttpResponseEncoder {
        private HttpMethod method;

        @Override
        public boolean isSharable() {
            return false;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            // Counted here, where every response passes, whoever made it (proxy, static files, errors).
            if (msg instanceof HttpResponse response
                    && response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
                lastStatus = response.status().code();
                bodyBytes = 0;
                if (stampName != null) {
                    response.headers().set(stampName, stampValue);
                }
            }
            if (msg instanceof HttpContent content) {
                bodyBytes += content.content().readableBytes();
            } else if (msg instanceof FileRegion region) {
                bodyBytes += region.count();
            }
            super.write(ctx, msg, promise);
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            int before = out.size();
            super.encode(ctx, msg, out);
            for (int i = before; i < out.size(); i++) {
                Object encoded = out.get(i);
                if (encoded instanceof ByteBuf buf) {
                    sent += buf.readableBytes();
                } else if (encoded instanceof FileRegion region) {
                    sent += region.count();
                }
            }
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            // 1xx responses precede the final one and answer the same request: keep its method queued.
            if (msg.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
                method = methods.poll(); // null for a response no request asked for (408 on a slow head)
            }
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }
    }
}
