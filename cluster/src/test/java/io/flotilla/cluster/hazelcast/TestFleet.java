package io.flotilla.cluster.hazelcast;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.security.FleetKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * Real members in this JVM on loopback, every port chosen by the OS: each member lists the gossip
 * addresses of those started before it, read back from their channels. Timeouts are shortened so
 * failures and merges happen within seconds.
 */
final class TestFleet implements AutoCloseable {

    static final long CACHE_MAX_BYTES = 8L << 20;
    static final long NEAR_CACHE_MAX_BYTES = 2L << 20;

    private final String name = "test-" + UUID.randomUUID().toString().substring(0, 8);
    /** Every test fleet has a secret, so the gated, sealed path is the one the cluster tests exercise. */
    private final String key = FleetKeys.generate();

    private final FleetKeys keys = FleetKeys.decode(List.of(key));
    private final int expected;
    private final UnaryOperator<ClusterSettings.Builder> tuned;
    final List<HazelcastFleetState> members = new ArrayList<>();

    private TestFleet(int expected, UnaryOperator<ClusterSettings.Builder> tuned) {
        this.expected = expected;
        this.tuned = tuned;
    }

    /** {@code n} members, started one after the other, all seeing each other on return. */
    static TestFleet start(int n) {
        return start(n, b -> b);
    }

    /** {@code n} members with settings of their own ({@code tuned} changes the test defaults). */
    static TestFleet start(int n, UnaryOperator<ClusterSettings.Builder> tuned) {
        TestFleet f = new TestFleet(n, tuned);
        try {
            for (int i = 0; i < n; i++) {
                f.add();
            }
            f.awaitSize(n);
            return f;
        } catch (RuntimeException | Error e) {
            f.close();
            throw e;
        }
    }

    ClusterSettings settings(String id, List<String> peers) {
        return ClusterSettings.builder()
                .name(name)
                .memberId(id)
                .bindHost("127.0.0.1")
                .port(0)
                .gossipPort(0)
                .peers(peers)
                .expectedFleetSize(expected)
                .cacheMaxBytes(CACHE_MAX_BYTES)
                .entryMaxBytes(1L << 20)
                .nearCacheMaxBytes(NEAR_CACHE_MAX_BYTES)
                .partitionCount(31)
                .failureTimeout(Duration.ofSeconds(3))
                .mergeInterval(Duration.ofSeconds(3))
                .fillLease(Duration.ofSeconds(2))
                .keys(keys)
                .build();
    }

    /** A fleet expecting {@code expected} members, none started yet. */
    static TestFleet expecting(int expected) {
        return new TestFleet(expected, b -> b);
    }

    /** Starts one more member that knows every running one. */
    HazelcastFleetState add() {
        return add(gossipAddresses());
    }

    /** Starts one more member that knows only {@code peers} (gossip addresses). */
    HazelcastFleetState add(List<String> peers) {
        return add(peers, keys);
    }

    /** Starts one more member that knows every running one, with its own keys (a rotation). */
    HazelcastFleetState add(FleetKeys memberKeys) {
        return add(gossipAddresses(), memberKeys);
    }

    private HazelcastFleetState add(List<String> peers, FleetKeys memberKeys) {
        String id = "m" + (char) ('a' + members.size());
        HazelcastFleetState m = HazelcastFleetState.start(
                tuned.apply(settings(id, peers).toBuilder().keys(memberKeys)).build());
        members.add(m);
        return m;
    }

    /** The fleet's name, which an outsider in a test knows. */
    String name() {
        return name;
    }

    /** The fleet's secret, base64, for a member started with a key list of its own. */
    String key() {
        return key;
    }

    List<String> gossipAddresses() {
        return members.stream().map(m -> m.membership().gossipAddress()).toList();
    }

    HazelcastFleetState get(int i) {
        return members.get(i);
    }

    /** Waits until every running member's gossip and Hazelcast views have {@code n} members, backups in sync. */
    void awaitSize(int n) {
        for (HazelcastFleetState m : members) {
            if (!m.hazelcast().getLifecycleService().isRunning()) {
                continue;
            }
            eventually(Duration.ofSeconds(20), () -> {
                assertEquals(
                        n,
                        m.hazelcast().getCluster().getMembers().size(),
                        "hazelcast view of " + m.settings().memberId());
                assertEquals(
                        n,
                        m.membership().members().size(),
                        "gossip view of " + m.settings().memberId());
                assertTrue(
                        m.membership().members().stream()
                                .allMatch(x -> !x.address().isEmpty()),
                        "addresses announced");
                // Every backup in sync: only then does losing one member lose nothing.
                assertTrue(m.hazelcast().getPartitionService().isClusterSafe(), "partitions in sync");
            });
        }
    }

    @Override
    public void close() {
        for (int i = members.size() - 1; i >= 0; i--) {
            members.get(i).close();
        }
    }
}
