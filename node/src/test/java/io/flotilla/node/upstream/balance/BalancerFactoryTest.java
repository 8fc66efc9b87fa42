package io.flotilla.node.upstream.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Config names to policies. */
class BalancerFactoryTest {
    private static Balancer named(String name) {
        return BalancerFactory.forName(name).newBalancer(FakeServer.of(1, 1));
    }

    @Test
    void everyNameMakesItsPolicy() {
        assertInstanceOf(SmoothRoundRobinBalancer.class, named("round_robin"));
        assertInstanceOf(LeastConnectionsBalancer.class, named("least_conn"));
        assertInstanceOf(WeightedRandomBalancer.class, named("random"));
        assertInstanceOf(HashRing.class, ((ConsistentHashBalancer) named("ring_hash")).table());
        assertInstanceOf(MaglevTable.class, ((ConsistentHashBalancer) named("maglev")).table());
        for (String name : BalancerFactory.names()) {
            assertNotNull(named(name).pick("k"), name);
        }
        assertEquals(List.of("round_robin", "least_conn", "random", "ring_hash", "maglev"), BalancerFactory.names());
    }

    @Test
    void anUnknownNameListsTheValidOnes() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> BalancerFactory.forName("roundrobin"));
        assertEquals(
                "unknown balance policy 'roundrobin'; valid: round_robin, least_conn, random, ring_hash, maglev",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BalancerFactory.forName("Round_Robin"), "names are exact");
        assertThrows(IllegalArgumentException.class, () -> BalancerFactory.forName(null));
    }
}
