package io.flotilla.cluster.hazelcast;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.cache.StoredResponse;
import io.flotilla.cluster.config.ConfigHistory;
import io.flotilla.cluster.config.ConfigVersion;
import io.flotilla.cluster.health.BackendHealth;
import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.cluster.security.Outsiders;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Values written straight into the shared maps (as a process past the member gate could) with a
 * wrong key, or unsealed: every member drops them, counts them and goes on with the fleet's own;
 * and a key rotated member by member, old and new keys both accepted during the change.
 */
class SealedValuesTest {

    private static final FleetKeys WRONG = FleetKeys.decode(List.of(FleetKeys.generate()));

    private static long refusedValues(TestFleet fleet) {
        return fleet.members.stream()
                .mapToLong(m -> m.outsiders().count(Outsiders.Kind.VALUE))
                .sum();
    }

    @Test
    void forgedHealthConfigAndRateValuesAreDroppedAndCounted() {
        try (TestFleet fleet = TestFleet.start(2)) {
            HazelcastFleetState a = fleet.get(0);
            HazelcastFleetState b = fleet.get(1);
            a.config().publish(0, "routes: [fleet's own]");
            a.health().report("app/10.0.0.1:80", true, "probe ok");
            eventually(Duration.ofSeconds(10), () -> {
                assertEquals(1, b.config().history().currentVersion());
                assertNotNull(b.health().health("app/10.0.0.1:80"));
            });
            List<BackendHealth> heard = new CopyOnWriteArrayList<>();
            b.health().onChange(heard::add);

            // Health: a verdict sealed with another key, and one not sealed at all.
            a.hazelcast()
                    .getReplicatedMap(MemberConfig.HEALTH)
                    .put(
                            "app/10.0.0.1:80",
                            WRONG.seal(
                                    "app/10.0.0.1:80 down".getBytes(StandardCharsets.UTF_8),
                                    FleetKeys.aad(MemberConfig.HEALTH, "app/10.0.0.1:80")));
            a.hazelcast().getReplicatedMap(MemberConfig.HEALTH).put("app/10.0.0.2:80", new byte[] {1, 2, 3});
            // Config: version 99 whose document sends all traffic elsewhere, sealed with another key.
            String forged = "sealed:"
                    + Base64.getEncoder()
                            .encodeToString(WRONG.seal(
                                    "upstreams: {app: {servers: [evil:80]}}".getBytes(StandardCharsets.UTF_8),
                                    FleetKeys.aad(MemberConfig.CONFIG, HazelcastConfigStore.KEY)));
            a.hazelcast()
                    .getMap(MemberConfig.CONFIG)
                    .put(
                            HazelcastConfigStore.KEY,
                            new ConfigHistory(
                                    List.of(new ConfigVersion(99, forged, System.currentTimeMillis(), "attacker"))));
            // Rates: a window total of a million, so every request would be refused.
            long hour = 3_600_000;
            long start = System.currentTimeMillis() / hour * hour;
            String window = "k|" + hour + "|" + start;
            a.hazelcast()
                    .getMap(MemberConfig.RATES)
                    .put(
                            window,
                            WRONG.seal(
                                    ByteBuffer.allocate(8).putLong(1_000_000).array(),
                                    FleetKeys.aad(MemberConfig.RATES, window)));

            eventually(
                    Duration.ofSeconds(10),
                    () -> assertTrue(refusedValues(fleet) >= 3, "counted: " + refusedValues(fleet)));
            for (HazelcastFleetState m : fleet.members) {
                assertNull(m.health().health("app/10.0.0.1:80"), "a forged verdict reads as none");
                assertNull(m.health().health("app/10.0.0.2:80"));
                assertEquals(0, m.health().snapshot().size());
                m.config().refresh();
                assertEquals(1, m.config().history().currentVersion(), "the forged version 99 is not taken");
                assertEquals(
                        "routes: [fleet's own]", m.config().history().current().document());
            }
            assertTrue(
                    heard.stream()
                            .allMatch(h -> h.reporter().equals(a.settings().memberId())),
                    "no listener heard a forged verdict (a late event of the real one may come): " + heard);
            assertTrue(a.rates().tryAcquire("k", 10, Duration.ofMillis(hour)).allowed());
            eventually(
                    Duration.ofSeconds(5),
                    () -> assertTrue(refusedValues(fleet) >= 4, "the forged total, on its owner"));
            assertTrue(a.rates().tryAcquire("k", 10, Duration.ofMillis(hour)).allowed(), "the million was not counted");
            assertTrue(fleet.members.stream()
                    .flatMap(m -> m.outsiders().recent().stream())
                    .anyMatch(r ->
                            r.kind() == Outsiders.Kind.VALUE && r.from().equals(MemberConfig.CONFIG + "/current")));

            // The fleet goes on: a real publish and a real verdict still work.
            b.config().publish(1, "routes: [next]");
            a.health().report("app/10.0.0.1:80", false, "probe failed");
            eventually(Duration.ofSeconds(10), () -> {
                assertEquals("routes: [next]", a.config().history().current().document());
                assertEquals(false, b.health().health("app/10.0.0.1:80").up());
            });
        }
    }

