package io.flotilla.node.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.flotilla.node.config.HostPort;
import io.flotilla.node.config.PoolConfig;
import io.flotilla.node.config.UpstreamConfig;
import io.flotilla.node.upstream.balance.BalancerFactory;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** An upstream hands each event loop its own balancer over the configured servers. */
class UpstreamTest {
    private final EventLoop loopA = new DefaultEventLoop();
    private final EventLoop loopB = new DefaultEventLoop();

    @AfterEach
    void stop() {
        loopA.shutdownGracefully();
        loopB.shutdownGracefully();
    }

    private static Upstream upstream(String balance, int... weights) {
        List<UpstreamConfig.ServerConfig> servers = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            servers.add(new UpstreamConfig.ServerConfig(new HostPort("127.0.0.1", 9000 + i), weights[i]));
        }
        return Upstream.of(new UpstreamConfig("app", balance, "client_ip", servers, PoolConfig.defaults()));
    }

    @Test
    void eachLoopHasItsOwnBalancerAndViews() {
        Upstream u = upstream("least_conn", 1, 1);
        assertSame(u.forLoop(loopA), u.forLoop(loopA));
        assertNotSame(u.forLoop(loopA), u.forLoop(loopB));
        LoopServer busy = u.forLoop(loopA).views().get(0);
        busy.begin();
        busy.begin();
        assertEquals(
                9001,
                u.forLoop(loopA).balancer().pick(null).server().address().port(),
                "least connections sees this loop's two in flight");
        assertEquals(0, u.forLoop(loopB).views().get(0).activeRequests(), "another loop counts its own");
    }

    @Test
    void roundRobinFollowsWeightsAndSkipsDrainedServers() {
        Upstream u = upstream("round_robin", 3, 2, 0, 1);
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < 6000; i++) {
            counts.merge(
                    u.forLoop(loopA).balancer().pick(null).server().address().port(), 1, Integer::sum);
        }
        assertEquals(3000, counts.get(9000));
        assertEquals(2000, counts.get(9001));
        assertNull(counts.get(9002), "weight 0 is drained");
        assertEquals(1000, counts.get(9003));
        assertNull(upstream("round_robin", 0, 0).forLoop(loopA).balancer().pick(null), "nothing to pick: 503");
    }

    @Test
    void hashingPoliciesAgreeAcrossLoops() {
        for (String policy : List.of("ring_hash", "maglev")) {
            Upstream u = upstream(policy, 1, 1, 1, 1);
            for (int k = 0; k < 200; k++) {
                String key = "client-" + k;
                assertEquals(
                        u.forLoop(loopA).balancer().pick(key).server(),
                        u.forLoop(loopB).balancer().pick(key).server(),
                        policy + " maps a key to one server whichever loop asks");
            }
        }
    }

    @Test
    void retryBudgetBoundsConcurrentRetriesByTheRequestsInFlight() {
        List<UpstreamConfig.ServerConfig> servers =
                List.of(new UpstreamConfig.ServerConfig(new HostPort("127.0.0.1", 9000), 1));
        io.flotilla.node.config.HealthConfig health = new io.flotilla.node.config.HealthConfig(
                java.util.Optional.empty(),
                io.flotilla.node.config.HealthConfig.Passive.defaults(),
                2,
                java.time.Duration.ZERO,
                new io.flotilla.node.config.HealthConfig.Circuit(100, 10, 100, 20, 1));
        Upstream u = Upstream.of(
                new UpstreamConfig("app", "round_robin", "client_ip", servers, PoolConfig.defaults(), health));
        assertEquals(true, u.tryBeginRetry(), "min_retries: one retry even with nothing in flight");
        assertEquals(false, u.tryBeginRetry(), "a second concurrent retry is over the budget");
        for (int i = 0; i < 10; i++) {
            assertEquals(true, u.tryBeginRequest());
        }
        assertEquals(true, u.tryBeginRetry(), "20% of 10 in flight allows 2 concurrent retries");
        assertEquals(false, u.tryBeginRetry());
        u.endRetry();
        assertEquals(true, u.tryBeginRetry(), "a finished retry frees its slot");
    }

    @Test
    void configNamesMatchTheFactory() {
        assertEquals(BalancerFactory.names(), UpstreamConfig.BALANCERS);
    }
}
