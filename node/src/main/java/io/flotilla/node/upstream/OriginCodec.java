package io.flotilla.node.upstream;

import io.flotilla.node.http.StrictResponseDecoder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The HTTP/1.1 codec of an upstream connection, between the socket (or TLS) and {@link
 * UpstreamConnection}: Netty's request encoder, and a {@link StrictResponseDecoder} that knows which
 * request each response answers, so a response to HEAD is read without a body (RFC 9110 §9.3.2).
 * Like Netty's {@code HttpClientCodec} without what a reverse proxy never sends (CONNECT, which the
 * node refuses, and client-side upgrades): the node's own scanner checks each response head, so the
 * header maps are built without validation.
 */
final class OriginCodec extends CombinedChannelDuplexHandler<StrictResponseDecoder, HttpRequestEncoder> {
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);

    OriginCodec(HttpDecoderConfig config, int maxStatusLine, int maxHeaderLine) {
        init(new Decoder(config, maxStatusLine, maxHeaderLine), new Encoder());
    }

    /** One per connection; said here so that adding it skips Netty's per-class lookup (issue 16). */
    @Override
    public boolean isSharable() {
        return false;
    }

    private final class Encoder extends HttpRequestEncoder {
        @Override
        public boolean isSharable() {
            return false;
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof HttpRequest request) {
                methods.add(request.method());
            }
            super.encode(ctx, msg, out);
        }
    }

    private final class Decoder extends StrictResponseDecoder {
        Decoder(HttpDecoderConfig config, int maxStatusLine, int maxHeaderLine) {
            super(config, maxStatusLine, maxHeaderLine);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            // 1xx responses precede the final one and answer the same request: keep its method queued.
            if (((HttpResponse) msg).status().codeClass() != HttpStatusClass.INFORMATIONAL
                    && HttpMethod.HEAD.equals(methods.poll())) {
                return true;
            }
            return super.isContentAlwaysEmpty(msg);
        }
    }
}
