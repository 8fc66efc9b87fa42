package io.flotilla.cluster.hazelcast;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A partition and its healing, in one JVM: member a starts where it cannot find b and c (two
 * halves of one fleet, each serving on its own), both halves write, then a learns where the others
 * are; the gossip views merge, Hazelcast's split-brain handler finds the other half through them
 * and merges a into b and c.
 */
class PartitionMergeTest {

    @Test
    void afterHealingConfigIsAtTheHighestVersionAndPurgesAreReapplied() throws InterruptedException {
        try (TestFleet fleet = TestFleet.expecting(3)) {
            HazelcastFleetState a = fleet.add(List.of());
            HazelcastFleetState b = fleet.add(List.of());
            HazelcastFleetState c = fleet.add(List.of(b.membership().gossipAddress()));
            eventually(
                    Duration.ofSeconds(20),
                    () -> assertEquals(
                            2, c.hazelcast().getCluster().getMembers().size()));
            assertEquals(1, a.hazelcast().getCluster().getMembers().size());

            // Each half limits to its visible share of the fleet: 1/3 and 2/3, together the whole limit.
            eventually(Duration.ofSeconds(2), () -> {
                assertTrue(a.rates().degraded());
                assertEquals(1.0 / 3, a.rates().limitShare(), 1e-9);
                assertEquals(2.0 / 3, b.rates().limitShare(), 1e-9);
            });
            assertEquals(4, a.rates().tryAcquire("k", 10, Duration.ofMinutes(1)).limit());

            b.responses().put(FleetTest.entry("GET http://m/p/1", "http://m/p/1", "p1 from bc"));
            a.responses().put(FleetTest.entry("GET http://m/q/1", "http://m/q/1", "q1 from a"));
            Thread.sleep(5); // purges below are issued strictly after those entries were stored
            assertEquals(0, a.responses().purgeUrl("http://m/p/1"), "a cannot see p1 during the split");
            assertEquals(0, c.responses().purgePrefix("http://m/q/"), "c cannot see q1 during the split");
            Thread.sleep(5);
            a.responses().put(FleetTest.entry("GET http://m/q/2", "http://m/q/2", "q2 after the purge"));
            b.responses().put(FleetTest.entry("GET http://m/p/2", "http://m/p/2", "p2 untouched"));

            for (int v = 0; v < 3; v++) {
                a.config().publish(v, "a" + (v + 1)).orElseThrow();
            }
            for (int v = 0; v < 2; v++) {
                c.config().publish(v, "bc" + (v + 1)).orElseThrow();
            }

            long healedAt = System.nanoTime();
            a.membership()
                    .addPeers(List.of(
                            b.membership().gossipAddress(), c.membership().gossipAddress()));
            fleet.awaitSize(3);
            double mergeSeconds = (System.nanoTime() - healedAt) / 1e9;

            for (HazelcastFleetState m : List.of(a, b, c)) {
                eventually(Duration.ofSeconds(10), () -> {
                    assertEquals(3, m.config().current().version());
                    assertEquals("a3", m.config().current().document(), "the higher version wins");
                });
                eventually(Duration.ofSeconds(10), () -> {
                    assertNull(FleetTest.read(m, "GET http://m/p/1"), "a's purge re-applied to b's entry");
                    assertNull(FleetTest.read(m, "GET http://m/q/1"), "c's purge re-applied to a's entry");
                });
                assertNotNull(FleetTest.read(m, "GET http://m/q/2"), "stored after the purge: kept");
                assertNotNull(FleetTest.read(m, "GET http://m/p/2"), "matched no purge: kept");
                eventually(
                        Duration.ofSeconds(2), () -> assertEquals(1.0, m.rates().limitShare()));
            }
            System.out.printf("partition healed: both halves merged %.1f s after a learned its peers%n", mergeSeconds);
        }
    }
}
