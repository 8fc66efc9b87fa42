package io.flotilla.node.upstream;

import io.flotilla.node.config.PoolConfig;
import io.flotilla.node.config.UpstreamConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 to origin servers ({@code protocol: h2} or {@code h2c}), owned by one event loop like the
 * pool it belongs to: one connection per server, every request a stream of it. A stream is a child
 * channel whose pipeline turns frames into the same {@code HttpObject}s an HTTP/1.1 connection
 * gives, so the exchange relays it unchanged, trailers included (gRPC's {@code grpc-status}). A
 * stream is never reused: releasing it closes it (a stream not yet ended is reset with CANCEL, which
 * is how a client's cancellation reaches the origin). A connection that the server ends (GOAWAY,
 * close) is replaced for the next request; one without streams is closed after the pool's
 * {@code idle_timeout}. A connection that has read nothing for the pool's {@code ping_interval} is
 * sent a PING, and closed if the answer does not come within {@code ping_timeout}: a server that
 * vanished without closing (a crashed host, a dropped NAT entry) fails its streams then, not when
 * each request's read timeout runs out, and the next request opens a new connection.
 */
final class MultiplexedConnections {
    private static final java.util.logging.Logger LOG =
            java.util.logging.Logger.getLogger(MultiplexedConnections.class.getName());
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final Map<UpstreamServer, Session> sessions = new HashMap<>();

    /** One HTTP/2 connection to a server. */
    private final class Session {
        final UpstreamServer server;
        final Promise<Channel> ready;
        Channel parent;
        int streams;
        /** Streams opened on it: a stream whose HEADERS never left has no id, and the codec would not close it. */
        final java.util.Set<Channel> open = new java.util.HashSet<>();

        boolean ending; // GOAWAY received: no new streams on it
        ScheduledFuture<?> idleClose;
        ScheduledFuture<?> pingUnanswered; // a PING is out: closes the connection unless its ACK comes first

        Session(UpstreamServer server) {
            this.server = server;
            this.ready = loop.newPromise();
        }

        boolean usable() {
            return !ending && (parent == null || parent.isActive());
        }
    }

    MultiplexedConnections(EventLoop loop, Bootstrap bootstrap) {
        this.loop = loop;
        this.bootstrap = bootstrap;
    }

    /** A new stream to {@code server}, on its connection (opened first if there is none). */
    Future<UpstreamConnection> acquire(Upstream upstream, UpstreamServer server) {
        Session session = sessions.get(server);
        if (session == null || !session.usable()) {
            session = connect(upstream, server);
        }
        Promise<UpstreamConnection> promise = loop.newPromise();
        Session s = session;
        s.ready.addListener((Future<Channel> f) -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            openStream(upstream, s, promise);
        });
        return promise;
    }

    private void openStream(Upstream upstream, Session s, Promise<UpstreamConnection> promise) {
        if (!s.parent.isActive()) {
            promise.tryFailure(new java.nio.channels.ClosedChannelException());
            return;
        }
        UpstreamConnection connection = new UpstreamConnection(s.server);
        connection.multiplexed(true);
        if (s.idleClose != null) {
            s.idleClose.cancel(false);
            s.idleClose = null;
        }
        s.streams++;
        new Http2StreamChannelBootstrap(s.parent)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                        ch.pipeline()
                                .addLast("h2-http", new Http2StreamFrameToHttpObjectCodec(false))
                                .addLast("te-trailers", TrailersAccepted.INSTANCE)
                                .addLast("upstream", connection);
                    }
                })
                .open()
                .addListener((Future<Http2StreamChannel> f) -> {
                    if (!f.isSuccess()) {
                        streamEnded(upstream, s);
                        promise.tryFailure(f.cause());
                        return;
                    }
                    Http2StreamChannel stream = f.getNow();
                    s.open.add(stream);
                    stream.closeFuture().addListener(c -> {
                        s.open.remove(stream);
                        streamEnded(upstream, s);
                    });
                    if (!s.parent.isActive()) {
                        stream.close();
                    }
                    promise.trySuccess(connection);
                });
    }

    private void streamEnded(Upstream upstream, Session s) {
        if (--s.streams > 0 || s.parent == null || !s.parent.isActive()) {
            return;
        }
        if (s.ending) {
            s.parent.close();
            return;
        }
        long idle = upstream.pool().idleTimeout().toNanos();
        s.idleClose = loop.schedule(
                () -> {
                    if (s.streams == 0) {
                        s.parent.close();
                    }
                },
                idle,
                TimeUnit.NANOSECONDS);
    }

    private Session connect(Upstream upstream, UpstreamServer server) {
        Session s = new Session(server);
        sessions.put(server, s);
        boolean tls = upstream.protocol() == UpstreamConfig.Protocol.H2;
        bootstrap
                .clone()
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls) {
                            ch.pipeline().addLast("tls", upstream.newTlsHandler(ch.alloc(), server));
                        }
                        PoolConfig pool = upstream.pool();
                        if (!pool.pingInterval().isZero()) {
                            ch.pipeline().addLast("keepalive", new Keepalive(s, pool));
                        }
                        ch.pipeline()
                                .addLast(
                                        "h2",
                                        Http2FrameCodecBuilder.forClient()
                                                // Origins do not push to a proxy; the window is the stream's
                                                // backpressure.
                                                .initialSettings(Http2Settings.defaultSettings()
                                                        .pushEnabled(false))
                                                .build())
                                .addLast("streams", new Http2MultiplexHandler(new RefusePushes()))
                                .addLast("session", new SessionEvents(s));
                    }
                })
                .connect(server.resolvedAddress())
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        forget(s);
                        s.ready.tryFailure(f.cause());
                        return;
                    }
                    Channel parent = ((io.netty.channel.ChannelFuture) f).channel();
                    s.parent = parent;
                    parent.closeFuture().addListener(c -> {
                        forget(s);
                        if (s.pingUnanswered != null) {
                            s.pingUnanswered.cancel(false);
                        }
                        for (Channel stream : List.copyOf(s.open)) {
                            stream.close();
                        }
                        s.ready.tryFailure(new java.nio.channels.ClosedChannelException());
                    });
                    parent.config().setAutoRead(true); // the multiplexer reads for every stream
                    if (!tls) {
                        s.ready.trySuccess(parent);
                        return;
                    }
                    SslHandler ssl = parent.pipeline().get(SslHandler.class);
                    ssl.handshakeFuture().addListener(h -> {
                        if (!h.isSuccess()) {
                            s.ready.tryFailure(h.cause());
                            parent.close();
                        } else if (!ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol())) {
                            s.ready.tryFailure(new IllegalStateException(
                                    server + " did not agree to HTTP/2 (ALPN: " + ssl.applicationProtocol() + ")"));
                            parent.close();
                        } else {
                            s.ready.trySuccess(parent);
                        }
                    });
                });
        return s;
    }

    private void forget(Session s) {
        sessions.remove(s.server, s);
    }

    /** Closes every connection; called on the loop when the node stops. */
    void closeAll() {
        for (Session s : Map.copyOf(sessions).values()) {
            if (s.parent != null) {
                s.parent.close();
            }
        }
        sessions.clear();
    }

    /** Watches a connection for the server's GOAWAY: its streams finish, new ones go to a new connection. */
    private final class SessionEvents extends ChannelInboundHandlerAdapter {
        private final Session session;

        SessionEvents(Session session) {
            this.session = session;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2PingFrame ping && ping.ack() && session.pingUnanswered != null) {
                session.pingUnanswered.cancel(false);
                session.pingUnanswered = null;
            }
            if (msg instanceof Http2GoAwayFrame) {
                session.ending = true;
                forget(session);
                if (session.streams == 0) {
                    ctx.close();
                }
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Sends a PING when the connection has read nothing for the pool's {@code ping_interval}. It sits
     * before the HTTP/2 codec, so any byte read (a frame of any stream, a PING's ACK) counts as life.
     */
    private final class Keepalive extends IdleStateHandler {
        private final Session session;
        private final long timeoutNanos;

        Keepalive(Session session, PoolConfig pool) {
            super(pool.pingInterval().toNanos(), 0, 0, TimeUnit.NANOSECONDS);
            this.session = session;
            this.timeoutNanos = pool.pingTimeout().toNanos();
        }

        @Override
        protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
            if (session.pingUnanswered != null) {
                return; // one PING at a time: its timeout decides
            }
            Channel parent = ctx.channel();
            session.pingUnanswered = loop.schedule(
                    () -> {
                        LOG.warning(() -> "HTTP/2 connection to " + session.server + " closed: its PING went "
                                + "unanswered for " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
                        parent.close();
                    },
                    timeoutNanos,
                    TimeUnit.NANOSECONDS);
            parent.writeAndFlush(new DefaultHttp2PingFrame(System.nanoTime()));
        }
    }

    /**
     * {@code TE: trailers} on every request: the node relays trailers (to HTTP/2 clients as trailing
     * HEADERS, to HTTP/1.1 clients in a chunked body), and gRPC servers require the field (RFC 9113
     * §8.2.2 allows this one value). The client's own TE was removed with the hop-by-hop fields.
     */
    @io.netty.channel.ChannelHandler.Sharable
    private static final class TrailersAccepted extends io.netty.channel.ChannelOutboundHandlerAdapter {
        static final TrailersAccepted INSTANCE = new TrailersAccepted();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
            if (msg instanceof io.netty.handler.codec.http.HttpRequest request) {
                request.headers()
                        .set(
                                io.netty.handler.codec.http.HttpHeaderNames.TE,
                                io.netty.handler.codec.http.HttpHeaderValues.TRAILERS);
            }
            ctx.write(msg, promise);
        }
    }

    /** Streams the server opens (push promises, which were switched off) are refused. */
    private static final class RefusePushes extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRegistered(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }
}
