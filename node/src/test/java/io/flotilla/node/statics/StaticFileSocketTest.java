package io.flotilla.node.statics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Proves over a real socket, behind Netty's HttpServerCodec, that the FileRegion reaches the client intact. */
class StaticFileSocketTest {

    private static final int MIB = 1 << 20;

    @TempDir
    Path root;

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll"})
    void servesFilesAndRangesOverOneConnection(String transport) throws Exception {
        byte[] big = new byte[MIB];
        new Random(42).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        Files.writeString(root.resolve("small.txt"), "small\n");

        IoHandlerFactory ioHandler;
        Class<? extends ServerChannel> serverChannel;
        if (transport.equals("epoll")) {
            assumeTrue(Epoll.isAvailable(), "epoll is not available here");
            ioHandler = EpollIoHandler.newFactory();
            serverChannel = EpollServerSocketChannel.class;
        } else {
            ioHandler = NioIoHandler.newFactory();
            serverChannel = NioServerSocketChannel.class;
        }

        StaticFileResponder responder = new StaticFileResponder(root);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, ioHandler);
        try {
            Channel server = new ServerBootstrap()
                    .group(group)
                    .channel(serverChannel)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new SimpleChannelInboundHandler<HttpObject>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                    if (msg instanceof HttpRequest request) {
                                        String uri = request.uri();
                                        int query = uri.indexOf('?');
                                        boolean keepAlive = HttpUtil.isKeepAlive(request);
                                        var done = responder.respond(
                                                ctx, request, query < 0 ? uri : uri.substring(0, query), keepAlive);
                                        if (!keepAlive) {
                                            done.addListener(ChannelFutureListener.CLOSE);
                                        }
                                    }
                                }
                            });
                        }
                    })
                    .bind("127.0.0.1", 0)
                    .sync()
                    .channel();
            int port = ((InetSocketAddress) server.localAddress()).getPort();

            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(10_000);
                OutputStream out = socket.getOutputStream();
                InputStream in = new BufferedInputStream(socket.getInputStream());

                send(out, "GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n");
                Response whole = Response.read(in, false);
                assertEquals(200, whole.status);
                assertEquals(String.valueOf(MIB), whole.headers.get("content-length"));
                assertNull(whole.headers.get("transfer-encoding"));
                assertArrayEquals(big, whole.body);

                send(out, "GET /big.bin HTTP/1.1\r\nHost: test\r\nRange: bytes=1000-1999\r\n\r\n");
                Response range = Response.read(in, false);
                assertEquals(206, range.status);
                assertEquals("bytes 1000-1999/" + MIB, range.headers.get("content-range"));
                assertArrayEquals(Arrays.copyOfRange(big, 1000, 2000), range.body);

                send(out, "GET /big.bin HTTP/1.1\r\nHost: test\r\nRange: bytes=-10\r\n\r\n");
                Response suffix = Response.read(in, false);
                assertEquals(206, suffix.status);
                assertArrayEquals(Arrays.copyOfRange(big, MIB - 10, MIB), suffix.body);

                // HEAD carries the full Content-Length but no body; the next response proves the framing held.
                send(out, "HEAD /big.bin HTTP/1.1\r\nHost: test\r\n\r\n");
                Response head = Response.read(in, true);
                assertEquals(200, head.status);
                assertEquals(String.valueOf(MIB), head.headers.get("content-length"));

                send(out, "GET /../etc/passwd HTTP/1.1\r\nHost: test\r\n\r\n");
                Response traversal = Response.read(in, false);
                assertEquals(400, traversal.status);

                send(out, "GET /small.txt HTTP/1.1\r\nHost: test\r\n\r\n");
                String etag = Response.read(in, false).headers.get("etag");
                send(out, "GET /small.txt HTTP/1.1\r\nHost: test\r\nIf-None-Match: " + etag + "\r\n\r\n");
                Response notModified = Response.read(in, true);
                assertEquals(304, notModified.status);
                assertNull(notModified.headers.get("content-length"));

                send(out, "GET /small.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
                Response last = Response.read(in, false);
                assertEquals(200, last.status);
                assertEquals("close", last.headers.get("connection"));
                assertEquals("small\n", new String(last.body, StandardCharsets.US_ASCII));
                assertEquals(-1, in.read());
            }
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
    }

    private static void send(OutputStream out, String request) throws IOException {
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Just enough of an HTTP/1.1 client to read Content-Length framed responses. */
    private record Response(int status, Map<String, String> headers, byte[] body) {

        static Response read(InputStream in, boolean bodiless) throws IOException {
            String statusLine = line(in);
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            Map<String, String> headers = new HashMap<>();
            for (String line = line(in); !line.isEmpty(); line = line(in)) {
                int colon = line.indexOf(':');
                headers.put(
                        line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        line.substring(colon + 1).trim());
            }
            String length = headers.get("content-length");
            byte[] body = bodiless || length == null ? new byte[0] : in.readNBytes(Integer.parseInt(length));
            return new Response(status, headers, body);
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) {
                    throw new IOException("connection closed mid-response");
                }
                if (b != '\r') {
                    line.write(b);
                }
            }
            return line.toString(StandardCharsets.US_ASCII);
        }
    }
}
