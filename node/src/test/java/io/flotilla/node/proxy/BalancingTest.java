package io.flotilla.node.proxy;

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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Balancing policies through a real node and real origins: weights, hashing keys, least connections. */
class BalancingTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private List<TestOrigin> origins(int n) throws Exception {
        List<TestOrigin> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = "o" + i;
            TestOrigin origin = TestOrigin.start(TestOrigin.ok(name));
            closeables.add(origin);
            list.add(origin);
        }
        return list;
    }

    private TestNode node(String upstream) throws Exception {
        TestNode node = TestNode.start("upstreams:\n  app:\n" + upstream + "routes:\n  - {path: /, upstream: app}\n");
        closeables.add(node);
        return node;
    }

    @Test
    void weightedRoundRobinMatchesWeightsOverAFewThousandRequests() throws Exception {
        List<TestOrigin> o = origins(3);
        TestNode node = node("    servers: [{address: " + o.get(0).address() + ", weight: 5}, {address: "
                + o.get(1).address() + ", weight: 3}, {address: " + o.get(2).address() + ", weight: 2}]\n");
        Map<String, Integer> counts = new HashMap<>();
        try (RawClient client = node.client()) {
            for (int i = 0; i < 3000; i++) {
                counts.merge(client.get("/", "a").bodyText(), 1, Integer::sum);
            }
        }
        assertEquals(1500, counts.get("o0"), counts.toString());
        assertEquals(900, counts.get("o1"), counts.toString());
        assertEquals(600, counts.get("o2"), counts.toString());
    }

    @Test
    void ringHashOnAHeaderKeepsEachKeyOnOneServer() throws Exception {
        List<TestOrigin> o = origins(4);
        StringBuilder servers = new StringBuilder("    balance: ring_hash\n    hash_on: header:X-User\n    servers: [");
        for (int i = 0; i < o.size(); i++) {
            servers.append(i == 0 ? "" : ", ").append(o.get(i).address());
        }
        TestNode node = node(servers.append("]\n").toString());
        Map<String, String> first = new HashMap<>();
        Map<String, Integer> perServer = new HashMap<>();
        try (RawClient client = node.client()) {
            for (int round = 0; round < 3; round++) {
                for (int user = 0; user < 200; user++) {
                    String served = client.send("GET / HTTP/1.1\r\nHost: a\r\nX-User: user-" + user + "\r\n\r\n")
                            .read()
                            .bodyText();
                    String before = first.putIfAbsent("user-" + user, served);
                    if (before != null) {
                        assertEquals(before, served, "user-" + user + " moved between servers");
                    } else {
                        perServer.merge(served, 1, Integer::sum);
                    }
                }
            }
        }
        assertEquals(4, perServer.size(), "keys spread over every server: " + perServer);
        perServer.values().forEach(n -> assertTrue(n > 20, "no server starved: " + perServer));
    }

    @Test
    void aStickyCookieKeepsAClientOnItsServerUntilThatServerGoes() throws Exception {
        List<TestOrigin> o = origins(3);
        TestNode node =
                node("    sticky: {cookie: FLT}\n    servers: [" + o.get(0).address() + ", "
                        + o.get(1).address() + ", " + o.get(2).address() + "]\n");
        String cookie;
        String home;
        try (RawClient client = node.client()) {
            RawClient.Response first = client.get("/", "a");
            home = first.bodyText();
            cookie = first.header("Set-Cookie");
            assertTrue(
                    cookie != null && cookie.startsWith("FLT=") && cookie.contains("HttpOnly"), String.valueOf(cookie));
            String value = cookie.substring(0, cookie.indexOf(';'));
            for (int i = 0; i < 20; i++) {
                RawClient.Response again = client.send(
                                "GET / HTTP/1.1\r\nHost: a\r\nCookie: app=1; " + value + "\r\n\r\n")
                        .read();
                assertEquals(home, again.bodyText(), "round robin would have moved it");
                assertEquals(null, again.header("Set-Cookie"), "a valid cookie is not set again");
            }
            TestOrigin homeOrigin = o.get(Integer.parseInt(home.substring(1)));
            assertEquals("app=1", homeOrigin.last().header("Cookie"), "the proxy's cookie is not forwarded");
            // Its server leaves the rotation (drained; ejected or unhealthy are the same to stickiness).
            node.node()
                    .runtime()
                    .upstreams()
                    .get("app")
                    .server(homeOrigin.address())
                    .draining(true);
            RawClient.Response moved = client.send("GET / HTTP/1.1\r\nHost: a\r\nCookie: " + value + "\r\n\r\n")
                    .read();
            assertEquals(200, moved.status(), "its server is out: balanced elsewhere");
            assertTrue(!moved.bodyText().equals(home), moved.bodyText());
            assertTrue(
                    moved.header("Set-Cookie") != null
                            && !moved.header("Set-Cookie").startsWith(value + ";"),
                    "a new cookie for the new server: " + moved.header("Set-Cookie"));
        }
    }

    @Test
    void leastConnectionsAvoidsTheServerThatIsStillBusy() throws Exception {
        TestOrigin slow = TestOrigin.start((request, out) -> {
            try {
                Thread.sleep(request.target().equals("/slow") ? 1500 : 0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return TestOrigin.ok("slow-server").respond(request, out);
        });
        closeables.add(slow);
        TestOrigin fast = TestOrigin.start(TestOrigin.ok("fast-server"));
        closeables.add(fast);
        TestNode node =
                node("    balance: least_conn\n    servers: [" + slow.address() + ", " + fast.address() + "]\n");
        // Occupy whichever server takes the first slow request, then see where the others go.
        List<CompletableFuture<String>> slowOnes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            slowOnes.add(CompletableFuture.supplyAsync(() -> {
                try (RawClient c = node.client()) {
                    return c.get("/slow", "a").bodyText();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
            Thread.sleep(100);
        }
        Thread.sleep(100);
        Map<String, Integer> counts = new HashMap<>();
        try (RawClient client = node.client()) {
            for (int i = 0; i < 20; i++) {
                counts.merge(client.get("/quick", "a").bodyText(), 1, Integer::sum);
            }
        }
        for (CompletableFuture<String> f : slowOnes) {
            f.get();
        }
        // Of the two /slow requests one lands on each server (a tie at 0 in flight is broken round
        // robin): the one on the fast server returns at once, the other stays in flight on the slow
        // server. Every quick request must then go to the server with nothing in flight.
        assertEquals(Map.of("fast-server", 20), counts);
    }
}
