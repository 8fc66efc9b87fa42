package io.flotilla.node.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;

/**
 * On a plain listener with {@code h2c}: looks at a connection's first bytes. A client with prior
 * knowledge of HTTP/2 starts with the connection preface (RFC 9113 §3.4), and the connection becomes
 * an HTTP/2 one; anything else is HTTP/1.1, served by the handlers already in place once this one has
 * removed itself. No HTTP/1.1 request line can start like the preface ({@code PRI} is not a method a
 * proxy serves), so nothing is misread.
 */
final class PrefaceSniffer extends ChannelInboundHandlerAdapter {
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
    private static final int LENGTH = PREFACE.readableBytes();

    private final FrontendInitializer frontend;
    private ByteBuf held;

    PrefaceSniffer(FrontendInitializer frontend) {
        this.frontend = frontend;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (held != null) {
            held.writeBytes(buf);
            buf.release();
            buf = held;
            held = null;
        }
        int n = Math.min(LENGTH, buf.readableBytes());
        if (!ByteBufUtil.equals(PREFACE, 0, buf, buf.readerIndex(), n)) {
            frontend.countHttp1();
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(buf);
        } else if (n < LENGTH) {
            held = ctx.alloc().buffer(LENGTH).writeBytes(buf); // a preface in pieces: wait for the rest
            buf.release();
            ctx.read();
        } else {
            ctx.pipeline().remove("http-encoder");
            ctx.pipeline().remove("http-decoder");
            ctx.pipeline().remove("proxy");
            frontend.installHttp2(ctx.channel(), "h2c");
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(buf); // to the HTTP/2 handlers, after this one
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (held != null) {
            held.release();
            held = null;
        }
    }
}