    @Test
    void aForgedCacheEntryIsNeverServedAndARealFillReplacesIt() {
        try (TestFleet fleet = TestFleet.start(2)) {
            HazelcastFleetState a = fleet.get(0);
            HazelcastFleetState b = fleet.get(1);
            String key = "GET http://site/login";
            long now = System.currentTimeMillis();
            // A response sealed with another key, in the slot form members write, planted straight into the map.
            StoredResponse plain = new StoredResponse(
                    key, "http://site/login", java.util.Set.of(), now, now + 60_000, new byte[0], new byte[0]);
            StoredResponse bait = new StoredResponse(
                    key,
                    plain.url(),
                    plain.tags(),
                    now,
                    plain.removeAt(),
                    WRONG.seal(
                            new byte[] {0, 0, 0, 0, 'e', 'v', 'i', 'l'},
                            FleetKeys.aad(MemberConfig.RESPONSES, HazelcastResponseStore.boundFields(plain))),
                    new byte[0]);
            a.hazelcast().getMap(MemberConfig.RESPONSES).put(key, CacheSlot.of(bait));
            long before = refusedValues(fleet);

            assertNull(b.responses().get(key).toCompletableFuture().join(), "a forged entry reads as none");
            ResponseStore.Lookup found = b.responses()
                    .getOrClaim(key, Duration.ofSeconds(5))
                    .toCompletableFuture()
                    .join();
            assertNull(found.entry());
            assertEquals(ResponseStore.Claim.NONE, found.claim(), "no claim was taken beside the forged value");
            assertEquals(before + 2, refusedValues(fleet), "both reads counted");
            assertTrue(b.responses().tryClaimFill(key, Duration.ofSeconds(5)), "the fill claims beside it");

            StoredResponse real = FleetTest.entry(key, "http://site/login", "the real page");
            b.responses().put(real);
            assertEquals(real, FleetTest.read(a, key));
            assertEquals(before + 2, refusedValues(fleet));
        }
    }

