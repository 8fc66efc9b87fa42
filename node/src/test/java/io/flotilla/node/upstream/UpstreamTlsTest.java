package io.flotilla.node.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** TLS to upstreams with real handshakes: verification against a CA file, SNI, and client certificates. */
@SuppressWarnings("deprecation") // SelfSignedCertificate: fine for throwaway test certificates
class UpstreamTlsTest {
    private EventLoopGroup group;
    private SelfSignedCertificate serverCert;
    private SelfSignedCertificate clientCert;
    private final AtomicReference<String> sniSeen = new AtomicReference<>();
    private final AtomicReference<String> peerSeen = new AtomicReference<>();

    @BeforeEach
    void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        serverCert = new SelfSignedCertificate("origin.test");
        clientCert = new SelfSignedCertificate("flotilla-client");
    }

    @AfterEach
    void stop() {
        group.shutdownGracefully();
        serverCert.delete();
        clientCert.delete();
    }

    /** A TLS origin on 127.0.0.1, port 0, answering "tls ok"; optionally requiring a client certificate. */
    private Channel origin(boolean requireClientCert) throws Exception {
        SslContextBuilder builder = SslContextBuilder.forServer(serverCert.certificate(), serverCert.privateKey());
        if (requireClientCert) {
            builder.clientAuth(ClientAuth.REQUIRE).trustManager(clientCert.certificate());
        }
        SslContext context = builder.build();
        return new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SslHandler tls = context.newHandler(ch.alloc());
                        ch.pipeline()
                                .addLast(
                                        tls,
                                        new HttpServerCodec(),
                                        new HttpObjectAggregator(65536),
                                        new SimpleChannelInboundHandler<FullHttpRequest>() {
                                            @Override
                                            protected void channelRead0(
                                                    ChannelHandlerContext ctx, FullHttpRequest request)
                                                    throws Exception {
                                                var session = tls.engine().getSession();
                                                if (session instanceof javax.net.ssl.ExtendedSSLSession extended
                                                        && !extended.getRequestedServerNames()
                                                                .isEmpty()) {
                                                    sniSeen.set(new String(
                                                            extended.getRequestedServerNames()
                                                                    .get(0)
                                                                    .getEncoded(),
                                                            StandardCharsets.US_ASCII));
                                                }
                                                if (requireClientCert) {
                                                    peerSeen.set(session.getPeerPrincipal()
                                                            .getName());
                                                }
                                                FullHttpResponse response = new DefaultFullHttpResponse(
                                                        HttpVersion.HTTP_1_1,
                                                        HttpResponseStatus.OK,
                                                        Unpooled.copiedBuffer("tls ok", StandardCharsets.US_ASCII));
                                                HttpUtil.setContentLength(response, 6);
                                                ctx.writeAndFlush(response);
                                            }
                                        });
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .sync()
                .channel();
    }

    private static int port(Channel channel) {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Test
    void verifiesTheServerAgainstTheCaFileAndSendsSni() throws Exception {
        Channel origin = origin(false);
        try (TestNode node = TestNode.start("upstreams:\n  secure:\n    servers: [localhost:" + port(origin) + "]\n"
                        + "    tls: {ca: " + serverCert.certificate() + ", sni: origin.test}\n"
                        + "routes:\n  - {path: /, upstream: secure}\n");
                RawClient client = node.client()) {
            RawClient.Response response = client.get("/", "shop.example");
            assertEquals(200, response.status());
            assertEquals("tls ok", response.bodyText());
            assertEquals(
                    "origin.test", sniSeen.get(), "SNI names the server (the JDK sends SNI for dotted names only)");
        } finally {
            origin.close().sync();
        }
    }

    @Test
    void anUntrustedOrMisnamedCertificateIsA502() throws Exception {
        Channel origin = origin(false);
        // Trusting a different certificate: the chain does not verify.
        try (TestNode node = TestNode.start("upstreams:\n  secure:\n    servers: [localhost:" + port(origin) + "]\n"
                        + "    tls: {ca: " + clientCert.certificate() + "}\n"
                        + "routes:\n  - {path: /, upstream: secure}\n");
                RawClient client = node.client()) {
            assertEquals(502, client.get("/", "a").status());
        }
        // The right CA, but the name checked (sni) is not the one in the certificate.
        try (TestNode node = TestNode.start("upstreams:\n  secure:\n    servers: [localhost:" + port(origin) + "]\n"
                        + "    tls: {ca: " + serverCert.certificate() + ", sni: other.example}\n"
                        + "routes:\n  - {path: /, upstream: secure}\n");
                RawClient client = node.client()) {
            assertEquals(502, client.get("/", "a").status());
        } finally {
            origin.close().sync();
        }
    }

    @Test
    void presentsAClientCertificateForMutualTls() throws Exception {
        Channel origin = origin(true);
        try (TestNode node = TestNode.start("upstreams:\n  secure:\n    servers: [localhost:" + port(origin) + "]\n"
                        + "    tls: {ca: " + serverCert.certificate() + ", sni: origin.test, cert: "
                        + clientCert.certificate()
                        + ", key: " + clientCert.privateKey() + "}\n"
                        + "routes:\n  - {path: /, upstream: secure}\n");
                RawClient client = node.client()) {
            assertEquals("tls ok", client.get("/", "a").bodyText());
            assertTrue(peerSeen.get().contains("flotilla-client"), String.valueOf(peerSeen.get()));
        }
        try (TestNode node = TestNode.start("upstreams:\n  secure:\n    servers: [localhost:" + port(origin) + "]\n"
                        + "    tls: {ca: " + serverCert.certificate() + ", sni: origin.test}\n"
                        + "routes:\n  - {path: /, upstream: secure}\n");
                RawClient client = node.client()) {
            assertEquals(502, client.get("/", "a").status(), "without a client certificate the origin refuses");
        } finally {
            origin.close().sync();
        }
    }
}
