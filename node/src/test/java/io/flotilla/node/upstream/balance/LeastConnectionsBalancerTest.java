package io.flotilla.node.upstream.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Least requests in flight relative to the effective weight. */
class LeastConnectionsBalancerTest {
    @Test
    void picksTheLeastLoadedRelativeToWeight() {
        List<FakeServer> servers = FakeServer.of(2, 1, 4);
        servers.get(0).active = 4; // 2.0 per unit of weight
        servers.get(1).active = 1; // 1.0
        servers.get(2).active = 3; // 0.75
        Balancer balancer = BalancerFactory.leastConnections().newBalancer(servers);
        assertSame(servers.get(2), balancer.pick(null));
        servers.get(2).active = 5; // 1.25
        assertSame(servers.get(1), balancer.pick(null));
        servers.get(1).up = false;
        assertSame(servers.get(2), balancer.pick(null), "the least loaded is skipped once unavailable");
    }

    @Test
    void slowStartCountsTheEffectiveWeight() {
        List<FakeServer> servers = FakeServer.of(10, 10);
        servers.get(0).active = 2;
        servers.get(0).effectiveWeight = 1; // 2.0, not 0.2
        servers.get(1).active = 4; // 0.4
        assertSame(
                servers.get(1),
                BalancerFactory.leastConnections().newBalancer(servers).pick(null));
    }

    @Test
    void tiesFollowTheWeightsSmoothly() {
        // Nothing ever in flight, as at low load: every pick is a tie, and the weights must still count.
        List<FakeServer> servers = FakeServer.of(3, 1);
        assertEquals("aaba" + "aaba", sequence(new LeastConnectionsBalancer(servers, false), 8));
        Map<String, Integer> counts = new HashMap<>();
        Balancer balancer = BalancerFactory.leastConnections().newBalancer(servers);
        for (int i = 0; i < 400; i++) {
            counts.merge(balancer.pick(null).toString(), 1, Integer::sum);
        }
        assertTrue(Math.abs(counts.get("a") - 300) <= 1, counts.toString());
    }

    @Test
    void equalWeightsShareEvenlyWithCompletions() {
        Map<FakeServer, Integer> picks = simulate(FakeServer.of(1, 1, 1, 1));
        for (Map.Entry<FakeServer, Integer> e : picks.entrySet()) {
            assertTrue(e.getValue() <= PICKS / 4 * 1.03, e.getKey() + " got more than its share: " + picks);
        }
    }

    @Test
    void unequalWeightsAlwaysGetTheLeastLoadedWithCompletions() {
        // The shares of picks need not follow the weights here (with few requests in flight a weight-1
        // server holding one is "as loaded" as a weight-4 one holding four); the load per weight must.
        Map<FakeServer, Integer> picks = simulate(FakeServer.of(1, 2, 3, 4));
        assertEquals(4, picks.size(), "every server takes requests: " + picks);
    }

    private static final int PICKS = 10_000;

    /**
     * {@link #PICKS} picks, each held in flight until a random completion, with 0 to 15 in flight; checks
     * at every pick that no available server was less loaded for its weight than the one chosen.
     */
    private static Map<FakeServer, Integer> simulate(List<FakeServer> servers) {
        Balancer balancer = BalancerFactory.leastConnections().newBalancer(servers);
        SplittableRandom random = new SplittableRandom(7);
        List<FakeServer> inFlight = new ArrayList<>();
        Map<FakeServer, Integer> picks = new HashMap<>();
        for (int i = 0; i < PICKS; i++) {
            FakeServer chosen = (FakeServer) balancer.pick(null);
            for (FakeServer other : servers) {
                assertTrue(
                        (long) chosen.active * other.weight <= (long) other.active * chosen.weight,
                        chosen + " chosen while " + other + " was less loaded");
            }
            chosen.active++;
            inFlight.add(chosen);
            picks.merge(chosen, 1, Integer::sum);
            int keep = random.nextInt(16);
            while (inFlight.size() > keep) {
                inFlight.remove(random.nextInt(inFlight.size())).active--;
            }
        }
        return picks;
    }

    @Test
    void nothingAvailableGivesNull() {
        List<FakeServer> servers = FakeServer.of(1, 0);
        servers.get(0).up = false;
        assertNull(BalancerFactory.leastConnections().newBalancer(servers).pick(null));
        assertNull(BalancerFactory.leastConnections().newBalancer(List.of()).pick(null));
    }

    @Test
    void pickOtherTakesTheLeastLoadedOfTheOthers() {
        List<FakeServer> servers = FakeServer.of(1, 1, 1);
        servers.get(0).active = 0;
        servers.get(1).active = 2;
        servers.get(2).active = 1;
        Balancer balancer = BalancerFactory.leastConnections().newBalancer(servers);
        assertSame(servers.get(2), balancer.pickOther(servers.get(0), null));
        assertNotSame(servers.get(0), balancer.pickOther(servers.get(0), null));
        List<FakeServer> single = FakeServer.of(1);
        assertNull(BalancerFactory.leastConnections().newBalancer(single).pickOther(single.get(0), null));
    }

    private static String sequence(Balancer balancer, int picks) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < picks; i++) {
            out.append(balancer.pick(null));
        }
        return out.toString();
    }
}
