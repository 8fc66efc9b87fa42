package io.flotilla.node.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;

/**
 * A tunnel's side on an HTTP/2 stream opened by an extended CONNECT (RFC 8441 §5): the tunnel's bytes
 * travel as the payload of DATA frames, and the stream's END_STREAM is the peer's half-close. The
 * stream channel must have {@code AUTO_STREAM_FLOW_CONTROL} off: each DATA frame's flow-controlled
 * bytes go back to the client as stream window (WINDOW_UPDATE) only once the upstream socket took
 * them, so a stalled origin stops the client after one window (RFC 9113 §5.2), not the node's memory.
 */
public final class Http2StreamFraming implements Tunnel.Framing {
    public static final Http2StreamFraming INSTANCE = new Http2StreamFraming();

    private Http2StreamFraming() {}

    @Override
    public ByteBuf unwrap(Object message) {
        // The frame only holds its content, whose reference passes on.
        return message instanceof Http2DataFrame data ? data.content() : null;
    }

    @Override
    public Object wrap(ByteBuf bytes) {
        return new DefaultHttp2DataFrame(bytes, false);
    }

    @Override
    public boolean ends(Object message) {
        return message instanceof Http2DataFrame data && data.isEndStream();
    }

    @Override
    public int credit(Object message) {
        return message instanceof Http2DataFrame data ? data.initialFlowControlledBytes() : 0;
    }

    @Override
    public void giveBack(ChannelHandlerContext ctx, int credit) {
        if (ctx.channel().isActive()) {
            // The frame codec consumes these bytes and writes WINDOW_UPDATE when enough add up.
            ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(credit), ctx.voidPromise());
        }
    }

    @Override
    public Object end() {
        return new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true);
    }
}