    @Test
    void aForgedPurgeRecordPurgesNothing() {
        try (TestFleet fleet = TestFleet.start(2)) {
            HazelcastFleetState a = fleet.get(0);
            HazelcastFleetState b = fleet.get(1);
            String key = "GET http://site/kept";
            StoredResponse kept = FleetTest.entry(key, "http://site/kept", "kept");
            a.responses().put(kept);
            assertEquals(kept, FleetTest.read(b, key));
            eventually(Duration.ofSeconds(5), () -> assertNotNull(b.responses().getIfLocal(key), "in b's near cache"));
            long before = refusedValues(fleet);

            // A purge of everything, logged as a member would log it but proven with another key.
            PurgeRecord unproven =
                    new PurgeRecord("forged", PurgeKind.PREFIX, "", System.currentTimeMillis(), "mb", new byte[0]);
            a.hazelcast()
                    .getMap(MemberConfig.PURGES)
                    .put(
                            "forged",
                            new PurgeRecord(
                                    "forged",
                                    PurgeKind.PREFIX,
                                    "",
                                    unproven.issuedAt(),
                                    "mb",
                                    WRONG.seal(
                                            new byte[0], FleetKeys.aad(MemberConfig.PURGES, unproven.boundFields()))));
            eventually(
                    Duration.ofSeconds(10),
                    () -> assertTrue(refusedValues(fleet) >= before + 2, "both members refused it"));
            assertEquals(kept, b.responses().getIfLocal(key), "b's near copy stays");
            assertEquals(kept, a.responses().getIfLocal(key), "and a's");

            // A real purge still reaches both.
            assertEquals(1, a.responses().purgePrefix("http://site/"));
            eventually(Duration.ofSeconds(5), () -> assertNull(b.responses().getIfLocal(key)));
        }
    }

    @Test
    void aKeyIsRotatedMemberByMemberWithValuesReadableThroughout() {
        try (TestFleet fleet = TestFleet.expecting(2)) {
            String oldKey = fleet.key();
            String newKey = FleetKeys.generate();
            HazelcastFleetState a = fleet.add(FleetKeys.decode(List.of(oldKey)));
            HazelcastFleetState b = fleet.add(FleetKeys.decode(List.of(oldKey, newKey))); // step 1: new key accepted
            fleet.awaitSize(2);
            a.config().publish(0, "v1 sealed with the old key");
            a.health().report("app/x:80", true, "ok");
            eventually(
                    Duration.ofSeconds(10),
                    () -> assertEquals(1, b.config().history().currentVersion()));

            a.close();
            HazelcastFleetState c = fleet.add(FleetKeys.decode(List.of(newKey, oldKey))); // step 2: new key seals
            eventually(
                    Duration.ofSeconds(20),
                    () -> assertEquals(
                            2, c.hazelcast().getCluster().getMembers().size()));
            assertEquals(
                    "v1 sealed with the old key", c.config().history().current().document(), "old values still open");
            // The health map is replicated to a new member in the background.
            eventually(Duration.ofSeconds(10), () -> assertNotNull(c.health().health("app/x:80")));
            c.config().publish(1, "v2 sealed with the new key");
            eventually(
                    Duration.ofSeconds(10),
                    () -> assertEquals(
                            "v2 sealed with the new key",
                            b.config().history().current().document(),
                            "and a member on step 1 opens the new key's values"));
            // A prober's read re-seals the verdict with the new key; probers read every interval, here until it took.
            eventually(Duration.ofSeconds(10), () -> {
                assertNotNull(c.health().health("app/x:80"));
                assertFalse(c.seal().sealedWithOlderKey((byte[])
                        c.hazelcast().getReplicatedMap(MemberConfig.HEALTH).get("app/x:80")));
            });

            b.close();
            HazelcastFleetState d = fleet.add(FleetKeys.decode(List.of(newKey))); // step 3: old key retired
            eventually(
                    Duration.ofSeconds(20),
                    () -> assertEquals(
                            2, d.hazelcast().getCluster().getMembers().size()));
            assertEquals(
                    "v2 sealed with the new key", d.config().history().current().document());
            assertEquals(1, d.config().history().versions().size(), "v1, sealed with the retired key, is left out");
            eventually(
                    Duration.ofSeconds(10), // the replicated map reaches a newcomer asynchronously
                    () -> assertNotNull(
                            d.health().health("app/x:80"), "the verdict was re-sealed before the old key went"));
            assertEquals(0, refusedValues(fleet), "nothing was refused during the change");
        }
    }
}
