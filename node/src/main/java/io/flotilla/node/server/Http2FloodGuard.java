package io.flotilla.node.server;

import io.flotilla.node.metrics.NodeMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import java.util.concurrent.TimeUnit;

/**
 * First handler of an HTTP/2 connection, before Netty's frame codec: reads the 9-byte header of every
 * frame the client sends (RFC 9113 §4.1) without parsing payloads, and counts the frames that cost the
 * node work but carry no request: SETTINGS and PING (each answered with an acknowledgement), PRIORITY
 * and WINDOW_UPDATE. More than the listener's {@code max_control_frames_per_second} in one second is a
 * flood: the connection is closed with GOAWAY ENHANCE_YOUR_CALM (§5.4.1), which the frame codec sends
 * when handed the error. Netty's own limits cover the rest: resets, empty DATA frames, CONTINUATION
 * frames, and acknowledgements queued for a client that does not read.
 *
 * <p>It also counts the connection's wire bytes for the listener's totals, as the HTTP/1.1 codec does.
 */
final class Http2FloodGuard extends ChannelDuplexHandler {
    private static final int PREFACE_LENGTH = 24;
    private static final int FRAME_HEADER = 9;
    private static final int PRIORITY = 0x2;
    private static final int SETTINGS = 0x4;
    private static final int PING = 0x6;
    private static final int WINDOW_UPDATE = 0x8;
    private static final int ACK = 0x1;
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    /** How long a connection closed for an error goes on reading (and dropping) what the client sends. */
    private static final long LINGER_MAX = TimeUnit.SECONDS.toNanos(1);
    /** ... and how long the client may be quiet before the close comes sooner. */
    private static final long LINGER_QUIET = TimeUnit.MILLISECONDS.toNanos(100);

    private final int maxControlFramesPerSecond;
    private final ByteCounter bytes;
    private final NodeMetrics metrics;
    private final byte[] header = new byte[FRAME_HEADER];
    private int headerFill;
    /** Bytes still to pass over unread: the connection preface, then each frame's payload. */
    private long skip = PREFACE_LENGTH;

    private long windowStart = System.nanoTime();
    private int controlFrames;
    private boolean flooded;
    private long received;
    private long sent;
    private boolean inRead;
    private boolean lingering;
    private long lingerStart;
    private long lastRead;

    Http2FloodGuard(int maxControlFramesPerSecond, ByteCounter bytes, NodeMetrics metrics) {
        this.maxControlFramesPerSecond = maxControlFramesPerSecond;
        this.bytes = bytes;
        this.metrics = metrics;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        inRead = true;
        if (flooded || lingering) {
            lastRead = System.nanoTime();
            buf.release();
            return;
        }
        received += buf.readableBytes();
        if (!scan(buf)) {
            flooded = true;
            buf.release();
            metrics.error("http2_flood");
            ctx.fireExceptionCaught(Http2Exception.connectionError(
                    Http2Error.ENHANCE_YOUR_CALM,
                    "more than %d control frames in a second",
                    maxControlFramesPerSecond));
            return;
        }
        ctx.fireChannelRead(buf);
    }

    /** Walks the frame headers in {@code buf}; false when the control frames are over the limit. */
    private boolean scan(ByteBuf buf) {
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        while (i < end) {
            if (skip > 0) {
                int n = (int) Math.min(skip, end - i);
                skip -= n;
                i += n;
                continue;
            }
            header[headerFill++] = buf.getByte(i++);
            if (headerFill < FRAME_HEADER) {
                continue;
            }
            headerFill = 0;
            skip = ((header[0] & 0xffL) << 16) | ((header[1] & 0xffL) << 8) | (header[2] & 0xffL);
            int type = header[3] & 0xff;
            boolean ack = (header[4] & ACK) != 0;
            boolean control = type == PRIORITY || type == WINDOW_UPDATE || ((type == SETTINGS || type == PING) && !ack);
            if (control && !withinLimit()) {
                return false;
            }
        }
        return true;
    }

    private boolean withinLimit() {
        long now = System.nanoTime();
        if (now - windowStart >= SECOND) {
            windowStart = now;
            controlFrames = 0;
        }
        return ++controlFrames <= maxControlFramesPerSecond;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf) {
            sent += buf.readableBytes();
        }
        ctx.write(msg, promise);
    }

    /**
     * A close decided while the client's bytes were being read is a protocol error's, after the GOAWAY
     * that says why: the client may still be sending, and closing a socket with unread bytes makes the
     * kernel reset it, which can destroy the GOAWAY before the client reads it. So, as NGINX's lingering
     * close, the connection goes on reading and dropping for a moment (until the client is quiet for
     * 100 ms, at most a second) and then closes. Idle, drain and shutdown closes are not delayed.
     */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (lingering || !(inRead || flooded) || !ctx.channel().isActive()) {
            ctx.close(promise);
            return;
        }
        lingering = true;
        lingerStart = System.nanoTime();
        lastRead = lingerStart;
        ctx.channel().config().setAutoRead(true);
        lingerCheck(ctx, promise);
    }

    private void lingerCheck(ChannelHandlerContext ctx, ChannelPromise promise) {
        long now = System.nanoTime();
        if (!ctx.channel().isActive() || now - lingerStart >= LINGER_MAX || now - lastRead >= LINGER_QUIET) {
            ctx.close(promise);
            return;
        }
        ctx.executor().schedule(() -> lingerCheck(ctx, promise), 50, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inRead = false;
        report();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        report();
        ctx.fireChannelInactive();
    }

    private void report() {
        bytes.add(received, sent);
        received = 0;
        sent = 0;
    }
}
