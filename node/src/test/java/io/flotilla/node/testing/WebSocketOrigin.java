package io.flotilla.node.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real WebSocket server for tests (Netty's {@link WebSocketServerProtocolHandler}) on 127.0.0.1 port
 * 0: {@code /ws} echoes every data frame, and a text frame {@code firehose N} makes it send N bytes of
 * {@link #patternByte} in 64 KiB binary frames as fast as its socket takes them. Any other path is
 * plain HTTP: {@code /refuse...} answers 403, anything else 200. It records every request head it got
 * and counts connections and handshakes.
 */
public final class WebSocketOrigin implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<HttpHeaders> heads = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger handshakes = new AtomicInteger();
    private final AtomicLong fireHosed = new AtomicLong();
    private final AtomicBoolean firehoseBlocked = new AtomicBoolean();

    private WebSocketOrigin() throws InterruptedException {
        WebSocketServerProtocolConfig config = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/ws")
                .maxFramePayloadLength(64 * 1024 * 1024)
                .handshakeTimeoutMillis(5_000)
                .build();
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                // The leak detector watches the node, not this server: at PARANOID it records every access,
                // and unmasking a frame is one per 8 bytes.
                .childOption(ChannelOption.ALLOCATOR, new UnpooledByteBufAllocator(false, true))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.incrementAndGet();
                        ch.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(64 * 1024))
                                .addLast(new Recorder())
                                .addLast(new WebSocketServerProtocolHandler(config))
                                .addLast(new Echo());
                    }
                })
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
    }

    public static WebSocketOrigin start() throws InterruptedException {
        return new WebSocketOrigin();
    }

    /** {@code 127.0.0.1:port}, as a config's server list names it. */
    public String address() {
        return "127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Every request head received, handshakes included, in order. */
    public List<HttpHeaders> heads() {
        return heads;
    }

    public int connections() {
        return connections.get();
    }

    /** Handshakes answered with 101. */
    public int handshakes() {
        return handshakes.get();
    }

    /** Bytes of the firehose written to the socket so far. */
    public long fireHosed() {
        return fireHosed.get();
    }

    /** Whether the firehose had to wait for its socket: the node stopped taking bytes. */
    public boolean firehoseBlocked() {
        return firehoseBlocked.get();
    }

    /** The byte at {@code offset} of a firehose: deterministic, so a reader can check what came. */
    public static byte patternByte(long offset) {
        return (byte) (offset * 31 + offset / 65536);
    }

    @Override
    public void close() throws InterruptedException {
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Records each head; answers what is not a handshake on /ws. */
    private final class Recorder extends SimpleChannelInboundHandler<FullHttpRequest> {
        Recorder() {
            super(false);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            heads.add(request.headers().copy());
            if (request.uri().startsWith("/ws")) {
                ctx.fireChannelRead(request);
                return;
            }
            request.release();
            HttpResponseStatus status =
                    request.uri().startsWith("/refuse") ? HttpResponseStatus.FORBIDDEN : HttpResponseStatus.OK;
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1,
                    status,
                    Unpooled.copiedBuffer(status.reasonPhrase(), StandardCharsets.US_ASCII));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            ctx.writeAndFlush(response);
        }
    }

    /** Echoes data frames; runs the firehose. */
    private final class Echo extends ChannelInboundHandlerAdapter {
        private long firehoseLeft;
        private long firehoseOffset;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
                handshakes.incrementAndGet();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof TextWebSocketFrame text && text.text().startsWith("firehose ")) {
                firehoseLeft = Long.parseLong(text.text().substring(9).trim());
                text.release();
                // Polled rather than woken by writability events, which the WebSocket handlers in front
                // of this one do not reliably pass on; a test server can afford a 2 ms timer.
                var pumping = ctx.executor().scheduleAtFixedRate(() -> pump(ctx), 0, 2, TimeUnit.MILLISECONDS);
                ctx.channel().closeFuture().addListener(f -> pumping.cancel(false));
                return;
            }
            if (msg instanceof WebSocketFrame frame) {
                ctx.writeAndFlush(frame);
                return;
            }
            ctx.fireChannelRead(msg);
        }

        private void pump(ChannelHandlerContext ctx) {
            while (firehoseLeft > 0 && ctx.channel().isWritable()) {
                int n = (int) Math.min(64 * 1024, firehoseLeft);
                byte[] bytes = new byte[n];
                for (int i = 0; i < n; i++) {
                    bytes[i] = patternByte(firehoseOffset + i);
                }
                // One copy, not a byte at a time: the PARANOID leak detector records every access.
                ByteBuf chunk = Unpooled.wrappedBuffer(bytes);
                firehoseOffset += n;
                firehoseLeft -= n;
                ctx.writeAndFlush(new BinaryWebSocketFrame(chunk))
                        .addListener((ChannelFutureListener) f -> fireHosed.addAndGet(n));
            }
            if (firehoseLeft > 0) {
                firehoseBlocked.set(true);
            }
        }
    }
}
