package io.flotilla.node.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connections to origin servers, owned by one event loop. Every method runs on that loop,
 * and connections are opened on it too, so a downstream channel and its upstream connection share a
 * thread: no lock and no hand-off anywhere on the proxy path.
 */
public final class ConnectionPool {
    private static final int MAX_RESPONSE_LINE = 8 * 1024;
    private static final int MAX_RESPONSE_HEADERS = 64 * 1024;
    /** Large enough that a 64 KiB response body passes as one or two messages, not four. */
    private static final int MAX_CHUNK = 64 * 1024;
    /** Only read by the decoders once built, so every upstream connection shares it. */
    private static final HttpDecoderConfig RESPONSE_DECODING = new HttpDecoderConfig()
            .setMaxInitialLineLength(MAX_RESPONSE_LINE)
            .setMaxHeaderSize(MAX_RESPONSE_HEADERS)
            .setMaxChunkSize(MAX_CHUNK)
            .setStrictLineParsing(true)
            .setUseRfc9112TransferEncoding(true);

    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private static final long MIN_SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long MAX_SWEEP_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Map<UpstreamServer, ArrayDeque<UpstreamConnection>> idle = new HashMap<>();
    private final MultiplexedConnections multiplexed;
    private ScheduledFuture<?> sweep;
    private long sweepInterval;

    /**
     * @param loop         the owning event loop
     * @param channelClass the transport's socket channel class (epoll or NIO)
     * @param connectTimeout  upstream connect timeout
     */
    public ConnectionPool(EventLoop loop, Class<? extends SocketChannel> channelClass, Duration connectTimeout) {
        this.loop = loop;
        this.bootstrap = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .option(ChannelOption.AUTO_READ, false)
                // TCP_NODELAY is on already: Netty's socket config sets it on every new socket.
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024));
        this.multiplexed = new MultiplexedConnections(loop, bootstrap);
    }

    /** Failure of an acquire refused by the upstream's circuit limits (not a failure of the server). */
    public static final class Overflow extends Exception {
        Overflow(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * A connection to {@code server}: the most recently used idle one, or a new one if the upstream's
     * circuit limits allow (else a failed future with {@link Overflow}).
     *
     * @param fresh skip the idle connections (a retry after a reused one failed)
     */
    public Future<UpstreamConnection> acquire(Upstream upstream, UpstreamServer server, boolean fresh) {
        if (upstream.protocol().multiplexed()) {
            return multiplexed.acquire(upstream, server);
        }
        if (!fresh) {
            ArrayDeque<UpstreamConnection> queue = idle.get(server);
            while (queue != null && !queue.isEmpty()) {
                UpstreamConnection connection = queue.pollLast();
                connection.leavePool();
                if (connection.channel().isActive()) {
                    return loop.newSucceededFuture(connection);
                }
            }
        }
        if (!upstream.tryBeginConnect()) {
            return loop.newFailedFuture(new Overflow("upstream " + upstream.name() + " at its connection limits"));
        }
        Promise<UpstreamConnection> promise = loop.newPromise();
        promise.addListener(f -> upstream.endConnect());
        UpstreamConnection connection = new UpstreamConnection(server);
        ChannelFuture connect = bootstrap
                .clone()
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (upstream.tls() != null) {
                            ch.pipeline().addLast("tls", upstream.newTlsHandler(ch.alloc(), server));
                        }
                        ch.pipeline()
                                .addLast("http", new HttpClientCodec(RESPONSE_DECODING, false, false))
                                .addLast("upstream", connection);
                    }
                })
                .connect(server.resolvedAddress());
        connect.addListener(f -> {
            if (f.isSuccess()) {
                promise.setSuccess(connection);
            } else {
                promise.setFailure(f.cause());
            }
        });
        return promise;
    }

    /**
     * Takes a connection back after an exchange. Only connections whose last exchange ended cleanly
     * (framing sound, both messages complete, origin keeps alive) may be offered as reusable.
     */
    public void release(UpstreamConnection connection, boolean reusable, Upstream upstream) {
        connection.detach();
        if (connection.multiplexed()) {
            connection.channel().close(); // a stream is not reused; one not yet ended is reset
            return;
        }
        var limits = upstream.pool();
        boolean keep = reusable
                && connection.channel().isActive()
                && (limits.maxRequests() == 0 || connection.requests() < limits.maxRequests())
                && connection.ageNanos() < limits.maxAge().toNanos();
        ArrayDeque<UpstreamConnection> queue =
                keep ? idle.computeIfAbsent(connection.server(), s -> new ArrayDeque<>()) : null;
        if (!keep || queue.size() >= limits.maxIdle()) {
            connection.channel().close();
            return;
        }
        queue.addLast(connection);
        long idleNanos = limits.idleTimeout().toNanos();
        connection.idleIn(this, System.nanoTime() + idleNanos);
        scheduleSweep(idleNanos);
        // A pending read lets a close by the origin be noticed while idle, and any stray bytes too.
        connection.channel().read();
    }

    /**
     * Idle connections are expired by one periodic sweep per pool rather than a timer each: a timer
     * per release would cost a schedule and a cancel on every request of a busy pool.
     */
    private void scheduleSweep(long idleNanos) {
        long interval = Math.max(MIN_SWEEP_NANOS, Math.min(MAX_SWEEP_NANOS, idleNanos / 2));
        if (sweep != null && sweepInterval <= interval) {
            return;
        }
        if (sweep != null) {
            sweep.cancel(false);
        }
        sweepInterval = interval;
        sweep = loop.scheduleAtFixedRate(this::expireIdle, interval, interval, TimeUnit.NANOSECONDS);
    }

    private void expireIdle() {
        long now = System.nanoTime();
        for (ArrayDeque<UpstreamConnection> queue : idle.values()) {
            // Oldest first: the deque is in release order, so the expired ones are at its head.
            while (!queue.isEmpty() && now - queue.peekFirst().idleDeadline() >= 0) {
                UpstreamConnection expired = queue.pollFirst();
                expired.leavePool();
                expired.channel().close();
            }
        }
    }

    void remove(UpstreamConnection connection) {
        ArrayDeque<UpstreamConnection> queue = idle.get(connection.server());
        if (queue != null) {
            queue.remove(connection);
        }
        connection.leavePool();
    }

    /** Closes every idle connection; called on the loop when the node stops. */
    public void closeAll() {
        multiplexed.closeAll();
        List<UpstreamConnection> all = new ArrayList<>();
        idle.values().forEach(all::addAll);
        idle.clear();
        if (sweep != null) {
            sweep.cancel(false);
            sweep = null;
        }
        for (UpstreamConnection connection : all) {
            connection.leavePool();
            connection.channel().close();
        }
    }
}
