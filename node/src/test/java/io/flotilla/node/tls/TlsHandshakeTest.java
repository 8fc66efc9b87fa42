package io.flotilla.node.tls;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.ExternalTool;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.flotilla.node.testing.TlsClient;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Handshakes from OpenSSL's own client ({@code openssl s_client}): old protocol versions refused, and a
 * session resumed on another node of the fleet when, and only when, the nodes share ticket keys.
 */
class TlsHandshakeTest {
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(20);
    private static final String KEY_A = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v";
    private static final String KEY_B = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5v";

    @TempDir
    Path dir;

    private Path openssl;
    private TestOrigin origin;
    private TlsClient.CertFiles cert;

    @BeforeEach
    void start() throws Exception {
        openssl = ExternalTool.require("/usr/bin/openssl", "openssl");
        origin = TestOrigin.start();
        cert = TlsClient.certificate(dir, "site", "site.test", true);
    }

    @AfterEach
    void stop() throws Exception {
        if (origin != null) {
            origin.close();
        }
    }

    private TestNode node(String provider, String tickets) throws Exception {
        return TestNode.startWith("node: {event_loops: 1}\nlisteners:\n  - bind: 127.0.0.1:0\n"
                + "    tls: {provider: " + provider + ", certificates: [" + cert.yaml() + "]"
                + (tickets == null ? "" : ", session_tickets: " + tickets) + "}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n");
    }

    /** One s_client run: a GET with Connection: close, so the client reads to the end (and any tickets). */
    private String sClient(int port, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                openssl.toString(),
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-servername",
                "site.test",
                "-ign_eof"));
        command.addAll(List.of(options));
        return ExternalTool.run(
                CLIENT_TIMEOUT, "GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n", command);
    }

    private static boolean handshakeDone(String output) {
        return output.contains("Cipher is ") && !output.contains("Cipher is (NONE)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void tls10And11AreRefusedWhile12And13Work(String provider) throws Exception {
        String lowSecurity = "DEFAULT@SECLEVEL=0"; // lets OpenSSL 3's client offer TLS 1.0/1.1 at all
        try (TestNode node = node(provider, null)) {
            for (String old : List.of("-tls1", "-tls1_1")) {
                String output = sClient(node.port(), old, "-cipher", lowSecurity);
                assertFalse(handshakeDone(output), old + " must be refused:\n" + output);
            }
            assertTrue(sClient(node.port(), "-tls1_2").contains("Protocol  : TLSv1.2"));
            assertTrue(sClient(node.port(), "-tls1_3").contains("Protocol  : TLSv1.3"));
        }
        // The control: the same client does complete TLS 1.1 with a server that allows it.
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            SslContext legacy = SslContextBuilder.forServer(
                            cert.cert().toFile(), cert.key().toFile())
                    .sslProvider(SslProvider.OPENSSL)
                    .protocols("TLSv1.1")
                    .ciphers(List.of("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"))
                    .build(); // a TLS 1.1 suite
            Channel server = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(legacy.newHandler(ch.alloc()));
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .sync()
                    .channel();
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            String output = ExternalTool.run(
                    CLIENT_TIMEOUT,
                    "",
                    List.of(
                            openssl.toString(),
                            "s_client",
                            "-connect",
                            "127.0.0.1:" + port,
                            "-tls1_1",
                            "-cipher",
                            lowSecurity));
            assertTrue(handshakeDone(output), "the client can speak TLS 1.1:\n" + output);
            server.close().sync();
        } finally {
            group.shutdownGracefully().sync();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"-tls1_2", "-tls1_3"})
    void aSessionFromOneNodeResumesOnAnotherThatSharesTheTicketKeys(String version) throws Exception {
        Path session = dir.resolve("session.pem");
        Path keyFile = dir.resolve("ticket-keys");
        // Node C has the same current key as A in a key file, with an older one after it (a rotation).
        Files.writeString(keyFile, "# current first\n" + KEY_A + "\n" + KEY_B + "\n");
        try (TestNode a = node("openssl", "{keys: [" + KEY_A + "]}");
                TestNode b = node("openssl", "{keys: [" + KEY_A + "]}");
                TestNode c = node("openssl", "{file: " + keyFile + "}");
                TestNode other = node("openssl", "{keys: [" + KEY_B + "]}");
                TestNode unshared = node("openssl", null)) {
            String first = sClient(a.port(), version, "-sess_out", session.toString());
            assertTrue(first.contains("New, TLSv1."), first);
            assertTrue(Files.size(session) > 0, "s_client kept the session");

            String resumed = sClient(b.port(), version, "-sess_in", session.toString());
            assertTrue(resumed.contains("Reused, TLSv1."), "an abbreviated handshake on the second node:\n" + resumed);
            assertTrue(
                    sClient(c.port(), version, "-sess_in", session.toString()).contains("Reused, TLSv1."),
                    "the same key read from a key file");

            String refused = sClient(other.port(), version, "-sess_in", session.toString());
            assertTrue(refused.contains("New, TLSv1."), "different keys: a full handshake\n" + refused);
            assertTrue(
                    sClient(unshared.port(), version, "-sess_in", session.toString())
                            .contains("New, TLSv1."),
                    "no shared keys: a full handshake");
        }
    }

    @Test
    void aNodeAcceptsTicketsUnderAnOlderKeyDuringARotation() throws Exception {
        Path session = dir.resolve("session.pem");
        try (TestNode old = node("openssl", "{keys: [" + KEY_B + "]}");
                TestNode rotated = node("openssl", "{keys: [" + KEY_A + ", " + KEY_B + "]}")) {
            assertTrue(sClient(old.port(), "-tls1_2", "-sess_out", session.toString())
                    .contains("New, TLSv1.2"));
            String output = sClient(rotated.port(), "-tls1_2", "-sess_in", session.toString());
            assertTrue(output.contains("Reused, TLSv1.2"), "a ticket under the previous key still resumes:\n" + output);
        }
    }
}
