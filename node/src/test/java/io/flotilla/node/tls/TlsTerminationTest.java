package io.flotilla.node.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.flotilla.node.testing.TlsClient;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TLS listeners with real handshakes from the JDK's client: SNI, ALPN, headers, live certificate changes. */
class TlsTerminationTest {
    @TempDir
    Path dir;

    private TestOrigin origin;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = TestOrigin.start();
    }

    @AfterEach
    void stopOrigin() throws Exception {
        origin.close();
    }

    private String body(String tls) {
        return "node: {name: tls-node, event_loops: 1}\n"
                + "listeners:\n  - bind: 127.0.0.1:0\n    tls: " + tls + "\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n";
    }

    private static RawClient.Response get(SSLSocket socket, String host, String path) throws Exception {
        RawClient client = new RawClient(socket);
        client.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        return client.read();
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void sniPicksExactThenWildcardThenTheDefault(String provider) throws Exception {
        var fallback = TlsClient.certificate(dir, "default", "default.test", true);
        var exact = TlsClient.certificate(dir, "exact", "api.example.test", false);
        var wildcard = TlsClient.certificate(dir, "wild", "wild.example.test", true);
        String tls = "{provider: " + provider + ", certificates: [" + fallback.yaml() + ", " + exact.yaml()
                + ", {cert: " + wildcard.cert() + ", key: " + wildcard.key() + ", names: ['*.wild.test']}]}";
        try (TestNode node = TestNode.startWith(body(tls))) {
            assertEquals("api.example.test", served(node, "api.example.test"), "exact name, from the certificate's CN");
            assertEquals("wild.example.test", served(node, "a.wild.test"), "wildcard covers one label");
            assertEquals("default.test", served(node, "a.b.wild.test"), "and only one label");
            assertEquals("default.test", served(node, "unknown.test"), "an unknown name gets the default");
            assertEquals("default.test", served(node, null), "no SNI gets the default");
            assertTrue(node.node()
                    .tls(0)
                    .orElseThrow()
                    .providerName()
                    .startsWith(provider.equals("jdk") ? "JDK" : "OpenSSL"));
        }
    }

    private static String served(TestNode node, String sni) throws Exception {
        try (SSLSocket socket = TlsClient.connect(node.port(), sni)) {
            assertEquals(200, get(socket, "x.test", "/").status());
            return TlsClient.peerName(socket);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void negotiatesHttp11OverTls12And13WithForwardedProtoAndHsts(String provider) throws Exception {
        var cert = TlsClient.certificate(dir, "site", "site.test", true);
        String tls = "{provider: " + provider + ", certificates: [" + cert.yaml() + "], "
                + "hsts: {max_age: 180d, include_subdomains: true}}";
        try (TestNode node = TestNode.startWith(body(tls));
                SSLSocket socket = TlsClient.connect(node.port(), "site.test", "http/1.1")) {
            assertEquals("http/1.1", socket.getApplicationProtocol(), "h2 is offered too (Http2ClientsTest)");
            assertEquals("TLSv1.3", socket.getSession().getProtocol());
            RawClient.Response response = get(socket, "site.test", "/x");
            assertEquals(200, response.status());
            assertEquals("max-age=15552000; includeSubDomains", response.header("strict-transport-security"));
            assertEquals("https", origin.last().header("x-forwarded-proto"));
            RawClient.Response again = get(socket, "site.test", "/missing-route-is-still-stamped");
            assertEquals("max-age=15552000; includeSubDomains", again.header("strict-transport-security"));
        }
        try (TestNode node =
                TestNode.startWith(body("{provider: " + provider + ", certificates: [" + cert.yaml() + "]}"))) {
            SSLSocket tls12 = TlsClient.connect(node.port(), "site.test");
            try (tls12) {
                assertEquals(200, get(tls12, "site.test", "/").status());
            }
            assertNull(
                    get(TlsClient.connect(node.port(), "site.test"), "site.test", "/")
                            .header("strict-transport-security"),
                    "no hsts configured, no header");
        }
    }

    @Test
    void aPlainListenerCanRedirectEveryRequestToHttps() throws Exception {
        try (TestNode node = redirecting("{port: 8443, status: 301}");
                RawClient client = node.client()) {
            RawClient.Response response = client.get("/a/b?q=1&r=%20", "Shop.Example:80");
            assertEquals(301, response.status());
            assertEquals("https://shop.example:8443/a/b?q=1&r=%20", response.header("location"));
            RawClient.Response second = client.get("/", "shop.example");
            assertEquals(301, second.status(), "the connection stays open for the next request");
            assertEquals(0, origin.requestCount(), "nothing is forwarded from a redirecting listener");
        }
        try (TestNode node = redirecting("true");
                RawClient client = node.client()) {
            RawClient.Response response = client.get("/p", "shop.example");
            assertEquals(308, response.status());
            assertEquals("https://shop.example/p", response.header("location"));
        }
    }

    private TestNode redirecting(String redirect) throws Exception {
        return TestNode.startWith("node: {event_loops: 1}\nlisteners:\n  - {bind: 127.0.0.1:0, redirect_https: "
                + redirect + "}\nupstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aCertificateFileChangeIsPickedUpLiveAndOpenConnectionsStay(String provider) throws Exception {
        var cert = TlsClient.certificate(dir, "site", "before.test", true);
        try (TestNode node = TestNode.startWith(
                        body("{provider: " + provider + ", check_every: 100ms, certificates: [" + cert.yaml() + "]}"));
                SSLSocket kept = TlsClient.connect(node.port(), "site.test")) {
            assertEquals(200, get(kept, "site.test", "/").status());
            assertEquals("before.test", TlsClient.peerName(kept));

            cert.write("after.test", false); // and from EC to RSA
            String seen = "before.test";
            for (int i = 0; i < 100 && seen.equals("before.test"); i++) {
                Thread.sleep(50);
                seen = served(node, "site.test");
            }
            assertEquals("after.test", seen, "new handshakes get the new certificate");
            assertEquals(200, get(kept, "site.test", "/").status(), "the open connection keeps working");
            assertEquals("before.test", TlsClient.peerName(kept));
        }
    }

    @Test
    void aReloadReadsTheCertificatesAgainAndABrokenOneIsRefusedWhole() throws Exception {
        var first = TlsClient.certificate(dir, "first", "first.test", true);
        var second = TlsClient.certificate(dir, "second", "second.test", true);
        String yaml = body("{check_every: 0s, certificates: [" + first.yaml() + "]}");
        try (TestNode node = TestNode.startWith(yaml);
                SSLSocket kept = TlsClient.connect(node.port(), "site.test")) {
            assertEquals(200, get(kept, "site.test", "/").status());
            String next = body("{check_every: 0s, certificates: [" + second.yaml() + "]}");
            node.node().reload(ConfigLoader.parse(next, "pushed.yaml"), next);
            assertEquals("second.test", served(node, "site.test"));
            assertEquals(200, get(kept, "site.test", "/").status(), "a reload closes no connection");

            // Same paths, new content: the files are read again on reload even without a watcher.
            second.write("renewed.test", true);
            node.node().reload(ConfigLoader.parse(next, "pushed.yaml"), next);
            assertEquals("renewed.test", served(node, "site.test"));

            Files.writeString(second.key(), "broken");
            assertTrue(org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> node.node()
                                    .reload(ConfigLoader.parse(next, "pushed.yaml"), next))
                            .getMessage()
                    != null);
            assertEquals("renewed.test", served(node, "site.test"), "the running certificate stays");
        }
    }

    @Test
    void staticFilesAreServedOverTls() throws Exception {
        var cert = TlsClient.certificate(dir, "site", "site.test", true);
        Path www = Files.createDirectories(dir.resolve("www"));
        byte[] content = new byte[200_000];
        new java.util.Random(7).nextBytes(content);
        Files.write(www.resolve("blob.bin"), content);
        try (TestNode node = TestNode.startWith(
                        "node: {event_loops: 1}\nlisteners:\n  - bind: 127.0.0.1:0\n" + "    tls: {certificates: ["
                                + cert.yaml() + "]}\nroutes:\n  - {path: /, static: " + www + "}\n");
                SSLSocket socket = TlsClient.connect(node.port(), "site.test")) {
            RawClient.Response response = get(socket, "site.test", "/blob.bin");
            assertEquals(200, response.status());
            assertTrue(java.util.Arrays.equals(content, response.body()), "the file arrives whole through TLS");
            assertEquals(200, get(socket, "site.test", "/blob.bin").status(), "and the connection is reusable");
        }
    }
}
