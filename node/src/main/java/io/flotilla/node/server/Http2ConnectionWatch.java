package io.flotilla.node.server;

import io.flotilla.node.metrics.NodeMetrics;
import io.flotilla.node.proxy.ProxyHandler;
import io.flotilla.node.tunnel.Tunnel;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Last handler of an HTTP/2 connection, after the stream multiplexer: what belongs to the connection
 * rather than to a stream. It counts the open streams, and while there are none the connection is
 * idle: after {@code client_header} before the first stream and {@code keep_alive} between streams it
 * is closed with GOAWAY NO_ERROR, as NGINX's {@code keepalive_timeout} closes an idle HTTP/2 connection.
 * On drain it sends GOAWAY at once (new streams are refused, RFC 9113 §6.8) and closes when the
 * streams in flight have finished. Reading pauses while the client does not read what it is sent, so a
 * client that only sends cannot queue responses without bound. A drain's last word
 * ({@link Tunnel#GOING_AWAY}) is passed to every open stream: WebSocket tunnels live on streams.
 */
final class Http2ConnectionWatch extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(Http2ConnectionWatch.class.getName());

    private final long firstStreamNanos;
    private final long idleNanos;
    private final NodeMetrics metrics;
    private final Streams streams;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> idle;
    private int open;
    private boolean draining;
    /** The open streams' channels, for events meant for each of them. */
    private final Set<Channel> streamChannels = new HashSet<>();

    /**
     * @param setup builds a new stream's pipeline (codec and proxy handler)
     */
    Http2ConnectionWatch(long firstStreamNanos, long idleNanos, NodeMetrics metrics, Consumer<Channel> setup) {
        this.firstStreamNanos = firstStreamNanos;
        this.idleNanos = idleNanos;
        this.metrics = metrics;
        this.streams = new Streams(setup);
    }

    /** The handler the multiplexer puts in each new stream's pipeline. */
    ChannelHandler streams() {
        return streams;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        armIdle(firstStreamNanos);
    }

    private void armIdle(long nanos) {
        idle = ctx.executor().schedule(this::idleExpired, nanos, TimeUnit.NANOSECONDS);
    }

    private void idleExpired() {
        if (open == 0 && ctx.channel().isActive()) {
            metrics.timeouts("keep_alive").inc();
            goAwayAndClose();
        }
    }

    private void goAwayAndClose() {
        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)).addListener(ChannelFutureListener.CLOSE);
    }

    private void streamOpened() {
        if (open++ == 0 && idle != null) {
            idle.cancel(false);
            idle = null;
        }
    }

    private void streamClosed() {
        if (--open == 0 && ctx.channel().isActive()) {
            if (draining) {
                ctx.close();
            } else {
                armIdle(idleNanos);
            }
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == Tunnel.GOING_AWAY) {
            for (Channel stream : List.copyOf(streamChannels)) {
                stream.pipeline().fireUserEventTriggered(evt);
            }
            return;
        }
        if (evt == ProxyHandler.DRAIN) {
            if (!draining) {
                draining = true;
                if (open == 0) {
                    goAwayAndClose();
                } else {
                    ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
                }
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (idle != null) {
            idle.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Protocol errors were answered by the frame codec already (GOAWAY or RST_STREAM); this is the rest.
        if (!(cause instanceof IOException)) {
            LOG.log(Level.FINE, "closing HTTP/2 connection " + ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }

    /** Set up each new stream's channel and count it open until it closes. */
    @ChannelHandler.Sharable
    private final class Streams extends ChannelInboundHandlerAdapter {
        private final Consumer<Channel> setup;

        Streams(Consumer<Channel> setup) {
            this.setup = setup;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext stream) {
            streamOpened();
            streamChannels.add(stream.channel());
            stream.channel().closeFuture().addListener(f -> {
                streamChannels.remove(stream.channel());
                streamClosed();
            });
            try {
                setup.accept(stream.channel());
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "could not set up an HTTP/2 stream; resetting it", e);
                stream.close();
            } finally {
                stream.pipeline().remove(this);
            }
        }
    }
}
