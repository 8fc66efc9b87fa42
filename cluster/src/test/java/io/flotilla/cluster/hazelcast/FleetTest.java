package io.flotilla.cluster.hazelcast;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.cache.StoredResponse;
import io.flotilla.cluster.config.ConfigVersion;
import io.flotilla.cluster.health.BackendHealth;
import io.flotilla.cluster.rate.RateDecision;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** Three real members on loopback: what one does, the others see. The late joiner runs last. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetTest {

    private static TestFleet fleet;
    private static HazelcastFleetState a;
    private static HazelcastFleetState b;
    private static HazelcastFleetState c;

    @BeforeAll
    static void start() {
        fleet = TestFleet.start(3);
        a = fleet.get(0);
        b = fleet.get(1);
        c = fleet.get(2);
    }

    @AfterAll
    static void stop() {
        fleet.close();
    }

    static StoredResponse entry(String key, String url, String body, String... tags) {
        long now = System.currentTimeMillis();
        return new StoredResponse(
                key, url, Set.of(tags), now, now + 60_000, new byte[] {1, 2}, body.getBytes(StandardCharsets.UTF_8));
    }

    static String body(StoredResponse r) {
        return r == null ? null : new String(r.body(), StandardCharsets.UTF_8);
    }

    static StoredResponse read(HazelcastFleetState m, String key) {
        return m.responses().get(key).toCompletableFuture().join();
    }

    @Test
    @Order(1)
    void anEntryStoredThroughAIsReadOnBAndCAndThenServedFromTheirNearCaches() {
        String k = "GET http://site/" + UUID.randomUUID();
        a.responses().put(entry(k, k.substring(4), "hello"));
        for (HazelcastFleetState m : List.of(b, c)) {
            assertNull(m.responses().getIfLocal(k), "nothing local before the first read");
            assertEquals("hello", body(read(m, k)));
            // A read that overlaps the put's own event (an invalidation) does not fill; a later one does.
            eventually(Duration.ofSeconds(2), () -> {
                read(m, k);
                assertEquals("hello", body(m.responses().getIfLocal(k)), "a read filled the near cache");
            });
        }
    }

    @Test
    @Order(2)
    void nearCachesStayCoherentAfterUpdateAndPurge() {
        String url = "http://site/n/" + UUID.randomUUID();
        String k = "GET " + url;
        a.responses().put(entry(k, url, "v1", "t"));
        for (HazelcastFleetState m : List.of(b, c)) {
            eventually(Duration.ofSeconds(2), () -> {
                assertEquals("v1", body(read(m, k)));
                assertNotNull(m.responses().getIfLocal(k));
            });
        }
        a.responses().put(entry(k, url, "v2", "t"));
        for (HazelcastFleetState m : List.of(b, c)) {
            eventually(Duration.ofSeconds(2), () -> assertNull(m.responses().getIfLocal(k), "stale v1 dropped"));
            eventually(Duration.ofSeconds(2), () -> {
                assertEquals("v2", body(read(m, k)));
                assertEquals("v2", body(m.responses().getIfLocal(k)));
            });
        }
        assertEquals("v2", body(read(a, k)));
        assertEquals(1, b.responses().purgeUrl(url));
        for (HazelcastFleetState m : List.of(a, b, c)) {
            eventually(Duration.ofSeconds(2), () -> assertNull(m.responses().getIfLocal(k), "near copy purged"));
            assertNull(read(m, k));
        }
    }

    @Test
    @Order(3)
    void purgesByPrefixAndTagOnBReachEveryMember() {
        String prefix = "http://site/img-" + UUID.randomUUID() + "/";
        String tag = "img-" + UUID.randomUUID();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String url = prefix + i + ".png";
            keys.add("GET " + url);
            (i % 2 == 0 ? a : c).responses().put(entry("GET " + url, url, "img" + i, tag));
        }
        for (HazelcastFleetState m : List.of(a, c)) {
            keys.forEach(k -> assertNotNull(read(m, k))); // now in the near caches of a and c too
        }
        assertEquals(11, b.responses().purgePrefix(prefix + "1"), "1.png and 10.png to 19.png");
        assertEquals(9, b.responses().purgeTag(tag), "the other nine");
        for (HazelcastFleetState m : List.of(a, b, c)) {
            for (String k : keys) {
                eventually(Duration.ofSeconds(2), () -> assertNull(m.responses().getIfLocal(k)));
                assertNull(read(m, k));
            }
        }
    }

    @Test
    @Order(4)
    void oneFillClaimAcrossTheFleet() throws Exception {
        String k = "GET http://site/fill/" + UUID.randomUUID();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> claims = new ArrayList<>();
            for (HazelcastFleetState m : List.of(a, b, c, a, b, c)) {
                claims.add(pool.submit(() -> {
                    go.await();
                    return m.responses().tryClaimFill(k, Duration.ofSeconds(10));
                }));
            }
            go.countDown();
            int granted = 0;
            for (Future<Boolean> f : claims) {
                granted += f.get(10, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertEquals(1, granted, "exactly one of six concurrent claims on three members");
        } finally {
            pool.shutdownNow();
        }
        a.responses().releaseFill(k);
        b.responses().releaseFill(k);
        c.responses().releaseFill(k);
        assertTrue(b.responses().tryClaimFill(k, Duration.ofSeconds(1)), "released by its holder");
    }

    @Test
    @Order(4)
    void aMissIsTwoRoundTripsARemoteHitOneANearHitNone() {
        String k = "GET http://site/ops/" + UUID.randomUUID();
        Duration lease = Duration.ofSeconds(5);
        Map<String, Long> a0 = a.responses().fleetOperations();
        Map<String, Long> b0 = b.responses().fleetOperations();

        assertEquals(
                ResponseStore.Lookup.CLAIMED,
                a.responses().getOrClaim(k, lease).toCompletableFuture().join());
        assertEquals(
                ResponseStore.Lookup.BUSY,
                b.responses().getOrClaim(k, lease).toCompletableFuture().join(),
                "a holds the claim");
        StoredResponse stored = entry(k, k.substring(4), "filled");
        a.responses().putAsync(stored).toCompletableFuture().join(); // stores, and so releases the claim
        // b's reads: each one not in its near cache costs one get-or-claim, a near one none. (b keeps a
        // remote read only if no change of its key stripe arrived meanwhile, and the event of a's store
        // may still be on its way: so the first read or two may both be remote.)
        long bRemote = 1; // the refused claim
        boolean nearHit = false;
        for (int i = 0; i < 50 && !nearHit; i++) {
            nearHit = b.responses().getIfLocal(k) != null;
            long before = b.responses().fleetOperations().get("get_or_claim");
            assertEquals(
                    stored,
                    b.responses()
                            .getOrClaim(k, lease)
                            .toCompletableFuture()
                            .join()
                            .entry(),
                    "read " + i);
            assertEquals(nearHit ? 0 : 1, b.responses().fleetOperations().get("get_or_claim") - before, "read " + i);
            bRemote += nearHit ? 0 : 1;
        }
        assertTrue(nearHit, "b's reads end up in its near cache");
        assertEquals(
                stored,
                a.responses().getOrClaim(k, lease).toCompletableFuture().join().entry(),
                "the filler's own");

        assertEquals(
                Map.of("get_or_claim", 1L, "store", 1L),
                delta(a0, a.responses().fleetOperations()),
                "the miss on a: one get-or-claim, one store; its own read after is near");
        assertEquals(Map.of("get_or_claim", bRemote), delta(b0, b.responses().fleetOperations()));
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new java.util.TreeMap<>();
        after.forEach((kind, n) -> {
            long moved = n - before.getOrDefault(kind, 0L);
            if (moved != 0) {
                d.put(kind, moved);
            }
        });
        return d;
    }

    @Test
    @Order(5)
    void aHealthChangeOnAIsSeenOnBWithin500Millis() {
        String backend = "app/127.0.0.1:" + UUID.randomUUID();
        Map<String, Long> heardAt = new ConcurrentHashMap<>();
        Runnable cancel = b.health().onChange(h -> heardAt.putIfAbsent(h.backendId(), System.nanoTime()));
        try {
            long t0 = System.nanoTime();
            assertTrue(a.health().report(backend, false, "probe: connect refused"));
            eventually(Duration.ofMillis(500), () -> {
                BackendHealth h = b.health().health(backend);
                assertNotNull(h);
                assertFalse(h.up());
                assertEquals("ma", h.reporter());
            });
            eventually(Duration.ofMillis(500), () -> assertTrue(heardAt.containsKey(backend)));
            System.out.printf("health propagation A->B: %.1f ms%n", (heardAt.get(backend) - t0) / 1e6);
        } finally {
            cancel.run();
        }
    }

    @Test
    @Order(6)
    void eachBackendIsProbedByTwoOfTheThreeAndAllAgree() {
        int[] owned = new int[3];
        List<HazelcastFleetState> all = List.of(a, b, c);
        for (int i = 0; i < 90; i++) {
            String backend = "app/10.1.0." + i + ":80";
            List<String> owners = a.health().probeOwners(backend, 2);
            assertEquals(2, owners.size());
            assertEquals(owners, c.health().probeOwners(backend, 2));
            int owning = 0;
            for (int m = 0; m < 3; m++) {
                if (all.get(m).health().isProbeOwner(backend)) {
                    owned[m]++;
                    owning++;
                }
            }
            assertEquals(2, owning, backend + " has exactly two probers");
        }
        for (int n : owned) {
            assertTrue(n > 40 && n < 80, () -> "uneven probe load " + java.util.Arrays.toString(owned));
        }
    }

    /**
     * Each sender offers about 1000 requests a second to its member for four and a half seconds;
     * returns how many were admitted in each complete one-second window.
     */
    private static List<Long> admittedPerCompleteWindow(List<HazelcastFleetState> targets, long limit)
            throws Exception {
        Duration period = Duration.ofSeconds(1);
        String key = "client-" + UUID.randomUUID();
        Map<Long, AtomicLong> admittedPerWindow = new ConcurrentHashMap<>();
        long runUntil = System.currentTimeMillis() + 4_500;
        ExecutorService pool = Executors.newFixedThreadPool(targets.size());
        try {
            List<Callable<Long>> senders = new ArrayList<>();
            for (HazelcastFleetState m : targets) {
                senders.add(() -> {
                    long offered = 0;
                    for (int i = 0; i < 20_000 && System.currentTimeMillis() < runUntil; i++) {
                        long now = System.currentTimeMillis();
                        RateDecision d = m.rates().tryAcquire(key, limit, period);
                        offered++;
                        if (d.allowed()) {
                            admittedPerWindow
                                    .computeIfAbsent(now - now % 1000, w -> new AtomicLong())
                                    .incrementAndGet();
                        }
                        Thread.sleep(1);
                    }
                    return offered;
                });
            }
            for (Future<Long> f : pool.invokeAll(senders, 20, TimeUnit.SECONDS)) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        TreeMap<Long, AtomicLong> windows = new TreeMap<>(admittedPerWindow);
        List<Long> complete = new ArrayList<>(windows.keySet()).subList(1, windows.size() - 1);
        assertTrue(complete.size() >= 3, "windows " + windows);
        return complete.stream().map(w -> windows.get(w).get()).toList();
    }

    /** Three members, each flooded by its own thread (about 3000 requests a second, ten times the limit). */
    @Test
    @Order(7)
    void aFleetWideLimitAdmitsBetweenLAndFivePercentMore() throws Exception {
        long limit = 300;
        List<Long> counts = admittedPerCompleteWindow(List.of(a, b, c), limit);
        System.out.printf("rate limit %d/s, traffic spread over 3 members: admitted per window %s%n", limit, counts);
        for (long n : counts) {
            assertTrue(n >= limit && n <= limit * 105 / 100, "admitted " + n + " of limit " + limit + ": " + counts);
        }
        assertFalse(a.rates().degraded());
    }

    /** All traffic on one member: its budget grows back each sync, so it uses most of every window. */
    @Test
    @Order(7)
    void oneMemberTakingAllTheTrafficUsesMostOfTheWindow() throws Exception {
        long limit = 300;
        List<Long> counts = admittedPerCompleteWindow(List.of(b), limit);
        System.out.printf("rate limit %d/s, all traffic on 1 of 3 members: admitted per window %s%n", limit, counts);
        for (long n : counts) {
            assertTrue(n >= limit * 90 / 100 && n <= limit, "admitted " + n + " of limit " + limit + ": " + counts);
        }
    }

    @Test
    @Order(8)
    void configPublishedOnCIsLiveOnAAndBAndRollsBack() {
        long base = c.config().history().currentVersion();
        List<ConfigVersion> heardOnA = new java.util.concurrent.CopyOnWriteArrayList<>();
        Runnable cancel = a.config().onChange(heardOnA::add);
        try {
            ConfigVersion v = c.config().publish(base, "routes: [v-next]").orElseThrow();
            for (HazelcastFleetState m : List.of(a, b)) {
                eventually(
                        Duration.ofSeconds(2), () -> assertEquals(v, m.config().current()));
            }
            eventually(Duration.ofSeconds(2), () -> assertEquals(List.of(v), heardOnA));
            assertTrue(a.config().publish(base, "a stale publish").isEmpty());
            c.config().publish(v.version(), "routes: [broken]").orElseThrow();
            ConfigVersion back = b.config().rollback(v.version() + 1).orElseThrow();
            assertEquals("routes: [v-next]", back.document());
            for (HazelcastFleetState m : List.of(a, b, c)) {
                eventually(
                        Duration.ofSeconds(2),
                        () -> assertEquals(back, m.config().current()));
            }
        } finally {
            cancel.run();
        }
    }

    @Test
    @Order(9)
    void aLateJoinerSeesTheCurrentConfigAndEntriesAtOnce() {
        String k = "GET http://site/late/" + UUID.randomUUID();
        a.responses().put(entry(k, k.substring(4), "early"));
        long version = a.config().history().currentVersion();
        ConfigVersion current =
                a.config().publish(version, "routes: [for the late joiner]").orElseThrow();
        try (HazelcastFleetState d = fleet.add()) {
            assertEquals(current, d.config().current(), "current before it serves anything");
            assertEquals("early", body(read(d, k)));
            eventually(
                    Duration.ofSeconds(10),
                    () -> assertEquals(4, a.membership().members().size()));
        } finally {
            fleet.members.remove(fleet.members.size() - 1);
        }
    }
}
