package io.flotilla.node.upstream.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Ring hash and Maglev: affinity, spread, and how few keys move when the servers change. */
class ConsistentHashBalancerTest {
    private static final int KEYS = 10_000;
    private static final double MOVE_TOLERANCE = 0.02;

    enum Policy {
        RING_HASH("ring_hash"),
        MAGLEV("maglev");

        final String configName;

        Policy(String configName) {
            this.configName = configName;
        }

        /** A fresh factory, as another node (or a restart) would have. */
        BalancerFactory factory() {
            return BalancerFactory.forName(configName);
        }
    }

    /** Client addresses, the commonest hash key. */
    private static String key(int i) {
        return "192.168." + (i >> 8) + "." + (i & 255);
    }

    /** The server address each key goes to: addresses, not views, so mappings over different lists compare. */
    private static String[] map(Balancer balancer) {
        String[] out = new String[KEYS];
        for (int i = 0; i < KEYS; i++) {
            ServerView server = balancer.pick(key(i));
            out[i] = server == null ? null : server.server().address().toString();
        }
        return out;
    }

    private static String address(FakeServer server) {
        return server.server().address().toString();
    }

    private static Map<String, Integer> counts(String[] mapping) {
        Map<String, Integer> counts = new HashMap<>();
        for (String server : mapping) {
            counts.merge(server, 1, Integer::sum);
        }
        return counts;
    }

