package io.flotilla.node.upstream;

import static io.flotilla.node.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An upstream with {@code protocol: h2c}: requests from HTTP/1.1 clients go to a real HTTP/2 origin
 * (Netty's codec, prior knowledge) as streams of one connection, with trailers relayed back and
 * {@code TE: trailers} sent as gRPC servers require.
 */
class Http2UpstreamTest {
    private EventLoopGroup group;
    private Channel origin;
    private final AtomicInteger connections = new AtomicInteger();
    private final io.netty.channel.group.ChannelGroup accepted =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    private final AtomicInteger streams = new AtomicInteger();
    private final List<Map<String, String>> seen = new CopyOnWriteArrayList<>();

    /** Answers every stream with what it saw, in a body sent in two parts, then a trailer. */
    private final class Echo extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            streams.incrementAndGet();
            Map<String, String> headers = new ConcurrentHashMap<>();
            request.headers().forEach(e -> headers.put(e.getKey().toLowerCase(), e.getValue()));
            headers.put(":path", request.uri());
            headers.put(":method", request.method().name());
            seen.add(headers);
            DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            response.headers().set("content-type", "text/plain").set("x-origin", "h2");
            ctx.write(response);
            ctx.write(new DefaultHttpContent(
                    Unpooled.copiedBuffer("path=" + request.uri() + " ", StandardCharsets.UTF_8)));
            LastHttpContent last = new DefaultLastHttpContent(
                    Unpooled.copiedBuffer("body=" + request.content().readableBytes(), StandardCharsets.UTF_8));
            last.trailingHeaders().set("x-status", "0");
            ctx.writeAndFlush(last);
        }
    }

    @BeforeEach
    void startOrigin() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        origin = originOn(0);
    }

    @AfterEach
    void stopOrigin() throws Exception {
        origin.close().sync();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }

    private TestNode node() throws Exception {
        int port = ((InetSocketAddress) origin.localAddress()).getPort();
        return TestNode.start("upstreams:\n  grpc:\n    protocol: h2c\n    servers: ['127.0.0.1:" + port + "']\n"
                + "routes:\n  - {path: /, upstream: grpc}\n");
    }

    @Test
    void requestsBecomeStreamsOfOneConnectionAndTrailersComeBack() throws Exception {
        try (TestNode node = node()) {
            String raw;
            try (RawClient c = node.client()) {
                raw = c.send("GET /svc/Method?x=1 HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n"
                                + "TE: trailers\r\nKeep-Alive: 5\r\n\r\n")
                        .readAll();
            }
            assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
            assertTrue(raw.toLowerCase().contains("x-origin: h2"), raw);
            assertTrue(raw.toLowerCase().contains("transfer-encoding: chunked"), "no length from the origin: " + raw);
            assertTrue(raw.contains("path=/svc/Method?x=1 "), raw);
            assertTrue(
                    raw.toLowerCase().contains("\r\n0\r\nx-status: 0\r\n"), "the trailer in the chunked end: " + raw);
            Map<String, String> first = seen.get(0);
            assertEquals("api.test", first.get("host"), "the client's Host became :authority: " + first);
            assertEquals("trailers", first.get("te"), first.toString());
            assertNull(first.get("connection"), "no connection-specific fields on HTTP/2: " + first);
            assertNull(first.get("keep-alive"), first.toString());
            assertTrue(first.get("x-forwarded-for").startsWith("127.0.0.1"), first.toString());

            // Ten more at once, and one with a 1 MiB body: all streams of the one connection.
            ExecutorService pool = Executors.newFixedThreadPool(10);
            try {
                List<Future<RawClient.Response>> answers = new java.util.ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    int n = i;
                    answers.add(pool.submit(() -> {
                        try (RawClient c = node.client()) {
                            return c.get("/n/" + n, "api.test");
                        }
                    }));
                }
                for (int i = 0; i < 10; i++) {
                    RawClient.Response r = answers.get(i).get();
                    assertEquals(200, r.status());
                    assertTrue(r.bodyText().startsWith("path=/n/" + i + " "), r.bodyText());
                }
            } finally {
                pool.shutdownNow();
            }
            byte[] body = new byte[1 << 20];
            try (RawClient c = node.client()) {
                c.send("POST /upload HTTP/1.1\r\nHost: api.test\r\nContent-Length: " + body.length + "\r\n\r\n");
                c.send(body);
                RawClient.Response r = c.timeout(20_000).read();
                assertEquals(200, r.status());
                assertTrue(r.bodyText().endsWith("body=" + body.length), r.bodyText());
            }
            assertEquals(12, streams.get());
            assertEquals(1, connections.get(), "every request a stream of one connection (one event loop)");
        }
    }

    @Test
    void aDeadOriginIsA502AndTheNextRequestConnectsAgain() throws Exception {
        try (TestNode node = node()) {
            try (RawClient c = node.client()) {
                assertEquals(200, c.get("/a", "api.test").status());
            }
            int port = ((InetSocketAddress) origin.localAddress()).getPort();
            // As a dying process does: the listener and every connection closed (the node sees FIN).
            origin.close().sync();
            accepted.close().sync();
            try (RawClient c = node.client()) {
                int status = c.get("/b", "api.test").status();
                assertTrue(status == 502 || status == 503, "got " + status);
            }
            origin = originOn(port);
            await("the node to reach the new origin", 10, () -> {
                try (RawClient c = node.client()) {
                    return c.get("/c", "api.test").status() == 200;
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            assertEquals(2, connections.get(), "a new connection after the first one died");
        }
    }

    /**
     * PING keepalive: a connection the origin keeps answering stays (the PINGs come back), one whose
     * origin stops reading (a vanished host: no FIN, nothing read) is closed when its PING goes
     * unanswered, and the next request goes to a new connection instead of waiting on the dead one
     * for its read timeout.
     */
    @Test
    void aConnectionWhosePingGoesUnansweredIsReplaced() throws Exception {
        int port = ((InetSocketAddress) origin.localAddress()).getPort();
        try (TestNode node = TestNode.start(
                "upstreams:\n  grpc:\n    protocol: h2c\n    servers: ['127.0.0.1:" + port
                        + "']\n    pool: {ping_interval: 200ms, ping_timeout: 300ms}\nroutes:\n  - {path: /, upstream: grpc}\n")) {
            try (RawClient c = node.client()) {
                assertEquals(200, c.get("/a", "api.test").status());
            }
            Thread.sleep(1_200); // several intervals: each PING answered by the origin's codec
            try (RawClient c = node.client()) {
                assertEquals(200, c.get("/b", "api.test").status());
            }
            assertEquals(1, connections.get(), "an answering connection is kept");

            accepted.forEach(ch -> ch.config().setAutoRead(false)); // the origin stops reading: no ACK
            await("a request answered on a new connection", 10, () -> {
                try (RawClient c = node.client()) {
                    return c.timeout(2_000).get("/c", "api.test").status() == 200;
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            assertEquals(2, connections.get(), "the silent connection was left for a new one");
        }
    }

    /** A real HTTP/2 server (prior knowledge) on {@code port} (0: any) answering every stream with {@link Echo}. */
    private Channel originOn(int port) throws InterruptedException {
        return new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.incrementAndGet();
                        accepted.add(ch);
                        ch.pipeline()
                                .addLast(
                                        Http2FrameCodecBuilder.forServer().build(),
                                        new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                            @Override
                                            protected void initChannel(Http2StreamChannel stream) {
                                                stream.pipeline()
                                                        .addLast(
                                                                new Http2StreamFrameToHttpObjectCodec(true),
                                                                new HttpObjectAggregator(4 << 20),
                                                                new Echo());
                                            }
                                        }));
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                .sync()
                .channel();
    }

    @Test
    void h2NeedsTlsAndH2cRefusesIt() {
        String base = "listeners: [{bind: '127.0.0.1:0'}]\nroutes: [{path: /, upstream: u}]\nupstreams:\n  u:\n"
                + "    servers: ['127.0.0.1:1']\n";
        ConfigException h2 = org.junit.jupiter.api.Assertions.assertThrows(
                ConfigException.class, () -> ConfigLoader.parse(base + "    protocol: h2\n", "t.yaml"));
        assertTrue(
                h2.getMessage().contains("upstreams.u.protocol")
                        && h2.getMessage().contains("needs a tls section"),
                h2.getMessage());
        ConfigException unknown = org.junit.jupiter.api.Assertions.assertThrows(
                ConfigException.class, () -> ConfigLoader.parse(base + "    protocol: spdy\n", "t.yaml"));
        assertTrue(unknown.getMessage().contains("accepted: http/1.1, h2, h2c"), unknown.getMessage());
    }
}
