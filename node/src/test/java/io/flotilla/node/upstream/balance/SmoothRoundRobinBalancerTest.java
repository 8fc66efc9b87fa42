package io.flotilla.node.upstream.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Smooth weighted round robin on live effective weights. */
class SmoothRoundRobinBalancerTest {
    private static String sequence(Balancer balancer, int picks) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < picks; i++) {
            out.append(balancer.pick(null));
        }
        return out.toString();
    }

    private static Map<String, Integer> counts(Balancer balancer, int picks) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < picks; i++) {
            counts.merge(String.valueOf(balancer.pick(null)), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void interleavesAsNginxDoes() {
        Balancer balancer = new SmoothRoundRobinBalancer(FakeServer.of(5, 1, 1), false);
        assertEquals("aabacaa" + "aabacaa", sequence(balancer, 14));
    }

    @Test
    void eachBalancerStartsSomewhereInTheSameCycle() {
        List<FakeServer> servers = FakeServer.of(5, 1, 1);
        Set<String> starts = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            String seq = sequence(BalancerFactory.roundRobin().newBalancer(servers), 7);
            assertTrue(("aabacaa" + "aabacaa").contains(seq), seq + " is not a rotation of aabacaa");
            starts.add(seq);
        }
        // 30 balancers all starting alike by chance: (1/7)^29 at most.
        assertTrue(starts.size() > 1, "event loops must not all start at the head of the cycle");
    }

    @Test
    void proportionsAreExactOverACycle() {
        Map<String, Integer> counts = counts(BalancerFactory.roundRobin().newBalancer(FakeServer.of(3, 2, 0, 1)), 6000);
        assertEquals(3000, counts.get("a"));
        assertEquals(2000, counts.get("b"));
        assertNull(counts.get("c"), "weight 0 is never chosen");
        assertEquals(1000, counts.get("d"));
    }

    @Test
    void anUnavailableServerIsSkippedAtOnceAndTheRestKeepTheirProportions() {
        List<FakeServer> servers = FakeServer.of(5, 1, 1);
        Balancer balancer = new SmoothRoundRobinBalancer(servers, false);
        assertEquals("aaba", sequence(balancer, 4));
        servers.get(2).up = false; // c was next
        assertEquals("a", String.valueOf(balancer.pick(null)));
        Map<String, Integer> counts = counts(balancer, 600);
        assertNull(counts.get("c"));
        assertTrue(Math.abs(counts.get("a") - 500) <= 1, "a: " + counts);
        assertTrue(Math.abs(counts.get("b") - 100) <= 1, "b: " + counts);

        servers.get(2).up = true;
        counts = counts(balancer, 700);
        assertTrue(Math.abs(counts.get("a") - 500) <= 1, "a: " + counts);
        assertTrue(Math.abs(counts.get("b") - 100) <= 1, "b: " + counts);
        assertTrue(Math.abs(counts.get("c") - 100) <= 1, "c: " + counts);
    }

    @Test
    void slowStartIsHonouredPickByPick() {
        List<FakeServer> servers = FakeServer.of(10, 10);
        FakeServer b = servers.get(1);
        b.effectiveWeight = 1;
        Balancer balancer = BalancerFactory.roundRobin().newBalancer(servers);
        Map<String, Integer> counts = counts(balancer, 1100);
        assertTrue(Math.abs(counts.get("b") - 100) <= 1, "b at 1 of 11: " + counts);
        b.effectiveWeight = 5;
        counts = counts(balancer, 1500);
        assertTrue(Math.abs(counts.get("b") - 500) <= 1, "b at 5 of 15: " + counts);
        b.effectiveWeight = 10;
        counts = counts(balancer, 2000);
        assertTrue(Math.abs(counts.get("b") - 1000) <= 1, "b at full weight: " + counts);
    }

    @Test
    void nothingAvailableGivesNull() {
        List<FakeServer> servers = FakeServer.of(1, 1);
        Balancer balancer = BalancerFactory.roundRobin().newBalancer(servers);
        servers.forEach(s -> s.up = false);
        assertNull(balancer.pick(null));
        assertNull(BalancerFactory.roundRobin().newBalancer(FakeServer.of(0, 0)).pick(null), "all drained by config");
        assertNull(BalancerFactory.roundRobin().newBalancer(List.of()).pick(null));
        servers.get(1).up = true;
        assertSame(servers.get(1), balancer.pick(null), "back as soon as it is available");
    }

    @Test
    void pickOtherNeverReturnsTheServerToAvoid() {
        List<FakeServer> servers = FakeServer.of(5, 1, 1);
        Balancer balancer = BalancerFactory.roundRobin().newBalancer(servers);
        for (int i = 0; i < 50; i++) {
            ServerView first = balancer.pick(null);
            ServerView other = balancer.pickOther(first, null);
            assertNotSame(first.server(), other.server());
        }
        List<FakeServer> single = FakeServer.of(1);
        assertNull(BalancerFactory.roundRobin().newBalancer(single).pickOther(single.get(0), null));
        assertSame(
                single.get(0), BalancerFactory.roundRobin().newBalancer(single).pickOther(null, null));
    }
}
