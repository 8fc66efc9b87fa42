package io.flotilla.node.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Passive ejection with retries, active probes with slow start, and draining, through a real node. */
class UpstreamHealthTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private TestOrigin origin(String name, AtomicBoolean healthy) throws Exception {
        TestOrigin origin = TestOrigin.start((request, out) -> {
            if (request.target().equals("/healthz")) {
                TestOrigin.writeResponse(out, healthy.get() ? 200 : 503, Map.of(), "h".getBytes(), true);
                return true;
            }
            return TestOrigin.ok(name).respond(request, out);
        });
        closeables.add(origin);
        return origin;
    }

    private TestNode node(String upstreamExtra, TestOrigin... origins) throws Exception {
        StringBuilder servers = new StringBuilder();
        for (TestOrigin o : origins) {
            servers.append(servers.length() == 0 ? "" : ", ").append(o.address());
        }
        TestNode node = TestNode.startWith("node: {name: h, event_loops: 1, admin: \"127.0.0.1:0\"}\n"
                + "listeners:\n  - bind: 127.0.0.1:0\n"
                + "upstreams:\n  app:\n    servers: [" + servers + "]\n" + upstreamExtra
                + "routes:\n  - {path: /, upstream: app}\n");
        closeables.add(node);
        return node;
    }

    private static UpstreamServer server(TestNode node, TestOrigin origin) {
        return node.node().runtime().upstreams().get("app").server(origin.address());
    }

    @Test
    void aBackendKilledUnderLoadIsEjectedAndNoRequestFails() throws Exception {
        AtomicBoolean up = new AtomicBoolean(true);
        TestOrigin a = origin("a", up);
        TestOrigin b = origin("b", up);
        TestOrigin c = origin("c", up);
        TestNode node = node("    retries: 2\n    passive: {failures: 2, ejection: 10m}\n", a, b, c);
        Map<String, Integer> served = new HashMap<>();
        int failed = 0;
        try (RawClient client = node.client()) {
            for (int i = 0; i < 600; i++) {
                if (i == 150) {
                    b.close(); // killed: its connections reset, new ones refused
                }
                RawClient.Response response = client.get("/r" + i, "x");
                if (response.status() != 200) {
                    failed++;
                } else {
                    served.merge(response.bodyText(), 1, Integer::sum);
                }
            }
        }
        assertEquals(0, failed, "idempotent requests are retried on another server: " + served);
        assertEquals("ejected", server(node, b).state(0));
        assertTrue(served.get("b") >= 45 && served.get("b") <= 55, "b served its share until killed: " + served);
        assertEquals(600, served.values().stream().mapToInt(Integer::intValue).sum());
    }

    @Test
    void activeProbesTakeAServerOutAndSlowStartItBackIn() throws Exception {
        AtomicBoolean aHealthy = new AtomicBoolean(true);
        TestOrigin a = origin("a", aHealthy);
        TestOrigin b = origin("b", new AtomicBoolean(true));
        TestNode node = node(
                "    health: {path: /healthz, interval: 400ms, timeout: 350ms, rise: 2, fall: 2}\n"
                        + "    slow_start: 2s\n",
                a,
                b);
        aHealthy.set(false);
        waitFor(() -> !server(node, a).healthy(), "a probed unhealthy");
        Map<String, Integer> whileDown = countResponses(node, 100);
        assertEquals(Map.of("b", 100), whileDown, "an unhealthy server gets nothing");
        aHealthy.set(true);
        waitFor(() -> server(node, a).healthy(), "a probed healthy again");
        assertEquals("slow_start", server(node, a).state(2_000_000_000L));
        Map<String, Integer> rampUp = countResponses(node, 100);
        assertTrue(
                rampUp.getOrDefault("a", 0) > 0 && rampUp.getOrDefault("a", 0) < 40,
                "back in, with a reduced share while slow-starting: " + rampUp);
    }

    @Test
    void aDrainedServerGetsNothingNewAndItsInFlightRequestCompletes() throws Exception {
        AtomicBoolean up = new AtomicBoolean(true);
        TestOrigin slow = TestOrigin.start((request, out) -> {
            if (request.target().equals("/slow")) {
                try {
                    Thread.sleep(700);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return TestOrigin.ok("slow").respond(request, out);
        });
        closeables.add(slow);
        TestOrigin other = origin("other", up);
        TestNode node = node("", slow, other);
        // The first request of a round robin starts on a random server: send /slow until one lands on "slow".
        CompletableFuture<String> inFlight = null;
        for (int i = 0; i < 4 && inFlight == null; i++) {
            CompletableFuture<String> attempt = CompletableFuture.supplyAsync(() -> {
                try (RawClient c = node.client()) {
                    return c.get("/slow", "x").bodyText();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(150);
            if (!attempt.isDone()) {
                inFlight = attempt;
            } else {
                attempt.get();
            }
        }
        assertTrue(inFlight != null, "a request is in flight on the slow server");
        try (RawClient admin = new RawClient(node.adminPort())) {
            RawClient.Response r = admin.send("POST /upstreams/app/" + slow.address() + "/drain HTTP/1.1\r\nHost: a\r\n"
                            + "Content-Length: 0\r\n\r\n")
                    .read();
            assertEquals(200, r.status(), r.bodyText());
        }
        assertEquals(Map.of("other", 30), countResponses(node, 30), "drained: nothing new");
        assertEquals("slow", inFlight.get(), "its in-flight request completes");
        assertEquals("draining", server(node, slow).state(0));
    }

    @Test
    void aTryThatTakesTooLongMovesToAnotherServer() throws Exception {
        TestOrigin stuck = TestOrigin.start((request, out) -> {
            try {
                Thread.sleep(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return TestOrigin.ok("stuck").respond(request, out);
        });
        closeables.add(stuck);
        TestOrigin fine = origin("fine", new AtomicBoolean(true));
        TestNode node = node("    try_timeout: 300ms\n    passive: {failures: 0}\n", stuck, fine);
        try (RawClient client = node.client()) {
            for (int i = 0; i < 4; i++) {
                long start = System.nanoTime();
                RawClient.Response response = client.get("/t" + i, "x");
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertEquals("fine", response.bodyText(), "the stuck try was abandoned and retried elsewhere");
                assertTrue(ms < 1500, "one try timeout, not the 60 s upstream_read: " + ms + " ms");
            }
        }
        assertTrue(stuck.requestCount() >= 1, "round robin did send tries to the stuck server");
    }

    @Test
    void overTheCircuitLimitRequestsGetAFast503() throws Exception {
        TestOrigin slow = TestOrigin.start((request, out) -> {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return TestOrigin.ok("slow").respond(request, out);
        });
        closeables.add(slow);
        TestNode node = node("    circuit: {max_requests: 2}\n", slow);
        List<CompletableFuture<long[]>> calls = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> {
                long start = System.nanoTime();
                try (RawClient c = node.client()) {
                    int status = c.get("/", "x").status();
                    return new long[] {status, (System.nanoTime() - start) / 1_000_000};
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
            Thread.sleep(50);
        }
        int ok = 0;
        int fast503 = 0;
        for (CompletableFuture<long[]> call : calls) {
            long[] result = call.get();
            if (result[0] == 200) {
                ok++;
            } else if (result[0] == 503 && result[1] < 500) {
                fast503++;
            }
        }
        assertEquals(2, ok, "max_requests in flight are served");
        assertEquals(3, fast503, "the rest are refused at once, not queued");
        assertEquals(2, slow.requestCount());
    }

    private static Map<String, Integer> countResponses(TestNode node, int n) throws Exception {
        Map<String, Integer> counts = new HashMap<>();
        try (RawClient client = node.client()) {
            for (int i = 0; i < n; i++) {
                RawClient.Response response = client.get("/", "x");
                counts.merge(
                        response.status() == 200 ? response.bodyText() : "status-" + response.status(),
                        1,
                        Integer::sum);
            }
        }
        return counts;
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(20);
        }
    }
}
