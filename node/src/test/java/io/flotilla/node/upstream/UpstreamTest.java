package io.flotilla.node.upstream;

import io.flotilla.node.config.HostPort;
import io.flotilla.node.config.PoolConfig;
import io.flotilla.node.config.UpstreamConfig;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Smooth weighted round robin: exact proportions, and no bursts to the heaviest server. */
class UpstreamTest {
    private static Upstream upstream(int... weights) {
        List<UpstreamConfig.ServerConfig> servers = new java.util.ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            servers.add(new UpstreamConfig.ServerConfig(new HostPort("127.0.0.1", 9000 + i), weights[i]));
        }
        return Upstream.of(new UpstreamConfig("app", "round_robin", servers, PoolConfig.defaults()));
    }

    @Test
    void interleavesSmoothly() {
        Upstream u = upstream(5, 1, 1);
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 7; i++) {
            order.append((char) ('a' + u.pick().address().port() - 9000));
        }
        assertEquals("aabacaa", order.toString(), "NGINX's smooth sequence for 5,1,1");
    }

    @Test
    void proportionsMatchWeightsExactlyOverACycle() {
        Upstream u = upstream(3, 2, 0, 1);
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < 6000; i++) {
            counts.merge(u.pick().address().port(), 1, Integer::sum);
        }
        assertEquals(3000, counts.get(9000));
        assertEquals(2000, counts.get(9001));
        assertNull(counts.get(9002), "weight 0 is drained");
        assertEquals(1000, counts.get(9003));
    }

    @Test
    void allZeroMeansNoServer() {
        assertNull(upstream(0, 0).pick());
    }

    @Test
    void pickOtherAvoidsTheGivenServer() {
        Upstream u = upstream(1, 1);
        UpstreamServer first = u.pick();
        assertNotEquals(first, u.pickOther(first));
        Upstream single = upstream(1);
        UpstreamServer only = single.pick();
        assertEquals(only, single.pickOther(only));
    }
}
