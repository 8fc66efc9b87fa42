package io.flotilla.node.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin API, its auth rules, metrics, the access log, PROXY protocol and graceful drain. */
class OperationsTest {
    private static final String TOKEN = "s3cret-token-0123456789";
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void stop() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T c) {
        closeables.add(c);
        return c;
    }

    private TestNode node(TestOrigin origin, String node, String listener) throws Exception {
        return track(TestNode.startWith("node: {name: ops, event_loops: 1, admin: \"127.0.0.1:0\"" + node + "}\n"
                + "listeners:\n  - {bind: \"127.0.0.1:0\"" + listener + "}\n"
                + "upstreams:\n  app: {servers: [" + origin.address() + "]}\n"
                + "routes:\n  - {path: /, upstream: app}\n"));
    }

    private static RawClient.Response admin(TestNode node, String method, String path, String token) throws Exception {
        try (RawClient client = new RawClient(node.adminPort())) {
            return client.send(method + " " + path + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n"
                            + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                            + "Content-Length: 0\r\n\r\n")
                    .read();
        }
    }

    @Test
    void healthReadinessMetricsAndUpstreams() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = node(origin, "", "");
        try (RawClient client = node.client()) {
            for (int i = 0; i < 3; i++) {
                assertEquals(200, client.get("/x", "a").status());
            }
            client.send("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n").read();
        }
        assertEquals("serving\n", admin(node, "GET", "/healthz", null).bodyText());
        assertEquals(200, admin(node, "GET", "/readyz", null).status());
        RawClient.Response metrics = admin(node, "GET", "/metrics", null);
        assertEquals(200, metrics.status());
        assertTrue(metrics.header("Content-Type").startsWith("text/plain"), metrics.header("Content-Type"));
        String text = metrics.bodyText();
        assertEquals(3.0, metric(text, "flotilla_requests_total", "method=\"GET\"", "route=\"app\"", "status=\"2xx\""));
        assertEquals(1.0, metric(text, "flotilla_requests_total", "method=\"DELETE\"", "route=\"app\""));
        assertEquals(4.0, metric(text, "flotilla_request_duration_seconds_count", "route=\"app\""));
        assertEquals(4.0, metric(text, "flotilla_request_duration_seconds_bucket", "route=\"app\"", "le=\"+Inf\""));
        assertTrue(metric(text, "flotilla_request_duration_seconds_sum", "route=\"app\"") > 0);
        // Known label values exist from startup at 0 (issue 17): no 5xx yet, no timeouts yet.
        assertEquals(0.0, metric(text, "flotilla_requests_total", "method=\"GET\"", "route=\"app\"", "status=\"5xx\""));
        assertEquals(0.0, metric(text, "flotilla_timeouts_total", "phase=\"upstream_read\""));
        assertEquals(0.0, metric(text, "flotilla_local_responses_total", "status=\"504\""));
        assertEquals(4.0, metric(text, "flotilla_upstream_ttfb_seconds_count", "upstream=\"app\""));
        assertEquals(4.0, metric(text, "flotilla_upstream_requests_total", "upstream=\"app\"", "outcome=\"response\""));
        assertEquals(
                1.0,
                metric(
                        text,
                        "flotilla_upstream_connections",
                        "state=\"open\"",
                        "server=\"127_0_0_1_" + origin.port() + "\""));
        assertTrue(metric(text, "flotilla_listener_bytes_total", "direction=\"received\"") > 100);
        assertEquals(0.0, metric(text, "flotilla_draining"));
        assertTrue(metric(text, "jvm_memory_heap_used") > 0);
        assertTrue(text.contains("netty_pooled_direct_bytes"), text);
        String upstreams = admin(node, "GET", "/upstreams", null).bodyText();
        assertTrue(upstreams.contains("\"address\":\"" + origin.address() + "\""), upstreams);
        assertTrue(upstreams.contains("\"open_connections\":1"), upstreams);
        assertEquals(404, admin(node, "GET", "/nope", null).status());
        assertEquals(405, admin(node, "GET", "/drain", null).status());
    }

    @Test
    void tokenProtectsEverythingButHealthProbes() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = node(origin, ", admin_token: " + TOKEN, "");
        assertEquals(200, admin(node, "GET", "/healthz", null).status());
        assertEquals(200, admin(node, "GET", "/readyz", null).status());
        for (String path : List.of("/metrics", "/upstreams", "/fleet")) {
            assertEquals(401, admin(node, "GET", path, null).status(), path);
            assertEquals(401, admin(node, "GET", path, TOKEN + "x").status(), path);
            assertEquals(200, admin(node, "GET", path, TOKEN).status(), path);
        }
        assertEquals(401, admin(node, "POST", "/drain", null).status());
        assertFalse(node.node().draining(), "an unauthorized drain does nothing");
    }

    @Test
    void accessLogWritesOneJsonLinePerRequest() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        Path log = dir.resolve("access.log");
        TestNode node = node(origin, ", access_log: {path: " + log + ", format: json}", "");
        try (RawClient client = node.client()) {
            client.send("GET /logged?q=1 HTTP/1.1\r\nHost: shop\r\nUser-Agent: \"quoted\" agent\r\n"
                            + "X-Request-Id: rid-7\r\n\r\n")
                    .read();
            client.get("/missing-host-route", "shop");
        }
        List<String> lines = waitForLines(log, 2);
        String first = lines.get(0);
        assertTrue(first.startsWith("{\"time\":\""), first);
        assertTrue(first.contains("\"request_id\":\"rid-7\""), first);
        assertTrue(first.contains("\"client\":\"127.0.0.1\""), first);
        assertTrue(first.contains("\"method\":\"GET\",\"target\":\"/logged?q=1\""), first);
        assertTrue(first.contains("\"status\":200"), first);
        assertTrue(first.contains("\"response_bytes\":2"), first);
        assertTrue(first.contains("\"upstream\":\"" + origin.address() + "\""), first);
        assertTrue(first.contains("\"upstream_ms\":"), first);
        assertTrue(first.contains("\"user_agent\":\"\\\"quoted\\\" agent\""), "escaped: " + first);
    }

    @Test
    void combinedFormatToo() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        Path log = dir.resolve("combined.log");
        TestNode node = node(origin, ", access_log: {path: " + log + ", format: combined}", "");
        try (RawClient client = node.client()) {
            client.get("/c", "shop");
        }
        String line = waitForLines(log, 1).get(0);
        assertTrue(
                line.matches(
                        "127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /c HTTP/1\\.1\" 200 2 \"-\" \"-\" \\S+ \\d+\\.\\d{3} \\S+ "
                                + "127\\.0\\.0\\.1:\\d+"),
                line);
    }

    private static List<String> waitForLines(Path log, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log)) {
                List<String> lines = Files.readAllLines(log);
                if (lines.size() >= n) {
                    return lines;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("fewer than " + n + " lines in " + log);
    }

    @Test
    void proxyProtocolFromATrustedFrontSetsTheClientAddress() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = node(origin, "", ", proxy_protocol: true, trusted_proxies: [127.0.0.1/32]");
        try (RawClient client = node.client()) {
            client.send("PROXY TCP4 203.0.113.9 10.0.0.1 5555 80\r\nGET /v1 HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, client.read().status());
        }
        assertEquals("203.0.113.9", origin.last().header("X-Forwarded-For"));
        assertEquals("203.0.113.9", origin.last().header("X-Real-IP"));
        try (RawClient client = node.client()) {
            client.send(proxyV2("198.51.100.4", 40000)).send("GET /v2 HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, client.read().status());
        }
        assertEquals("198.51.100.4", origin.last().header("X-Forwarded-For"));
        try (RawClient client = node.client().timeout(3000)) {
            client.send("GET /no-header HTTP/1.1\r\nHost: a\r\n\r\n");
            assertTrue(client.closedByPeer(), "a connection without the PROXY header is refused");
        }
        assertEquals(2, origin.requestCount());
    }

    @Test
    void proxyProtocolFromAnUntrustedPeerIsRefused() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = node(origin, "", ", proxy_protocol: true, trusted_proxies: [10.0.0.0/8]");
        try (RawClient client = node.client().timeout(3000)) {
            client.send("PROXY TCP4 203.0.113.9 10.0.0.1 5555 80\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
            assertTrue(client.closedByPeer());
        }
        assertEquals(0, origin.requestCount());
    }

    /** A PROXY protocol v2 header (binary), PROXY command, TCP over IPv4. */
    private static byte[] proxyV2(String source, int sourcePort) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        b.write(0x21); // version 2, PROXY
        b.write(0x11); // AF_INET, STREAM
        b.write(0);
        b.write(12); // length
        b.write(InetAddress.getByName(source).getAddress());
        b.write(new byte[] {10, 0, 0, 1});
        b.write(sourcePort >> 8);
        b.write(sourcePort & 0xff);
        b.write(0);
        b.write(80);
        return b.toByteArray();
    }

    @Test
    void aConnectionAcceptedJustBeforeTheDrainIsStillServed() throws Exception {
        TestOrigin origin = track(TestOrigin.start());
        TestNode node = node(origin, ", drain_grace: 2s", "");
        try (RawClient fresh = node.client()) {
            Thread.sleep(100); // accepted, its first request not sent yet
            node.node().drain();
            Thread.sleep(50);
            RawClient.Response r = fresh.get("/x", "a");
            assertEquals(200, r.status(), "served once, not dropped");
            assertEquals("close", r.header("Connection"));
        }
    }

    @Test
    void drainFailsHealthFinishesInFlightAndClosesIdleConnections() throws Exception {
        TestOrigin origin = track(TestOrigin.start((request, out) -> {
            if (request.target().equals("/slow")) {
                try {
                    Thread.sleep(800);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return TestOrigin.ok("ok").respond(request, out);
        }));
        TestNode node = node(origin, ", drain_grace: 400ms, drain_timeout: 5s", "");
        RawClient idle = track(node.client());
        assertEquals(200, idle.get("/warm", "a").status());
        RawClient busy = track(node.client());
        busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
        Thread.sleep(100); // the slow request is in flight
        assertEquals(202, admin(node, "POST", "/drain", null).status());
        RawClient.Response health = admin(node, "GET", "/healthz", null);
        assertEquals(503, health.status(), "healthz fails at once");
        assertEquals("draining\n", health.bodyText());
        assertTrue(idle.timeout(2000).closedByPeer(), "an idle keep-alive connection is closed");
        try (RawClient during = node.client()) {
            RawClient.Response r = during.get("/during-grace", "a");
            assertEquals(200, r.status(), "still accepting during the grace period");
            assertEquals("close", r.header("Connection"));
        }
        RawClient.Response slow = busy.read();
        assertEquals(200, slow.status(), "the in-flight request finishes");
        assertEquals("close", slow.header("Connection"));
        node.node().drain().get(5, TimeUnit.SECONDS);
        try (RawClient after = new RawClient(node.port())) {
            after.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").read();
            throw new AssertionError("a connection was served after the listeners closed");
        } catch (java.io.IOException expected) {
            assertNull(null, "refused or reset: the listener is closed");
        }
    }

    @Test
    void configPushIsValidatedThenAppliedWithoutDroppingConnections() throws Exception {
        TestOrigin first = track(TestOrigin.start(TestOrigin.ok("first")));
        TestOrigin second = track(TestOrigin.start(TestOrigin.ok("second")));
        TestNode node = node(first, "", "");
        RawClient kept = track(node.client());
        assertEquals("first", kept.get("/", "a").bodyText());
        String running = admin(node, "GET", "/config", null).bodyText();
        assertTrue(running.contains(first.address()), running);
        String adminAddress = "127.0.0.1:" + node.adminPort();
        String next = running.replace(first.address(), second.address());
        RawClient.Response pushed = push(node, next);
        assertEquals(200, pushed.status(), pushed.bodyText());
        assertEquals("second", kept.get("/", "a").bodyText(), "the same client connection, now routed anew");
        assertEquals(next, admin(node, "GET", "/config", null).bodyText());

        RawClient.Response bad = push(node, next.replace("upstream: app", "upstream: ap"));
        assertEquals(400, bad.status());
        assertTrue(bad.bodyText().startsWith("<pushed config>:"), bad.bodyText());
        assertTrue(bad.bodyText().contains("routes[0].upstream: no upstream named 'ap'"), bad.bodyText());
        RawClient.Response listenerChange = push(node, next.replace("bind: \"127.0.0.1:0\"", "bind: \"127.0.0.1:1\""));
        assertEquals(409, listenerChange.status(), listenerChange.bodyText());
        assertEquals("second", kept.get("/", "a").bodyText(), "refused pushes change nothing");
        assertTrue(adminAddress.endsWith(String.valueOf(node.adminPort())));
    }

    private static RawClient.Response push(TestNode node, String yaml) throws Exception {
        byte[] body = yaml.getBytes(StandardCharsets.UTF_8);
        try (RawClient client = new RawClient(node.adminPort())) {
            client.send("POST /config HTTP/1.1\r\nHost: admin\r\nConnection: close\r\nContent-Length: " + body.length
                    + "\r\n\r\n");
            client.send(body);
            return client.read();
        }
    }

    /** The value of the one series of {@code name} whose labels include all of {@code labels}. */
    static double metric(String text, String name, String... labels) {
        Double found = null;
        for (String line : text.split("\n")) {
            if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
                continue;
            }
            boolean all = true;
            for (String label : labels) {
                all &= line.contains(label);
            }
            if (all) {
                if (found != null) {
                    throw new AssertionError("more than one series matches " + name + " " + List.of(labels));
                }
                found = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        if (found == null) {
            throw new AssertionError("no series " + name + " " + List.of(labels) + " in:\n" + text);
        }
        return found;
    }
}
