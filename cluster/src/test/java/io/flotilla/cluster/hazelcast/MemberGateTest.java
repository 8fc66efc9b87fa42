package io.flotilla.cluster.hazelcast;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.cluster.Address;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.replicatedmap.ReplicatedMap;
import com.hazelcast.spi.properties.ClusterProperty;
import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.cache.StoredResponse;
import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.cluster.security.Outsiders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 20's attacker: a stock Hazelcast 5.7 member (and a stock client) that knows the fleet's name,
 * its partition count and a member's address tries to join, read, clear and write every shared map,
 * and fails at every step while the fleet's entries stay; a member with the key joins.
 */
class MemberGateTest {

    private static TestFleet fleet;
    private static final String[] MAPS = {
        MemberConfig.RESPONSES, MemberConfig.PURGES, MemberConfig.RATES, MemberConfig.CONFIG
    };
    private static final String PAGE = "GET http://site/page";

    @BeforeAll
    static void startFleetWithState() {
        fleet = TestFleet.start(2);
        HazelcastFleetState a = fleet.get(0);
        long now = System.currentTimeMillis();
        a.responses()
                .put(new StoredResponse(
                        PAGE,
                        "http://site/page",
                        Set.of(),
                        now,
                        now + 60_000,
                        "head".getBytes(StandardCharsets.UTF_8),
                        "body".getBytes(StandardCharsets.UTF_8)));
        a.config().publish(0, "routes: []");
        a.health().report("app/10.0.0.1:80", false, "test");
        a.rates().tryAcquire("route:limited", 100, Duration.ofSeconds(60));
        eventually(Duration.ofSeconds(10), () -> {
            assertNotNull(stored(fleet.get(1)));
            assertEquals(1, fleet.get(1).config().history().currentVersion());
            assertNotNull(fleet.get(1).health().health("app/10.0.0.1:80"));
        });
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private static StoredResponse stored(HazelcastFleetState m) {
        return m.responses().get(PAGE).toCompletableFuture().join();
    }

    private static String hazelcastAddress(HazelcastFleetState m) {
        Address a = m.hazelcast().getCluster().getLocalMember().getAddress();
        return a.getHost() + ":" + a.getPort();
    }

    private static long refused(Outsiders.Kind kind) {
        return fleet.members.stream().mapToLong(m -> m.outsiders().count(kind)).sum();
    }

    @Test
    void aStockMemberKnowingNameAndAddressesCannotJoinReadClearOrWrite() {
        Config c = new Config().setClusterName(fleet.name()).setInstanceName("outsider-" + fleet.name());
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty(ClusterProperty.PARTITION_COUNT.getName(), "31");
        c.setProperty(ClusterProperty.WAIT_SECONDS_BEFORE_JOIN.getName(), "1");
        c.setProperty(ClusterProperty.MAX_WAIT_SECONDS_BEFORE_JOIN.getName(), "3");
        c.getJetConfig().setEnabled(false);
        c.getNetworkConfig().setPort(0).getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        c.getNetworkConfig()
                .getJoin()
                .getTcpIpConfig()
                .setEnabled(true)
                .setConnectionTimeoutSeconds(2)
                .setMembers(fleet.members.stream()
                        .map(MemberGateTest::hazelcastAddress)
                        .toList());
        long before = refused(Outsiders.Kind.MEMBER);
        HazelcastInstance outsider = Hazelcast.newHazelcastInstance(c);
        try {
            assertEquals(1, outsider.getCluster().getMembers().size(), "the outsider is alone: it did not join");
            for (HazelcastFleetState m : fleet.members) {
                assertEquals(2, m.hazelcast().getCluster().getMembers().size(), "the fleet did not grow");
            }
            assertTrue(refused(Outsiders.Kind.MEMBER) > before, "its connections were refused and counted");
            assertTrue(
                    fleet.members.stream()
                            .flatMap(m -> m.outsiders().recent().stream())
                            .anyMatch(r -> r.kind() == Outsiders.Kind.MEMBER
                                    && r.from().contains("127.0.0.1")),
                    "and listed");

            for (String name : MAPS) {
                IMap<Object, Object> map = outsider.getMap(name);
                assertEquals(0, map.size(), name + " read from the outsider's side: nothing of the fleet's");
                map.clear();
                map.put(MemberConfig.CONFIG.equals(name) ? HazelcastConfigStore.KEY : "forged", "forged");
            }
            ReplicatedMap<Object, Object> health = outsider.getReplicatedMap(MemberConfig.HEALTH);
            assertEquals(0, health.size());
            health.clear();
            health.put("app/10.0.0.1:80", "forged");
        } finally {
            outsider.getLifecycleService().terminate();
        }
        for (HazelcastFleetState m : fleet.members) {
            assertEquals(
                    "body", new String(stored(m).body(), StandardCharsets.UTF_8), "the fleet's entry is still served");
            assertEquals(1, m.config().history().currentVersion());
            assertEquals(false, m.health().health("app/10.0.0.1:80").up(), "no forged verdict");
            assertTrue(m.hazelcast().getMap(MemberConfig.RESPONSES).get("forged") == null);
        }
    }

    @Test
    void aStockClientCannotConnect() {
        ClientConfig cc = new ClientConfig().setClusterName(fleet.name());
        cc.setProperty("hazelcast.phone.home.enabled", "false");
        cc.getNetworkConfig().setAddresses(List.of(hazelcastAddress(fleet.get(0))));
        cc.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(3000);
        long before = refused(Outsiders.Kind.MEMBER);
        assertThrows(IllegalStateException.class, () -> HazelcastClient.newHazelcastClient(cc)
                .shutdown());
        assertTrue(refused(Outsiders.Kind.MEMBER) > before);
    }

    @Test
    void aMemberWithTheKeyJoinsAndAMemberWithAnotherKeyDoesNot() {
        ClusterSettings wrong = fleet.settings("wrong", fleet.gossipAddresses()).toBuilder()
                .keys(FleetKeys.decode(List.of(FleetKeys.generate())))
                .build();
        HazelcastFleetState outsider = HazelcastFleetState.start(wrong);
        try {
            assertEquals(1, outsider.hazelcast().getCluster().getMembers().size());
            assertEquals(
                    null, outsider.responses().get(PAGE).toCompletableFuture().join());
        } finally {
            outsider.close();
        }
        long sealedBefore = MemberStreamCipher.SEALED.sum();
        HazelcastFleetState c = fleet.add();
        try {
            eventually(
                    Duration.ofSeconds(20),
                    () -> assertEquals(
                            3, c.hazelcast().getCluster().getMembers().size()));
            assertEquals(1, c.config().history().currentVersion(), "it reads the fleet's state");
            assertTrue(
                    MemberStreamCipher.SEALED.sum() > sealedBefore,
                    "its member traffic went through the stream cipher");
        } finally {
            c.close();
            fleet.members.remove(c);
        }
    }
}
