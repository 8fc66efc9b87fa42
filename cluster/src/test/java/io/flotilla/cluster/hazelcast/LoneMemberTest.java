package io.flotilla.cluster.hazelcast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.map.IMap;
import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.FleetState;
import io.flotilla.cluster.membership.MemberState;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** One member started through the public factory, as the node will start it. */
class LoneMemberTest {

    /** Serializable on purpose: what Java serialization would carry, and the member must refuse. */
    record Gadget(String payload) implements Serializable {}

    @Test
    void startsThroughThePublicFactoryAndRefusesJavaSerialization() {
        ClusterSettings s = ClusterSettings.builder()
                .name("lone-" + UUID.randomUUID())
                .memberId("solo")
                .port(0)
                .gossipPort(0)
                .partitionCount(7)
                .build();
        try (FleetState fleet = HazelcastFleet.start(s)) {
            HazelcastFleetState member = assertInstanceOf(HazelcastFleetState.class, fleet);
            assertEquals(
                    List.of("solo"),
                    fleet.membership().members().stream().map(m -> m.id()).toList());
            assertTrue(
                    fleet.membership().self().address().startsWith("127.0.0.1:"), "advertised its Hazelcast address");
            fleet.membership().setState(MemberState.DRAINING);
            assertEquals(
                    MemberState.DRAINING, fleet.membership().members().get(0).state());
            assertFalse(fleet.rates().degraded(), "expected fleet size 1 by default");
            assertTrue(fleet.health().isProbeOwner("app/x:80"));

            IMap<String, Object> scratch = member.hazelcast().getMap("scratch");
            scratch.set("k", new Gadget("x"));
            RuntimeException refused = assertThrows(RuntimeException.class, () -> scratch.get("k"));
            assertInstanceOf(SecurityException.class, refused.getCause(), "refused by the filter: " + refused);
            assertTrue(
                    refused.getCause().getMessage().contains("Gadget"),
                    refused.getCause().getMessage());
            assertTrue(fleet.responses().tryClaimFill("k", Duration.ofSeconds(1)));
        }
    }
}
