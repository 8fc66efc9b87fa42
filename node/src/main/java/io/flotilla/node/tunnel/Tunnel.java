package io.flotilla.node.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Two channels that left HTTP, relaying bytes unchanged in both directions: a client connection
 * whose upgrade the origin accepted, and the upstream connection that accepted it. Frames are not
 * parsed (as in HAProxy and NGINX): what one side sends, the other receives, extensions and all; only
 * their heads are followed ({@link FrameBoundary}), so a drain can say goodbye between two frames.
 *
 * <p>Each side is an {@link End}, the last handler of its channel's pipeline (on the upstream side,
 * just before the pool's handler, which still counts the connection). Both channels have AUTO_READ
 * off and share one event loop (upstream connections are opened on their client's), so nothing is
 * locked: a side is read only while the other side is writable, and read again when it becomes
 * writable, which bounds what the node holds per tunnel to a write buffer's high-water mark plus
 * one read (see {@link #pendingOutboundBytes()}).
 *
 * <p>A side is any channel carrying the tunnel's bytes in some {@link Framing}: plain bytes on an
 * HTTP/1.1 connection, or DATA frames on an HTTP/2 stream channel (RFC 8441 extended CONNECT,
 * {@link Http2StreamFraming}), whose writability follows the stream's flow-control window and whose
 * credit is given back only once the other side's socket took the bytes.
 */
public final class Tunnel {
    private static final Logger LOG = Logger.getLogger(Tunnel.class.getName());
    /**
     * User event the node fires on every client connection just before a drain's timeout closes it: a
     * tunnel sends each peer a WebSocket close frame, 1001 "going away" (RFC 6455 §7.4.1), where its
     * stream is between two frames.
     */
    public static final Object GOING_AWAY = new Object();
    /** Close frame 1001 to a client: a server's frames are not masked. */
    private static final byte[] GOING_AWAY_TO_CLIENT = {(byte) 0x88, 0x02, 0x03, (byte) 0xe9};

    /** How long a side that did not cause the close may take to send what was relayed to it. */
    static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** How a side's channel carries the tunnel's bytes. */
    public interface Framing {
        /** The bytes in an inbound message (ownership passes), or null for one that carries none. */
        ByteBuf unwrap(Object message);

        /** The outbound message carrying {@code bytes}. */
        Object wrap(ByteBuf bytes);

        /** Whether an inbound message also ends what this side sends (its half-close); read before unwrap. */
        default boolean ends(Object message) {
            return false;
        }

        /**
         * Flow-control credit an inbound message took (read before unwrap), held until the other side's
         * socket took its bytes and then given back with {@link #giveBack}; 0 where TCP is the flow control.
         */
        default int credit(Object message) {
            return 0;
        }

        /** Gives {@code credit} back to this side's peer, which may send that much more. */
        default void giveBack(ChannelHandlerContext ctx, int credit) {}

        /** The last message written to this side before it is closed. */
        default Object end() {
            return Unpooled.EMPTY_BUFFER;
        }

        /** A byte stream: an HTTP/1.1 connection after 101 Switching Protocols. */
        Framing BYTES = new Framing() {
            @Override
            public ByteBuf unwrap(Object message) {
                return message instanceof ByteBuf bytes ? bytes : null;
            }

            @Override
            public Object wrap(ByteBuf bytes) {
                return bytes;
            }
        };
    }

    private final Tunnels registry;
    private final long idleNanos;
    private final BiConsumer<Tunnel, String> onClose;
    private final End client;
    private final End upstream;
    private final long openedNanos = System.nanoTime();
    private long lastActivity = openedNanos;
    private long toUpstream;
    private long toClient;
    private boolean started;
    private boolean closed;
    private boolean goingAway;
    private ScheduledFuture<?> idleCheck;

    /**
     * @param idleTimeout closes the tunnel when no byte crossed it either way for this long
     * @param onClose     told once, on the event loop, with why the tunnel closed
     */
    public Tunnel(
            Tunnels registry,
            Duration idleTimeout,
            Framing clientFraming,
            Framing upstreamFraming,
            BiConsumer<Tunnel, String> onClose) {
        this.registry = registry;
        this.idleNanos = idleTimeout.toNanos();
        this.onClose = onClose;
        this.client = new End(clientFraming, "client");
        this.upstream = new End(upstreamFraming, "upstream");
        this.client.other = upstream;
        this.upstream.other = client;
    }

    /** The handler to put last in the client channel's pipeline, before its HTTP handlers go. */
    public ChannelHandler clientEnd() {
        return client;
    }

    /** The handler to put in the upstream channel's pipeline, before its HTTP codec goes. */
    public ChannelHandler upstreamEnd() {
        return upstream;
    }

    /**
     * Starts relaying once both ends are in place and the HTTP handlers gone: bytes that reached an
     * end meanwhile (an origin's first frame behind its 101, left in its decoder) go first.
     */
    public void start() {
        if (client.ctx == null || upstream.ctx == null) {
            throw new IllegalStateException("both ends must be in their pipelines first");
        }
        started = true;
        registry.opened(this);
        if (!client.ctx.channel().isActive() || !upstream.ctx.channel().isActive()) {
            close(client.ctx.channel().isActive() ? "upstream" : "client");
            return;
        }
        client.relayEarly();
        upstream.relayEarly();
        client.ctx.flush();
        upstream.ctx.flush();
        client.readIfOtherWritable();
        upstream.readIfOtherWritable();
        scheduleIdleCheck(idleNanos);
    }

    /** Bytes sent from the client to the origin so far. */
    public long bytesToUpstream() {
        return toUpstream;
    }

    /** Bytes sent from the origin to the client so far. */
    public long bytesToClient() {
        return toClient;
    }

    /** How long the tunnel has been open. */
    public long ageNanos() {
        return System.nanoTime() - openedNanos;
    }

    /** Bytes written to either side but not yet taken by its socket: what backpressure bounds. */
    public long pendingOutboundBytes() {
        return client.pending() + upstream.pending();
    }

    private void scheduleIdleCheck(long delayNanos) {
        idleCheck = client.ctx.executor().schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkIdle() {
        if (closed) {
            return;
        }
        long left = lastActivity + idleNanos - System.nanoTime();
        if (left > 0) {
            scheduleIdleCheck(left); // one timer per tunnel, moved on only when it fires
        } else {
            close("idle");
        }
    }

    private void relay(End from, ByteBuf bytes, int credit) {
        int n = bytes.readableBytes();
        lastActivity = System.nanoTime();
        if (from == client) {
            toUpstream += n;
        } else {
            toClient += n;
        }
        registry.relayed(from == client, n);
        from.frames.feed(bytes);
        End to = from.other;
        if (credit == 0 && !to.countsInFlight) {
            to.ctx.write(to.framing.wrap(bytes), to.ctx.voidPromise());
            return;
        }
        // The credit goes back, and the bytes stop counting as held, once the other side's socket took them.
        ChannelPromise written = to.ctx.newPromise();
        if (to.countsInFlight) {
            to.inFlight += n;
        }
        written.addListener(f -> {
            if (to.countsInFlight) {
                to.inFlight -= n;
            }
            if (credit > 0 && f.isSuccess() && !closed) {
                from.framing.giveBack(from.ctx, credit);
            }
        });
        to.ctx.write(to.framing.wrap(bytes), written);
    }

    /**
     * Says goodbye to both peers before the node closes them (a drain's end): a close frame 1001 to
     * each side whose incoming stream is between frames, flushed. The close itself is the node's.
     */
    private void goAway() {
        if (closed || !started || goingAway) {
            return;
        }
        goingAway = true;
        if (upstream.frames.atBoundary()) {
            client.ctx.writeAndFlush(client.framing.wrap(Unpooled.wrappedBuffer(GOING_AWAY_TO_CLIENT)));
        }
        if (client.frames.atBoundary()) {
            // To the origin the proxy speaks as a client, whose frames are masked (RFC 6455 §5.3).
            byte[] mask = new byte[4];
            java.util.concurrent.ThreadLocalRandom.current().nextBytes(mask);
            byte[] frame = {
                (byte) 0x88,
                (byte) 0x82,
                mask[0],
                mask[1],
                mask[2],
                mask[3],
                (byte) (0x03 ^ mask[0]),
                (byte) (0xe9 ^ mask[1])
            };
            upstream.ctx.writeAndFlush(upstream.framing.wrap(Unpooled.wrappedBuffer(frame)));
        }
    }

    /**
     * Closes both sides once. The side that did not cause the close gets what was relayed to it
     * first (a close frame the origin sent before its FIN reaches the client), for up to
     * {@link #LINGER_NANOS}.
     */
    private void close(String reason) {
        if (closed) {
            return;
        }
        closed = true;
        client.releaseEarly();
        upstream.releaseEarly();
        if (idleCheck != null) {
            idleCheck.cancel(false);
        }
        client.closeAfterFlush();
        upstream.closeAfterFlush();
        if (started) {
            registry.closed(this, goingAway ? "drain" : reason);
        }
        onClose.accept(this, reason);
    }

    /** One side of the tunnel: the handler that relays what its channel reads to the other side. */
    private final class End extends ChannelInboundHandlerAdapter {
        private final Framing framing;
        private final String name;
        private End other;
        private ChannelHandlerContext ctx;
        /** What arrived before {@link #start()}, as read. */
        private ArrayDeque<Object> early;
        /** Whether this side's channel has no outbound buffer to measure (an HTTP/2 stream): counted here. */
        private boolean countsInFlight;
        /** Bytes written to this side and not yet taken by its socket, where counted here. */
        private long inFlight;
        /** Where the frames of what this side sends start. */
        private final FrameBoundary frames = new FrameBoundary();

        End(Framing framing, String name) {
            this.framing = framing;
            this.name = name;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
            this.countsInFlight = ctx.channel().unsafe().outboundBuffer() == null;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (closed) {
                ReferenceCountUtil.release(msg); // bytes after the close
                return;
            }
            if (!started) {
                if (early == null) {
                    early = new ArrayDeque<>(2);
                }
                early.add(msg);
                return;
            }
            take(msg);
        }

        /** Relays what {@code msg} carries; when it ends this side's stream, closes the tunnel after it. */
        private void take(Object msg) {
            boolean ends = framing.ends(msg);
            int credit = framing.credit(msg);
            ByteBuf bytes = framing.unwrap(msg);
            if (bytes == null) {
                ReferenceCountUtil.release(msg); // the end of the 101's message, a reset, ...
            } else if (!bytes.isReadable()) {
                bytes.release();
                if (credit > 0) {
                    framing.giveBack(ctx, credit); // padding alone: nothing to wait for
                }
            } else {
                relay(this, bytes, credit);
            }
            if (ends) {
                other.ctx.flush();
                close(name);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (started && !closed) {
                other.ctx.flush();
                readIfOtherWritable();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (started && !closed && ctx.channel().isWritable()) {
                other.ctx.read(); // this side drained: the other may send again
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            close(name);
            ctx.fireChannelInactive(); // the pool's handler still counts the upstream connection closed
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == GOING_AWAY) {
                goAway();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!(cause instanceof IOException)) {
                LOG.log(Level.FINE, "closing tunnel after an error on its " + name + " side", cause);
            }
            close("error");
        }

        void readIfOtherWritable() {
            if (other.ctx.channel().isWritable()) {
                ctx.read();
            }
        }

        void relayEarly() {
            Object msg;
            while (!closed && early != null && (msg = early.poll()) != null) {
                take(msg);
            }
        }

        void releaseEarly() {
            Object msg;
            while (early != null && (msg = early.poll()) != null) {
                ReferenceCountUtil.release(msg);
            }
        }

        void closeAfterFlush() {
            if (!ctx.channel().isActive()) {
                return;
            }
            ctx.writeAndFlush(framing.end()).addListener(ChannelFutureListener.CLOSE);
            ScheduledFuture<?> cut = ctx.executor().schedule(() -> ctx.close(), LINGER_NANOS, TimeUnit.NANOSECONDS);
            ctx.channel().closeFuture().addListener(f -> cut.cancel(false));
        }

        long pending() {
            if (countsInFlight) {
                return inFlight;
            }
            var buffer = ctx.channel().unsafe().outboundBuffer();
            return buffer == null ? 0 : buffer.totalPendingWriteBytes();
        }
    }
}
