package io.flotilla.cluster.hazelcast;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.cluster.security.Outsiders;
import io.flotilla.cluster.tickets.TicketKeySet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The fleet's session-ticket keys on real members: one generation for all, one winner when members
 * race to rotate, a late joiner taking the fleet's keys, and keys written into the map by someone
 * without the fleet secret neither taken nor blocking the next rotation.
 */
class TicketKeyRingTest {

    private static void sameEverywhere(TestFleet fleet, TicketKeySet expected) {
        eventually(Duration.ofSeconds(10), () -> {
            for (HazelcastFleetState m : fleet.members) {
                TicketKeySet mine = m.tickets().current();
                assertEquals(expected.version(), mine.version(), m.settings().memberId());
                assertTrue(expected.sameKeys(mine), m.settings().memberId() + " has " + mine);
            }
        });
    }

    @Test
    void membersShareOneGenerationAndARaceToRotateMakesOne() throws Exception {
        try (TestFleet fleet = TestFleet.start(3)) {
            TicketKeySet first = fleet.get(0).tickets().current();
            assertEquals(1, first.version());
            sameEverywhere(fleet, first);
            List<TicketKeySet> heard = new CopyOnWriteArrayList<>();
            fleet.get(2).tickets().onChange(heard::add);

            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<Optional<TicketKeySet>>> racers = new ArrayList<>();
            for (HazelcastFleetState m : fleet.members) {
                racers.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return m.tickets().rotate(1);
                }));
            }
            go.countDown();
            List<TicketKeySet> won = new ArrayList<>();
            for (CompletableFuture<Optional<TicketKeySet>> r : racers) {
                r.get().ifPresent(won::add);
            }
            assertEquals(1, won.size(), "one rotation wins: " + won);
            TicketKeySet second = won.get(0);
            assertEquals(2, second.version());
            assertArrayEquals(first.keys().get(0), second.keys().get(1), "tickets under the old key still open");
            sameEverywhere(fleet, second);
            eventually(
                    Duration.ofSeconds(10),
                    () -> assertTrue(heard.stream().anyMatch(second::sameKeys), "told: " + heard));

            HazelcastFleetState late = fleet.add();
            fleet.awaitSize(4);
            assertTrue(second.sameKeys(late.tickets().current()), "a late joiner starts with the fleet's keys");
        }
    }

    @Test
    void keysForgedIntoTheMapAreRefusedAndTheNextRotationReplacesThem() {
        try (TestFleet fleet = TestFleet.start(2)) {
            HazelcastFleetState a = fleet.get(0);
            HazelcastFleetState b = fleet.get(1);
            TicketKeySet fleetKeys = a.tickets().current();
            sameEverywhere(fleet, fleetKeys);

            // An attacker's keys, version 50, sealed with a secret the fleet does not have.
            FleetKeys wrong = FleetKeys.decode(List.of(FleetKeys.generate()));
            TicketKeySet forged = new TicketKeySet(
                    50, System.currentTimeMillis(), TicketKeySet.first(0).keys());
            a.hazelcast()
                    .<String, byte[]>getMap(MemberConfig.TICKETS)
                    .put(
                            HazelcastTicketKeyRing.KEY,
                            wrong.seal(
                                    forged.encode(), FleetKeys.aad(MemberConfig.TICKETS, HazelcastTicketKeyRing.KEY)));
            eventually(
                    Duration.ofSeconds(10),
                    () -> assertTrue(
                            a.outsiders().count(Outsiders.Kind.VALUE)
                                            + b.outsiders().count(Outsiders.Kind.VALUE)
                                    >= 2,
                            "both members refused the forged keys"));
            assertTrue(fleetKeys.sameKeys(a.tickets().current()));
            assertTrue(fleetKeys.sameKeys(b.tickets().current()));

            TicketKeySet next = b.tickets().rotate(fleetKeys.version()).orElseThrow();
            assertEquals(
                    fleetKeys.version() + 1, next.version(), "rotated from the fleet's own keys, not the forged 50");
            sameEverywhere(fleet, next);
        }
    }
}
