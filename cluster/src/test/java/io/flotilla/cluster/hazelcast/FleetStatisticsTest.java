package io.flotilla.cluster.hazelcast;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.FleetStatistics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What a node's metrics read from its fleet state (issue 17), from real members in one JVM: the
 * shared-state members each half sees during a split, the merge and migrations after it heals, and
 * the rate counters' syncs as timed operations with their lag. About 15 s.
 */
class FleetStatisticsTest {

    @Test
    void splitMergeMigrationsAndRateSyncsAreCounted() throws InterruptedException {
        try (TestFleet fleet = TestFleet.expecting(3)) {
            HazelcastFleetState a = fleet.add(List.of());
            HazelcastFleetState b = fleet.add(List.of());
            HazelcastFleetState c = fleet.add(List.of(b.membership().gossipAddress()));
            eventually(
                    Duration.ofSeconds(20), () -> assertEquals(2, c.statistics().sharedMembers()));
            assertEquals(1, a.statistics().sharedMembers(), "a alone: its half of the split");
            assertEquals(0, a.statistics().merges());

            Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
            AtomicInteger failed = new AtomicInteger();
            FleetStatistics.Observer observer = (kind, nanos, fail) -> {
                assertTrue(nanos >= 0, "a duration");
                seen.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
                if (fail) {
                    failed.incrementAndGet();
                }
            };
            b.observe(observer);
            for (int i = 0; i < 5; i++) {
                assertTrue(b.rates()
                        .tryAcquire("stats", 100, Duration.ofMinutes(1))
                        .allowed());
            }
            eventually(
                    Duration.ofSeconds(5), () -> assertTrue(seen.containsKey("rate_sync"), "syncs observed: " + seen));
            assertEquals(0, failed.get(), "a healthy fleet's syncs succeed");
            long lag = b.rates().syncLagMillis();
            assertTrue(lag < 2_000, "lag of a healthy fleet's rate sync: " + lag + " ms");

            long migrationsBefore = b.statistics().migrations() + c.statistics().migrations();
            a.membership()
                    .addPeers(List.of(
                            b.membership().gossipAddress(), c.membership().gossipAddress()));
            fleet.awaitSize(3);
            eventually(
                    Duration.ofSeconds(10), () -> assertEquals(1, a.statistics().merges(), "a merged into b and c"));
            assertEquals(0, b.statistics().merges(), "the larger half does not merge");
            for (HazelcastFleetState m : List.of(a, b, c)) {
                assertEquals(3, m.statistics().sharedMembers());
                assertEquals(0, m.statistics().partitionsLost());
            }
            long migrationsAfter = a.statistics().migrations()
                    + b.statistics().migrations()
                    + c.statistics().migrations();
            assertTrue(
                    migrationsAfter > migrationsBefore,
                    "partitions moved to the merged member: " + migrationsBefore + " -> " + migrationsAfter);
            assertFalse(b.statistics().migrationFailures() < 0);
        }
    }
}
