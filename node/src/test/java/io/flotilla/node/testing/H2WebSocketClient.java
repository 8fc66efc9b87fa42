package io.flotilla.node.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A WebSocket client over HTTP/2 (RFC 8441) for tests, built on Netty's HTTP/2 client: real frames
 * on a real h2c or TLS (ALPN h2) connection. Each {@link Tunnel} is a stream opened with an extended
 * CONNECT whose DATA frames carry WebSocket frames, masked as a client's must be (Netty's
 * WebSocket codec on the stream channel).
 */
public final class H2WebSocketClient implements AutoCloseable {
    /** The leak detector watches the node; this client's buffers are not tracked. */
    private static final UnpooledByteBufAllocator UNTRACKED = new UnpooledByteBufAllocator(false, true);

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel connection;
    private final CompletableFuture<Http2Settings> settings = new CompletableFuture<>();

    private H2WebSocketClient(int port, boolean tls) throws Exception {
        SslContext ssl = tls
                ? SslContextBuilder.forClient()
                        .trustManager(InsecureTrustManagerFactory.INSTANCE)
                        .applicationProtocolConfig(new ApplicationProtocolConfig(
                                ApplicationProtocolConfig.Protocol.ALPN,
                                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                                ApplicationProtocolNames.HTTP_2))
                        .build()
                : null;
        connection = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.ALLOCATOR, UNTRACKED)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), "localhost", port));
                        }
                        ch.pipeline()
                                .addLast(Http2FrameCodecBuilder.forClient().build())
                                .addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()))
                                .addLast(new SettingsWatch());
                    }
                })
                .connect("127.0.0.1", port)
                .sync()
                .channel();
    }

    /** Cleartext HTTP/2 with prior knowledge (a listener with {@code h2c: true}). */
    public static H2WebSocketClient h2c(int port) throws Exception {
        return new H2WebSocketClient(port, false);
    }

    /** HTTP/2 over TLS, h2 by ALPN; the node's certificate is not checked. */
    public static H2WebSocketClient tls(int port) throws Exception {
        return new H2WebSocketClient(port, true);
    }

    /** The server's first SETTINGS. */
    public Http2Settings serverSettings() throws Exception {
        return settings.get(10, TimeUnit.SECONDS);
    }

    /** The fields of an extended CONNECT for WebSocket to {@code path} (RFC 8441 §5), version 13. */
    public static Http2Headers connect(String path) {
        return new DefaultHttp2Headers(false)
                .method("CONNECT")
                .set(Http2Headers.PseudoHeaderName.PROTOCOL.value(), "websocket")
                .scheme("http")
                .path(path)
                .authority("localhost")
                .set("sec-websocket-version", "13");
    }

    /** Opens a stream with {@code request} as its HEADERS (not ending it) and returns it. */
    public Tunnel open(Http2Headers request) throws Exception {
        Tunnel tunnel = new Tunnel();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
                // Masking touches every byte: at PARANOID the leak detector would record each access.
                .option(ChannelOption.ALLOCATOR, UNTRACKED)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                        ch.pipeline()
                                .addLast(tunnel.bridge)
                                .addLast(new WebSocket13FrameDecoder(WebSocketDecoderConfig.newBuilder()
                                        .expectMaskedFrames(false)
                                        .allowExtensions(true)
                                        .maxFramePayloadLength(64 * 1024 * 1024)
                                        .build()))
                                .addLast(new WebSocket13FrameEncoder(true))
                                .addLast(tunnel.collector);
                    }
                })
                .open()
                .sync()
                .getNow();
        tunnel.channel = stream;
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(request, false)).sync();
        return tunnel;
    }

    /** Opens a WebSocket to {@code path} and waits for the node's answer. */
    public Tunnel openWebSocket(String path) throws Exception {
        Tunnel tunnel = open(connect(path));
        tunnel.head();
        return tunnel;
    }

    @Override
    public void close() throws InterruptedException {
        connection.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Takes the server's SETTINGS, which the multiplexer passes on to the connection's pipeline. */
    private final class SettingsWatch extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2SettingsFrame frame) {
                settings.complete(frame.settings());
            }
            ReferenceCountUtil.release(msg);
        }
    }

    /** One stream: the response to its CONNECT, then the WebSocket messages it carries. */
    public static final class Tunnel {
        private final CompletableFuture<Http2Headers> head = new CompletableFuture<>();
        /** The code of a RST_STREAM from the node, or -1 when the stream ended with END_STREAM. */
        public final CompletableFuture<Long> ended = new CompletableFuture<>();
        /** The status of the close frame the node relayed. */
        public final CompletableFuture<Integer> closed = new CompletableFuture<>();
        /** Text messages, and binary ones under 8 MiB, as received. */
        public final BlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        /** Binary payload bytes received. */
        public final AtomicLong binaryBytes = new AtomicLong();
        /** The first binary offset not as {@link WebSocketOrigin#patternByte} says; -1 when all were. */
        public final AtomicLong firstBadOffset = new AtomicLong(-1);

        private final Bridge bridge = new Bridge();
        private final Collector collector = new Collector();
        private Http2StreamChannel channel;

        public Http2StreamChannel channel() {
            return channel;
        }

        /** The node's response HEADERS. */
        public Http2Headers head() throws Exception {
            return head.get(10, TimeUnit.SECONDS);
        }

        public int status() throws Exception {
            return Integer.parseInt(head().status().toString());
        }

        public void sendText(String text) throws Exception {
            channel.writeAndFlush(new TextWebSocketFrame(text)).sync();
        }

        public void sendBinary(byte[] bytes) throws Exception {
            channel.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes)))
                    .sync();
        }

        /** Writes a binary frame without waiting for it to leave (flow control may hold it). */
        public void sendBinaryLater(byte[] bytes) {
            channel.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes)));
        }

        public void sendClose(int status) throws Exception {
            channel.writeAndFlush(new CloseWebSocketFrame(status, "bye")).sync();
        }

        /** The next message (String or byte[]) within 10 s. */
        public Object next() throws InterruptedException {
            Object message = messages.poll(10, TimeUnit.SECONDS);
            if (message == null) {
                throw new AssertionError("no message within 10 s");
            }
            return message;
        }

        /** Stops or resumes reading the stream: a stopped reader gives the node no window back. */
        public void reading(boolean on) {
            channel.eventLoop().execute(() -> {
                channel.config().setAutoRead(on);
                if (on) {
                    channel.read();
                }
            });
        }

        /** Between the stream's frames and the WebSocket codec: DATA payloads in, bytes out as DATA. */
        private final class Bridge extends ChannelDuplexHandler {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2HeadersFrame frame) {
                    if (!head.isDone()) {
                        head.complete(frame.headers());
                    }
                    if (frame.isEndStream()) {
                        ended.complete(-1L);
                    }
                } else if (msg instanceof Http2DataFrame data) {
                    ByteBuf content = data.content();
                    if (data.isEndStream()) {
                        ended.complete(-1L);
                    }
                    if (content.isReadable()) {
                        ctx.fireChannelRead(content);
                        return;
                    }
                    content.release();
                } else if (msg instanceof Http2ResetFrame reset) {
                    ended.complete(reset.errorCode());
                } else {
                    ReferenceCountUtil.release(msg);
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                ended.complete(-2L);
                ctx.fireChannelInactive();
            }

            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                ctx.write(msg instanceof ByteBuf bytes ? new DefaultHttp2DataFrame(bytes, false) : msg, promise);
            }
        }

        /** Takes the WebSocket frames the decoder made. */
        private final class Collector extends ChannelInboundHandlerAdapter {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    if (msg instanceof TextWebSocketFrame text) {
                        messages.add(text.text());
                    } else if (msg instanceof CloseWebSocketFrame close) {
                        closed.complete(close.statusCode());
                    } else if (msg instanceof WebSocketFrame frame) {
                        byte[] bytes = ByteBufUtil.getBytes(frame.content());
                        long at = binaryBytes.getAndAdd(bytes.length);
                        for (int i = 0; i < bytes.length && firstBadOffset.get() < 0; i++) {
                            if (bytes[i] != WebSocketOrigin.patternByte(at + i)) {
                                firstBadOffset.set(at + i);
                            }
                        }
                        if (bytes.length < 8 * 1024 * 1024 && at < 8 * 1024 * 1024) {
                            messages.add(bytes);
                        }
                    }
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                messages.add(cause);
            }
        }
    }
}
