package io.flotilla.node.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A small origin for {@code flotilla demo}: a page, an echo of what the proxy forwarded, a delay and
 * a payload of any size. Not part of the proxy path; it exists so a first look needs nothing else.
 */
public final class DemoOrigin implements AutoCloseable {
    private static final int MAX_BODY = 1024 * 1024;

    private final Channel channel;
    private final String name;

    private DemoOrigin(Channel channel, String name) {
        this.channel = channel;
        this.name = name;
    }

    /** Starts on {@code address} (port 0 for any) using {@code group}'s threads. */
    public static DemoOrigin start(
            EventLoopGroup group,
            Class<? extends io.netty.channel.ServerChannel> channelClass,
            InetSocketAddress address,
            String name)
            throws InterruptedException {
        DemoOrigin[] origin = new DemoOrigin[1];
        Channel channel = new ServerBootstrap()
                .group(group)
                .channel(channelClass)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(MAX_BODY))
                                .addLast(origin[0].new Handler(name));
                    }
                })
                .bind(address)
                .sync()
                .channel();
        origin[0] = new DemoOrigin(channel, name);
        return origin[0];
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    public String name() {
        return name;
    }

    @Override
    public void close() throws InterruptedException {
        channel.close().await();
    }

    /** Answered with 503 while down (the demo's "backend kill"), so health checks and requests fail. */
    private final java.util.concurrent.atomic.AtomicBoolean down = new java.util.concurrent.atomic.AtomicBoolean();

    private final java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();

    /** Requests this origin answered, which shows what the cache spared it. */
    public long served() {
        return served.get();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final String name;

        Handler(String name) {
            this.name = name;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            QueryStringDecoder query = new QueryStringDecoder(request.uri());
            String path = query.path();
            if (path.equals("/_down") || path.equals("/_up")) {
                down.set(path.equals("/_down"));
                send(ctx, HttpUtil.isKeepAlive(request), text(name + (down.get() ? " is down\n" : " is up\n")));
                return;
            }
            if (down.get()) {
                FullHttpResponse unavailable = text(name + " is down (POST /_up brings it back)\n");
                unavailable.setStatus(HttpResponseStatus.SERVICE_UNAVAILABLE);
                send(ctx, HttpUtil.isKeepAlive(request), unavailable);
                return;
            }
            served.incrementAndGet();
            if (path.endsWith("/cached")) {
                FullHttpResponse cached = text("made by " + name + " at " + java.time.Instant.now() + "\n");
                cached.headers()
                        .set(HttpHeaderNames.CACHE_CONTROL, "public, max-age=300")
                        .set("Surrogate-Key", "demo");
                send(ctx, HttpUtil.isKeepAlive(request), cached);
                return;
            }
            if (path.endsWith("/slow")) {
                long ms = Math.min(30_000, param(query, "ms", 1000));
                boolean keepAlive = HttpUtil.isKeepAlive(request);
                Runnable reply = () -> send(ctx, keepAlive, text("slept " + ms + " ms on " + name + "\n"));
                ctx.executor().schedule(reply, ms, TimeUnit.MILLISECONDS);
                return;
            }
            if (path.endsWith("/bytes")) {
                int n = (int) Math.min(64L * 1024 * 1024, param(query, "n", 1024));
                ByteBuf body = ctx.alloc().buffer(n);
                for (int i = 0; i < n; i++) {
                    body.writeByte('a' + i % 26);
                }
                send(ctx, HttpUtil.isKeepAlive(request), response(body, "application/octet-stream"));
                return;
            }
            if (path.endsWith("/echo")) {
                StringBuilder b = new StringBuilder();
                b.append(request.method())
                        .append(' ')
                        .append(request.uri())
                        .append(' ')
                        .append(request.protocolVersion())
                        .append('\n');
                for (Map.Entry<String, String> h : request.headers()) {
                    b.append(h.getKey()).append(": ").append(h.getValue()).append('\n');
                }
                b.append("\n(body: ")
                        .append(request.content().readableBytes())
                        .append(" bytes, served by ")
                        .append(name)
                        .append(")\n");
                send(ctx, HttpUtil.isKeepAlive(request), text(b.toString()));
                return;
            }
            send(
                    ctx,
                    HttpUtil.isKeepAlive(request),
                    text("Hello from " + name + ", behind Flotilla.\n"
                            + "Try /echo (what the proxy forwarded), /slow?ms=500, /bytes?n=65536\n"));
        }

        private static long param(QueryStringDecoder query, String key, long fallback) {
            try {
                return Long.parseLong(query.parameters()
                        .getOrDefault(key, java.util.List.of("" + fallback))
                        .get(0));
            } catch (NumberFormatException e) {
                return fallback;
            }
        }

        private static FullHttpResponse text(String body) {
            return response(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8), "text/plain; charset=utf-8");
        }

        private static FullHttpResponse response(ByteBuf body, String type) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, type)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                    .set(HttpHeaderNames.SERVER, "demo-origin");
            return response;
        }

        private void send(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse response) {
            HttpUtil.setKeepAlive(response, keepAlive);
            if (keepAlive) {
                ctx.writeAndFlush(response);
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
