package io.flotilla.cluster.hazelcast;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.membership.Member;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A member dies without a word: the others keep every entry, take over its claims and its probes. */
class FailoverTest {

    private static final int ENTRIES = 200;
    private static final Duration LEASE = Duration.ofSeconds(8);

    @Test
    void theFleetOutlivesAMemberThatCrashes() {
        try (TestFleet fleet = TestFleet.start(3)) {
            HazelcastFleetState a = fleet.get(0);
            HazelcastFleetState b = fleet.get(1);
            HazelcastFleetState c = fleet.get(2);
            for (int i = 0; i < ENTRIES; i++) {
                String url = "http://site/f/" + i;
                a.responses().put(FleetTest.entry("GET " + url, url, "body " + i));
            }
            // A claim takes no backup (losing one costs one origin fetch at most), so the claim whose lapse
            // is tested lives on a member that survives.
            String fillKey = java.util.stream.IntStream.range(0, 1000)
                    .mapToObj(i -> "GET http://site/slow/" + i)
                    .filter(k -> b.hazelcast()
                            .getPartitionService()
                            .getPartition(k)
                            .getOwner()
                            .localMember())
                    .findFirst()
                    .orElseThrow();
            assertTrue(a.responses().tryClaimFill(fillKey, LEASE));
            Map<String, List<String>> ownersBefore = new HashMap<>();
            for (int i = 0; i < 60; i++) {
                ownersBefore.put("app/10.2.0." + i + ":80", b.health().probeOwners("app/10.2.0." + i + ":80", 2));
            }
            assertTrue(ownersBefore.values().stream().anyMatch(o -> o.contains("ma")), "a probes something");

            long crashedAt = System.nanoTime();
            a.crash(); // Hazelcast terminated, gossip silent: no goodbye to anyone
            assertFalse(b.responses().tryClaimFill(fillKey, LEASE), "the dead member's claim still holds");

            for (HazelcastFleetState m : List.of(b, c)) {
                eventually(
                        Duration.ofSeconds(15),
                        () -> assertEquals(
                                List.of("mb", "mc"),
                                m.membership().members().stream()
                                        .map(Member::id)
                                        .toList()));
            }
            double gossipSeconds = (System.nanoTime() - crashedAt) / 1e9;
            for (HazelcastFleetState m : List.of(b, c)) {
                eventually(
                        Duration.ofSeconds(15),
                        () -> assertEquals(
                                2, m.hazelcast().getCluster().getMembers().size()));
            }
            double hazelcastSeconds = (System.nanoTime() - crashedAt) / 1e9;

            for (HazelcastFleetState m : List.of(b, c)) {
                for (int i = 0; i < ENTRIES; i++) {
                    assertNotNull(FleetTest.read(m, "GET http://site/f/" + i), "entry " + i + " lost with its owner");
                }
            }
            assertEquals(
                    ENTRIES,
                    b.hazelcast().<String, CacheSlot>getMap(MemberConfig.RESPONSES).values().stream()
                            .filter(slot -> slot.response() != null)
                            .count());

            eventually(LEASE.plusSeconds(3), () -> assertTrue(c.responses().tryClaimFill(fillKey, LEASE)));
            double claimSeconds = (System.nanoTime() - crashedAt) / 1e9;

            int moved = 0;
            for (Map.Entry<String, List<String>> e : ownersBefore.entrySet()) {
                List<String> now = c.health().probeOwners(e.getKey(), 2);
                assertEquals(2, now.size());
                assertFalse(now.contains("ma"));
                if (e.getValue().contains("ma")) {
                    moved++;
                    List<String> kept = new ArrayList<>(e.getValue());
                    kept.remove("ma");
                    assertTrue(now.containsAll(kept), "the surviving prober keeps " + e.getKey());
                } else {
                    assertEquals(e.getValue(), now, e.getKey() + " moved though its probers live");
                }
            }
            System.out.printf(
                    "crash: gossip view without it after %.1f s, Hazelcast after %.1f s, "
                            + "fill claim free after %.1f s (lease %d s), %d of 60 backends changed prober%n",
                    gossipSeconds, hazelcastSeconds, claimSeconds, LEASE.toSeconds(), moved);
            assertTrue(gossipSeconds < 10, "failure detection took " + gossipSeconds + " s");
        }
    }
}
