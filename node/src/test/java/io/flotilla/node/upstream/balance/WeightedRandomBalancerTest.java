package io.flotilla.node.upstream.balance;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Weighted random draws on live effective weights. */
class WeightedRandomBalancerTest {
    private static final int PICKS = 100_000;

    private static Map<String, Integer> counts(Balancer balancer) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < PICKS; i++) {
            counts.merge(String.valueOf(balancer.pick(null)), 1, Integer::sum);
        }
        return counts;
    }

    private static void assertShare(Map<String, Integer> counts, String server, double share) {
        double got = counts.getOrDefault(server, 0) / (double) PICKS;
        assertTrue(
                Math.abs(got - share) <= share * 0.03, server + " drew " + got + ", expected " + share + "; " + counts);
    }

    @Test
    void drawsInProportionToTheWeights() {
        Balancer balancer = new WeightedRandomBalancer(FakeServer.of(1, 2, 3, 4, 0), new SplittableRandom(42));
        Map<String, Integer> counts = counts(balancer);
        assertShare(counts, "a", 0.1);
        assertShare(counts, "b", 0.2);
        assertShare(counts, "c", 0.3);
        assertShare(counts, "d", 0.4);
        assertNull(counts.get("e"), "weight 0 is never drawn");
    }

    @Test
    void followsAvailabilityAndSlowStart() {
        List<FakeServer> servers = FakeServer.of(10, 10, 10);
        servers.get(0).effectiveWeight = 1;
        servers.get(2).up = false;
        Map<String, Integer> counts = counts(new WeightedRandomBalancer(servers, new SplittableRandom(1)));
        assertShare(counts, "a", 1 / 11.0);
        assertShare(counts, "b", 10 / 11.0);
        assertNull(counts.get("c"));
    }

    @Test
    void nothingAvailableGivesNull() {
        List<FakeServer> servers = FakeServer.of(1, 1);
        servers.forEach(s -> s.up = false);
        assertNull(BalancerFactory.random().newBalancer(servers).pick(null));
        assertNull(BalancerFactory.random().newBalancer(List.of()).pick(null));
    }

    @Test
    void pickOtherNeverReturnsTheServerToAvoid() {
        List<FakeServer> servers = FakeServer.of(100, 1);
        Balancer balancer = BalancerFactory.random().newBalancer(servers);
        for (int i = 0; i < 100; i++) {
            assertSame(servers.get(1), balancer.pickOther(servers.get(0), null));
        }
        assertNotNull(balancer.pickOther(null, null));
        assertNull(BalancerFactory.random().newBalancer(servers.subList(0, 1)).pickOther(servers.get(0), null));
    }
}