    private static int moved(String[] before, String[] after) {
        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            if (!before[i].equals(after[i])) {
                moved++;
            }
        }
        return moved;
    }

    private static int[] ones(int n) {
        int[] weights = new int[n];
        Arrays.fill(weights, 1);
        return weights;
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void aKeyAlwaysGoesToTheSameServerOnEveryLoopAndEveryNode(Policy policy) {
        BalancerFactory factory = policy.factory();
        List<FakeServer> servers = FakeServer.of(1, 1, 1, 1, 1);
        String[] first = map(factory.newBalancer(servers));
        assertEquals(List.of(first), List.of(map(factory.newBalancer(servers))), "another event loop");
        String[] again = map(factory.newBalancer(servers));
        assertEquals(List.of(first), List.of(again), "the same balancer, later");

        // Another node: its own factory and server objects, the config listing them in another order.
        List<FakeServer> elsewhere = new ArrayList<>(FakeServer.of(1, 1, 1, 1, 1));
        Collections.reverse(elsewhere);
        assertEquals(List.of(first), List.of(map(policy.factory().newBalancer(elsewhere))));
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void equalWeightsShareTheKeysEvenly(Policy policy) {
        BalancerFactory factory = policy.factory();
        // 10k keys put about 3% of noise on each share by themselves; Maglev's table adds almost nothing.
        double tolerance = policy == Policy.MAGLEV ? 0.06 : 0.10;
        for (int n : new int[] {3, 5, 10}) {
            Map<String, Integer> counts = counts(map(factory.newBalancer(FakeServer.of(ones(n)))));
            assertEquals(n, counts.size());
            for (int count : counts.values()) {
                assertTrue(Math.abs(count - KEYS / (double) n) <= tolerance * KEYS / n, "n=" + n + ": " + counts);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void weightsSetTheShares(Policy policy) {
        BalancerFactory factory = policy.factory();
        List<FakeServer> servers = FakeServer.of(1, 2, 3, 0);
        Map<String, Integer> counts = counts(map(factory.newBalancer(servers)));
        assertNull(counts.get(address(servers.get(3))), "weight 0 owns no keys");
        for (int i = 0; i < 3; i++) {
            double share = KEYS * (i + 1) / 6.0;
            int got = counts.get(address(servers.get(i)));
            assertTrue(Math.abs(got - share) <= 0.10 * share, servers.get(i) + ": " + counts);
        }
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void removingAServerMovesItsKeysAndFewOthers(Policy policy) {
        BalancerFactory factory = policy.factory();
        boolean ring = policy == Policy.RING_HASH;
        for (int n : new int[] {5, 10}) {
            List<FakeServer> servers = FakeServer.of(ones(n));
            String[] before = map(factory.newBalancer(servers));
            for (int gone = 0; gone < n; gone++) {
                List<FakeServer> fewer = new ArrayList<>(servers);
                String removed = address(fewer.remove(gone));
                String[] after = map(factory.newBalancer(fewer));
                int moved = 0;
                for (int i = 0; i < KEYS; i++) {
                    if (before[i].equals(removed)) {
                        assertNotEquals(removed, after[i]);
                    } else if (!before[i].equals(after[i])) {
                        moved++;
                    }
                }
                if (ring) {
                    assertEquals(0, moved, "on a ring only the removed server's keys move");
                }
                double movedShare = moved(before, after) / (double) KEYS;
                assertTrue(
                        movedShare <= 1.0 / n + MOVE_TOLERANCE,
                        "n=" + n + ", removing " + removed + " moved " + movedShare);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void addingAServerMovesAboutItsShare(Policy policy) {
        BalancerFactory factory = policy.factory();
        boolean ring = policy == Policy.RING_HASH;
        for (int n : new int[] {5, 10}) {
            List<FakeServer> servers = FakeServer.of(ones(n));
            String[] before = map(factory.newBalancer(servers));
            List<FakeServer> more = new ArrayList<>(servers);
            FakeServer added = FakeServer.numbered(n, 1);
            more.add(added);
            String[] after = map(factory.newBalancer(more));
            double movedShare = moved(before, after) / (double) KEYS;
            assertTrue(movedShare <= 1.0 / (n + 1) + MOVE_TOLERANCE, "n=" + n + " moved " + movedShare);
            assertTrue(movedShare > 0, "the new server takes some keys");
            if (ring) {
                for (int i = 0; i < KEYS; i++) {
                    if (!before[i].equals(after[i])) {
                        assertEquals(address(added), after[i], "on a ring keys move only to the new server");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void anUnavailableServerLosesOnlyItsKeysAndGetsThemBack(Policy policy) {
        BalancerFactory factory = policy.factory();
        List<FakeServer> servers = FakeServer.of(ones(5));
        Balancer balancer = factory.newBalancer(servers);
        String[] before = map(balancer);
        FakeServer down = servers.get(2);
        down.up = false;
        String[] during = map(balancer);
        Set<String> heirs = new HashSet<>();
        for (int i = 0; i < KEYS; i++) {
            if (before[i].equals(address(down))) {
                assertNotEquals(address(down), during[i]);
                heirs.add(during[i]);
            } else {
                assertEquals(before[i], during[i], "a key of an available server moved");
            }
        }
        assertEquals(4, heirs.size(), "its keys spread over all the others: " + heirs);
        down.up = true;
        assertEquals(List.of(before), List.of(map(balancer)));
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void pickOtherIsWhereTheKeyGoesWhenItsServerIsDown(Policy policy) {
        BalancerFactory factory = policy.factory();
        List<FakeServer> servers = FakeServer.of(ones(5));
        Balancer balancer = factory.newBalancer(servers);
        for (int i = 0; i < 200; i++) {
            FakeServer first = (FakeServer) balancer.pick(key(i));
            ServerView other = balancer.pickOther(first, key(i));
            assertNotSame(first, other);
            first.up = false;
            assertSame(balancer.pick(key(i)), other);
            first.up = true;
        }
        List<FakeServer> single = FakeServer.of(1);
        assertNull(factory.newBalancer(single).pickOther(single.get(0), "k"));
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void aKeylessRequestIsSpreadByRoundRobin(Policy policy) {
        BalancerFactory factory = policy.factory();
        List<FakeServer> servers = FakeServer.of(1, 1, 1);
        Balancer balancer = factory.newBalancer(servers);
        Set<ServerView> chosen = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            chosen.add(balancer.pick(i % 2 == 0 ? null : ""));
        }
        assertEquals(3, chosen.size(), "null and empty keys go round, not all to one server");
        ServerView other = balancer.pickOther(servers.get(0), null);
        assertNotNull(other);
        assertNotSame(servers.get(0), other);
        servers.forEach(s -> s.up = false);
        assertNull(balancer.pick(null));
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void nothingAvailableGivesNull(Policy policy) {
        BalancerFactory factory = policy.factory();
        List<FakeServer> servers = FakeServer.of(ones(10));
        Balancer balancer = factory.newBalancer(servers);
        servers.forEach(s -> s.up = false);
        for (int i = 0; i < 1000; i++) {
            assertNull(balancer.pick(key(i)));
        }
        assertNull(factory.newBalancer(FakeServer.of(0, 0)).pick("k"), "all drained by config");
        assertNull(factory.newBalancer(List.of()).pick("k"));
        servers.get(7).up = true;
        assertSame(servers.get(7), balancer.pick("k"));
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void theTableIsBuiltOncePerServerSet(Policy policy) {
        BalancerFactory factory = policy.factory();
        List<FakeServer> servers = FakeServer.of(1, 2);
        KeyTable table = ((ConsistentHashBalancer) factory.newBalancer(servers)).table();
        assertSame(table, ((ConsistentHashBalancer) factory.newBalancer(List.copyOf(servers))).table());
        servers.get(1).weight = 3;
        assertNotSame(table, ((ConsistentHashBalancer) factory.newBalancer(servers)).table(), "a weight changed");
    }

    @Test
    void maglevTableSharesAreExact() {
        int size = BalancerFactory.DEFAULT_MAGLEV_TABLE_SIZE;
        List<String> names = List.of("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80");
        assertSlots(MaglevTable.build(names, new int[] {1, 1, 1, 1}, size), new int[] {1, 1, 1, 1});
        assertSlots(MaglevTable.build(names, new int[] {1, 2, 3, 0}, size), new int[] {1, 2, 3, 0});
    }

    private static void assertSlots(KeyTable table, int[] weights) {
        int[] slots = new int[weights.length];
        for (int p = 0; p < table.size(); p++) {
            slots[table.owner(p)]++;
        }
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        for (int i = 0; i < weights.length; i++) {
            double share = table.size() * (double) weights[i] / total;
            assertTrue(
                    Math.abs(slots[i] - share) <= 1,
                    "server " + i + " has " + slots[i] + " slots, its share is " + share);
        }
    }

    @Test
    void parametersAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> BalancerFactory.maglev(65_536));
        assertThrows(IllegalArgumentException.class, () -> BalancerFactory.maglev(1));
        assertThrows(IllegalArgumentException.class, () -> BalancerFactory.ringHash(0));
        IllegalArgumentException tooSmall = assertThrows(
                IllegalArgumentException.class, () -> BalancerFactory.maglev(3).newBalancer(FakeServer.of(1, 1, 1, 1)));
        assertTrue(tooSmall.getMessage().contains("cannot hold 4 servers"), tooSmall.getMessage());
        assertNotNull(
                BalancerFactory.maglev(3).newBalancer(FakeServer.of(1, 1, 1)).pick("k"));
    }
}
