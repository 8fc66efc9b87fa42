package io.flotilla.node.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;

import java.util.concurrent.atomic.LongAdder;

/** Counts the bytes a listener's connections receive and send, at the socket; one instance per listener. */
@ChannelHandler.Sharable
final class ByteCounter extends ChannelDuplexHandler {
    private final LongAdder received = new LongAdder();
    private final LongAdder sent = new LongAdder();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            received.add(buf.readableBytes());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf) {
            sent.add(buf.readableBytes());
        } else if (msg instanceof FileRegion region) {
            sent.add(region.count());
        }
        ctx.write(msg, promise);
    }

    long received() {
        return received.sum();
    }

    long sent() {
        return sent.sum();
    }
}
