package io.flotilla.node.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.ExternalTool;
import io.flotilla.node.testing.H2Client;
import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.flotilla.node.testing.TlsClient;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HTTP/2 to clients with real clients (curl, the JDK's HttpClient) and the raw frame client: ALPN on
 * both TLS providers, h2c with prior knowledge beside HTTP/1.1, and every request-path feature per
 * stream (forwarding fields, cache, static files, rate limit, access log, PROXY protocol, drain).
 */
class Http2ClientsTest {
    private static final Path CURL = Path.of("/usr/bin/curl");

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

    private String tlsNode(String provider, String extra) throws Exception {
        var cert = TlsClient.certificate(dir, "site", "localhost", true);
        return "node: {name: h2-node, event_loops: 1}\n"
                + "listeners:\n  - bind: 127.0.0.1:0\n    tls: {provider: " + provider + ", certificates: ["
                + cert.yaml() + "], hsts: {max_age: 1d}}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n" + extra;
    }

    private String h2cNode(String listenerExtra, String extra) {
        return "node: {name: h2-node, event_loops: 1}\n"
                + "listeners:\n  - {bind: 127.0.0.1:0, h2c: true" + listenerExtra + "}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n" + extra;
    }

    private static String curl(String... args) throws Exception {
        ExternalTool.require(CURL.toString(), "curl");
        List<String> command = new ArrayList<>(List.of(CURL.toString(), "-sS", "--max-time", "10"));
        command.addAll(List.of(args));
        return ExternalTool.run(Duration.ofSeconds(15), "", command);
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void curlNegotiatesH2ByAlpnAndTheOriginSeesHttp11WithForwardingFields(String provider) throws Exception {
        try (TestNode node = TestNode.startWith(tlsNode(provider, ""))) {
            String out = curl(
                    "-k", "--http2", "-D", "-", "-H", "x-test: one", "https://localhost:" + node.port() + "/a/b?q=1");
            assertTrue(out.startsWith("HTTP/2 200"), out);
            assertTrue(out.contains("strict-transport-security: max-age=86400"), out);
            assertTrue(out.endsWith("ok"), out);
            TestOrigin.Received seen = origin.last();
            assertEquals("HTTP/1.1", seen.version(), "upstreams stay HTTP/1.1");
            assertEquals("/a/b?q=1", seen.target());
            assertEquals("localhost:" + node.port(), seen.header("host"), "Host from :authority");
            assertEquals("https", seen.header("x-forwarded-proto"));
            assertEquals("127.0.0.1", seen.header("x-forwarded-for"));
            assertEquals("one", seen.header("x-test"));
            assertNull(seen.header("transfer-encoding"), "a GET has no body to frame");

            // A client that offers only http/1.1 gets the HTTP/1.1 pipeline, unchanged.
            try (SSLSocket socket = TlsClient.connect(node.port(), "localhost", "http/1.1")) {
                assertEquals("http/1.1", socket.getApplicationProtocol());
                RawClient client = new RawClient(socket);
                client.send("GET /h1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(200, client.read().status());
            }
        }
    }

    @Test
    void h2cWithPriorKnowledgeAndHttp11ShareTheListener() throws Exception {
        try (TestNode node = TestNode.startWith(h2cNode("", ""))) {
            String out = curl("--http2-prior-knowledge", "-D", "-", "http://127.0.0.1:" + node.port() + "/prior");
            assertTrue(out.startsWith("HTTP/2 200"), out);
            assertEquals("http", origin.last().header("x-forwarded-proto"));
            assertEquals("2 h2-node", origin.last().header("via"), "RFC 9110 §7.6.3: the version received");
            String h1 = curl("--http1.1", "-D", "-", "http://127.0.0.1:" + node.port() + "/plain");
            assertTrue(h1.startsWith("HTTP/1.1 200"), h1);
            assertEquals("1.1 h2-node", origin.last().header("via"));
            try (RawClient client = node.client()) {
                // A preface arriving in pieces is still a preface; a request line that starts like none is HTTP/1.1.
                client.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
                assertEquals(200, client.read().status());
            }
            try (H2Client h2 = new H2Client(new java.net.Socket("127.0.0.1", node.port()))) {
                byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                h2.socket().getOutputStream().write(preface, 0, 5);
                h2.socket().getOutputStream().flush();
                Thread.sleep(50);
                h2.socket().getOutputStream().write(preface, 5, preface.length - 5);
                h2.frame(H2Client.SETTINGS, 0, 0, new byte[0])
                        .headers(1, H2Client.get("/split", "a.test"), true)
                        .flush();
                assertEquals(200, h2.response(1).status());
            }
        }
        try (TestNode node = TestNode.start("upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n")) {
            String out = curl("--http2-prior-knowledge", "http://127.0.0.1:" + node.port() + "/");
            assertTrue(
                    out.contains("curl: (") || out.isEmpty() || !out.contains("ok"), "h2c is off by default: " + out);
        }
    }

    @Test
    void theJdkClientMultiplexesManyRequestsWithBodiesOnOneConnection() throws Exception {
        origin.behaviour((request, out) -> {
            TestOrigin.writeResponse(
                    out,
                    200,
                    Map.of("Content-Type", "text/plain"),
                    (request.method() + " " + request.target() + " " + request.body().length)
                            .getBytes(StandardCharsets.UTF_8),
                    true);
            return true;
        });
        try (TestNode node = TestNode.startWith(tlsNode("openssl", ""))) {
            SSLContext trustAll = SSLContext.getInstance("TLS");
            trustAll.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
            HttpClient client = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_2)
                    .sslContext(trustAll)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            URI base = URI.create("https://localhost:" + node.port());
            // One first, alone: requests sent before a connection exists would each open their own.
            assertEquals(
                    200,
                    client.send(
                                    HttpRequest.newBuilder(base.resolve("/first"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .statusCode());
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            byte[] upload = new byte[300_000];
            for (int i = 0; i < 20; i++) {
                HttpRequest.Builder b =
                        HttpRequest.newBuilder(base.resolve("/n/" + i)).timeout(Duration.ofSeconds(10));
                calls.add(client.sendAsync(
                        i % 5 == 0
                                ? b.POST(HttpRequest.BodyPublishers.ofByteArray(upload))
                                        .build()
                                : b.GET().build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = 0; i < calls.size(); i++) {
                HttpResponse<String> response = calls.get(i).get();
                assertEquals(HttpClient.Version.HTTP_2, response.version());
                assertEquals(200, response.statusCode());
                assertEquals((i % 5 == 0 ? "POST /n/" + i + " 300000" : "GET /n/" + i + " 0"), response.body());
            }
            assertEquals(
                    1,
                    node.node()
                            .metrics()
                            .counter("flotilla.client.connections.h2")
                            .getCount(),
                    "all on one client connection");
            assertEquals(
                    21, node.node().metrics().counter("flotilla.http2.streams").getCount());
            java.io.ByteArrayOutputStream scrape = new java.io.ByteArrayOutputStream();
            node.node().metrics().writePrometheus(scrape);
            String text = scrape.toString(StandardCharsets.UTF_8);
            assertTrue(
                    text.contains("flotilla_client_connections_total{protocol=\"h2\",} 1.0")
                            || text.contains("flotilla_client_connections_total{protocol=\"h2\"} 1.0"),
                    text);
            assertTrue(text.contains("flotilla_http2_streams_total 21.0"), text);
        }
    }

    @Test
    void h2loadWithManyStreamsPerConnectionGetsEveryResponse() throws Exception {
        Path h2load = ExternalTool.require("/usr/bin/h2load", "nghttp2-client");
        try (TestNode node = TestNode.startWith(tlsNode("openssl", ""))) {
            String out = ExternalTool.run(
                    Duration.ofSeconds(60),
                    "",
                    List.of(
                            h2load.toString(),
                            "-n",
                            "300",
                            "-c",
                            "2",
                            "-m",
                            "20",
                            "https://localhost:" + node.port() + "/load"));
            assertTrue(out.contains("Application protocol: h2"), out);
            assertTrue(out.contains("requests: 300 total, 300 started, 300 done, 300 succeeded, 0 failed"), out);
            assertEquals(300, origin.requestCount());
        }
    }

    @Test
    void cacheHitsStaticFilesAndRateLimitsWorkPerStreamAndTheAccessLogSaysHttp2() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        byte[] file = new byte[200_000];
        for (int i = 0; i < file.length; i++) {
            file[i] = (byte) i;
        }
        Files.write(www.resolve("f.bin"), file);
        Path log = dir.resolve("access.log");
        origin.behaviour((request, out) -> {
            TestOrigin.writeResponse(out, 200, Map.of("Cache-Control", "max-age=60"), "cached body".getBytes(), true);
            return true;
        });
        String yaml = "node: {name: h2-node, event_loops: 1, access_log: {path: " + log + ", format: json}}\n"
                + "listeners:\n  - {bind: 127.0.0.1:0, h2c: true}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /files/, static: " + www + "}\n"
                + "  - {path: /limited/, upstream: app, rate_limit: {requests: 2, per: 60s, key: route}}\n"
                + "  - {path: /, upstream: app, cache: true}\n";
        try (TestNode node = TestNode.startWith(yaml);
                H2Client h2 = H2Client.connect(node.port())) {
            h2.headers(1, H2Client.get("/c", "a.test"), true).flush();
            H2Client.Response miss = h2.response(1);
            h2.headers(3, H2Client.get("/c", "a.test"), true).flush();
            H2Client.Response hit = h2.response(3);
            assertEquals("cached body", miss.bodyText());
            assertEquals("cached body", hit.bodyText());
            assertTrue(
                    hit.headers().get("cache-status").toString().contains("hit"),
                    hit.headers().toString());
            assertEquals(1, origin.requestCount(), "the second came from the store");

            h2.headers(5, H2Client.get("/files/f.bin", "a.test"), true).flush();
            H2Client.Response served = h2.response(5);
            assertEquals(200, served.status());
            assertArrayEquals(file, served.body());
            h2.headers(7, H2Client.request("HEAD", "/files/f.bin", "a.test"), true)
                    .flush();
            H2Client.Response head = h2.response(7);
            assertEquals("200000", head.headers().get("content-length").toString());
            assertEquals(0, head.body().length);

            int[] statuses = new int[3];
            for (int i = 0; i < 3; i++) {
                h2.headers(9 + 2 * i, H2Client.get("/limited/x", "a.test"), true)
                        .flush();
                statuses[i] = h2.response(9 + 2 * i).status();
            }
            assertArrayEquals(new int[] {200, 200, 429}, statuses);
        }
        String lines = Files.readString(log);
        assertTrue(lines.contains("\"version\":\"HTTP/2.0\""), lines);
        assertTrue(lines.contains("\"/files/f.bin\""), lines);
    }

    @Test
    void requestBodiesTrailersAndCookieCrumbsReachTheOriginAsHttp11() throws Exception {
        try (TestNode node = TestNode.startWith(h2cNode("", ""));
                H2Client h2 = H2Client.connect(node.port())) {
            Http2Headers post = H2Client.request("POST", "/up", "a.test");
            post.add("cookie", "a=1").add("cookie", "b=2");
            h2.headers(1, post, false)
                    .data(1, "hello ".getBytes(), false)
                    .data(1, "world".getBytes(), true)
                    .flush();
            assertEquals(200, h2.response(1).status());
            TestOrigin.Received seen = origin.last();
            assertEquals("hello world", seen.bodyText());
            assertEquals("chunked", seen.header("transfer-encoding"), "no length: chunked on HTTP/1.1");
            assertEquals("a=1; b=2", seen.header("cookie"), "RFC 9113 §8.2.3");
            assertEquals("a.test", seen.header("host"));

            Http2Headers expecting = H2Client.request("POST", "/expect", "a.test");
            expecting.set("content-length", "4").set("expect", "100-continue");
            h2.headers(5, expecting, false).flush();
            H2Client.Frame interim;
            do {
                interim = h2.next();
            } while (interim.type() != H2Client.HEADERS || interim.stream() != 5);
            assertEquals(0, interim.flags() & H2Client.END_STREAM, "100 Continue, before the body is sent");
            h2.data(5, "body".getBytes(), true).flush();
            H2Client.Response continued = h2.response(5);
            assertEquals(200, continued.status(), continued.toString());
            assertEquals("body", origin.last().bodyText());

            Http2Headers sized = H2Client.request("PUT", "/sized", "a.test");
            sized.set("content-length", "3");
            h2.headers(7, sized, false).data(7, "abc".getBytes(), true).flush();
            assertEquals(200, h2.response(7).status());
            assertEquals("3", origin.last().header("content-length"));
            assertEquals("abc", origin.last().bodyText());
        }
    }

    @Test
    void proxyProtocolOnTheConnectionIsTheClientOfEveryStream() throws Exception {
        try (TestNode node =
                        TestNode.startWith(h2cNode(", proxy_protocol: true, trusted_proxies: [127.0.0.1/32]", ""));
                java.net.Socket socket = new java.net.Socket("127.0.0.1", node.port())) {
            socket.getOutputStream()
                    .write("PROXY TCP4 203.0.113.7 10.0.0.1 4242 80\r\n".getBytes(StandardCharsets.US_ASCII));
            H2Client h2 = new H2Client(socket).preface();
            h2.headers(1, H2Client.get("/a", "a.test"), true)
                    .headers(3, H2Client.get("/b", "a.test"), true)
                    .flush();
            assertEquals(200, h2.response(1).status());
            assertEquals(200, h2.response(3).status());
            for (TestOrigin.Received seen : origin.received()) {
                assertEquals("203.0.113.7", seen.header("x-forwarded-for"));
            }
            assertEquals(2, origin.requestCount());
        }
    }

    @Test
    void drainSendsGoAwayAndLetsTheStreamInFlightFinish() throws Exception {
        origin.behaviour((request, out) -> {
            try {
                Thread.sleep(400);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            TestOrigin.writeResponse(out, 200, Map.of(), "slow".getBytes(), true);
            return true;
        });
        String yaml = h2cNode("", "")
                .replace(
                        "node: {name: h2-node, event_loops: 1}",
                        "node: {name: h2-node, event_loops: 1, drain_grace: 0s, drain_timeout: 5s}");
        try (TestNode node = TestNode.startWith(yaml);
                H2Client h2 = H2Client.connect(node.port())) {
            h2.headers(1, H2Client.get("/slow", "a.test"), true).flush();
            Thread.sleep(100);
            CompletableFuture<Void> drained = node.node().drain();
            H2Client.Frame goAway = h2.awaitGoAwayOrResponse(1);
            assertNotNull(goAway, "GOAWAY came before the response");
            assertEquals(0, goAway.errorCode(), "NO_ERROR");
            H2Client.Response response = h2.response(1);
            assertEquals(200, response.status());
            assertEquals("slow", response.bodyText());
            assertTrue(h2.closedByServer(), "closed once the stream finished");
            drained.get(5, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void malformedRequestsResetTheirStreamOnlyAndTheConnectionServesOn() throws Exception {
        try (TestNode node = TestNode.startWith(h2cNode("", ""));
                H2Client h2 = H2Client.connect(node.port())) {
            List<Http2Headers> bad = List.of(
                    new DefaultHttp2Headers(false).method("GET").scheme("http").authority("a.test"), // no :path
                    H2Client.get("/", "a.test").add("connection", "keep-alive"), // §8.2.2
                    H2Client.get("/", "a.test").add("transfer-encoding", "chunked"),
                    H2Client.get("/", "a.test").add("host", "b.test"), // another authority
                    H2Client.get("/", "a.test").add("x-split", "a\r\nx-smuggled: 1"),
                    H2Client.get("/", "user@a.test"));
            int stream = 1;
            for (Http2Headers headers : bad) {
                h2.headers(stream, headers, true).flush();
                H2Client.Response response = h2.response(stream);
                assertEquals(
                        1,
                        response.resetCode() == null ? -response.status() : response.resetCode(),
                        "PROTOCOL_ERROR for " + headers);
                stream += 2;
            }
            h2.headers(stream, new DefaultHttp2Headers(false).method("CONNECT").authority("b.test:443"), false)
                    .flush();
            assertEquals(405, h2.response(stream).status(), "CONNECT is refused as on HTTP/1.1");
            stream += 2;
            Http2Headers lying = H2Client.request("POST", "/", "a.test");
            lying.set("content-length", "10");
            h2.headers(stream, lying, false)
                    .data(stream, "abc".getBytes(), true)
                    .flush();
            H2Client.Response short3 = h2.response(stream);
            assertEquals(1, short3.resetCode(), "content-length not matched by DATA: " + short3);
            stream += 2;
            h2.headers(stream, H2Client.get("/fine", "a.test"), true).flush();
            assertEquals(200, h2.response(stream).status(), "the connection serves on");
            assertEquals(
                    List.of("/fine"),
                    origin.received().stream()
                            .map(TestOrigin.Received::target)
                            .filter(t -> !t.equals("/"))
                            .toList());
        }
    }
}
