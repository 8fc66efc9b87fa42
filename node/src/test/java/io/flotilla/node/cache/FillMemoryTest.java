package io.flotilla.node.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Bodies being copied aside for the cache are bounded over all fills at once ({@code cache.fill_memory}):
 * with room for two large fills, four at once are all relayed whole, two are stored, and the budget
 * is whole again afterwards.
 */
class FillMemoryTest {

    private static final int BODY = 1536 * 1024;
    private static final int FILLS = 4;

    @Test
    void fillsBeyondTheBudgetAreRelayedWholeButNotStored() throws Exception {
        CountDownLatch allAsked = new CountDownLatch(FILLS);
        TestOrigin origin = TestOrigin.start((request, out) -> {
            byte[] body = body(request.target());
            out.write(("HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: " + BODY + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.write(body, 0, 64 * 1024);
            out.flush();
            allAsked.countDown();
            try {
                allAsked.await(10, TimeUnit.SECONDS); // every fill is under way before any ends
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            out.write(body, 64 * 1024, BODY - 64 * 1024);
            out.flush();
            return true;
        });
        try (origin;
                TestNode node = TestNode.start(
                        "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                                + "routes:\n  - {path: /, upstream: app, cache: true}\ncache: {max_entry: 2m, fill_memory: 3m}\n")) {
            ResponseCache cache = node.node().cache();
            assertEquals(3L << 20, cache.fillMemoryLimit());
            ExecutorService clients = Executors.newFixedThreadPool(FILLS);
            try {
                List<Future<RawClient.Response>> answers = new ArrayList<>();
                for (int i = 0; i < FILLS; i++) {
                    String target = "/big/" + i;
                    answers.add(clients.submit(() -> {
                        try (RawClient c = node.client().timeout(20_000)) {
                            return c.get(target, "example.com");
                        }
                    }));
                }
                int stored = 0;
                for (int i = 0; i < FILLS; i++) {
                    RawClient.Response r = answers.get(i).get(30, TimeUnit.SECONDS);
                    assertEquals(200, r.status());
                    assertArrayEquals(body("/big/" + i), r.body(), "fill " + i + " relayed whole");
                    stored += r.header("Cache-Status").contains("stored") ? 1 : 0;
                }
                assertEquals(2, stored, "room for two 1.5 MiB bodies in 3 MiB");
                assertEquals(2, cache.stats().get(CacheStats.Event.FILL_MEMORY_FULL));
            } finally {
                clients.shutdownNow();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (cache.fillMemoryInUse() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(0, cache.fillMemoryInUse(), "every fill gave its share back");
            int hits = 0;
            for (int i = 0; i < FILLS; i++) {
                try (RawClient c = node.client()) {
                    RawClient.Response again = c.get("/big/" + i, "example.com");
                    assertArrayEquals(body("/big/" + i), again.body());
                    hits += again.header("Cache-Status").contains("hit") ? 1 : 0;
                }
            }
            assertEquals(2, hits, "the two stored bodies are served from the cache");
            assertTrue(origin.received().size() >= FILLS + 2);
        }
    }

    /** A body of its own for each path, so a mix-up shows. */
    private static byte[] body(String target) {
        byte[] b = new byte[BODY];
        Arrays.fill(b, (byte) ('a' + (target.hashCode() & 15)));
        b[0] = (byte) target.charAt(target.length() - 1);
        return b;
    }
}
