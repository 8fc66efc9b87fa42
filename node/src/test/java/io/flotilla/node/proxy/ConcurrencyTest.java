package io.flotilla.node.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many clients at once, with 1 and with 2 event loops: every response belongs to its request (no
 * cross-talk between connections sharing a loop or a pooled upstream connection), and upstream
 * connections stay bounded by the pools (per loop), not by the number of requests.
 */
class ConcurrencyTest {
    @ParameterizedTest(name = "{0} event loop(s)")
    @ValueSource(ints = {1, 2})
    void concurrentClientsGetTheirOwnResponses(int loops) throws Exception {
        try (TestOrigin origin = TestOrigin.start((request, out) -> {
                    // Echo what identifies the request, so a mixed-up response is detected.
                    byte[] body = (request.target() + "|" + request.bodyLength()).getBytes(StandardCharsets.US_ASCII);
                    TestOrigin.writeResponse(out, 200, Map.of(), body, true);
                    return true;
                });
                TestNode node = TestNode.startWith("node: {name: c, event_loops: " + loops + "}\n"
                        + "listeners:\n  - bind: 127.0.0.1:0\n"
                        + "upstreams:\n  app: {servers: [" + origin.address() + "]}\n"
                        + "routes:\n  - {path: /, upstream: app}\n")) {
            int clients = 8;
            int perClient = 50;
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    int id = c;
                    results.add(pool.submit(() -> {
                        int ok = 0;
                        try (RawClient client = node.client()) {
                            for (int i = 0; i < perClient; i++) {
                                String target = "/c" + id + "/r" + i;
                                String body = "x".repeat(i);
                                client.send("POST " + target + " HTTP/1.1\r\nHost: a\r\nContent-Length: "
                                        + body.length() + "\r\n\r\n" + body);
                                RawClient.Response response = client.read();
                                assertEquals(target + "|" + i, response.bodyText());
                                ok++;
                            }
                        }
                        return ok;
                    }));
                }
                int total = 0;
                for (Future<Integer> f : results) {
                    total += f.get(60, TimeUnit.SECONDS);
                }
                assertEquals(clients * perClient, total);
            } finally {
                pool.shutdownNow();
            }
            assertEquals(clients * perClient, origin.requestCount());
            assertTrue(
                    origin.connectionCount() <= clients,
                    "upstream connections " + origin.connectionCount() + " for " + clients
                            + " concurrent clients: pooled, not one per request");
        }
    }
}
