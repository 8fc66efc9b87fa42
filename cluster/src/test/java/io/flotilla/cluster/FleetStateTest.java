package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.security.FleetKeys;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class FleetStateTest {

    @Test
    void localStateIsALoneServingNode() {
        ClusterSettings s = ClusterSettings.builder()
                .memberId("solo")
                .cacheMaxBytes(4L << 20)
                .entryMaxBytes(1 << 20)
                .build();
        try (FleetState f = FleetState.local(s)) {
            assertEquals(
                    List.of("solo"),
                    f.membership().members().stream().map(m -> m.id()).toList());
            assertTrue(f.health().isProbeOwner("app/x:80"));
            assertTrue(f.rates().tryAcquire("k", 1, Duration.ofSeconds(1)).allowed());
            assertEquals(1, f.config().publish(0, "x").orElseThrow().version());
            assertTrue(f.responses().tryClaimFill("k", Duration.ofSeconds(1)));
        }
    }

    @Test
    void settingsAreValidatedWithTheFieldNamed() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ClusterSettings.builder().peers(List.of("10.0.0.1")).build());
        assertEquals("cluster: peer '10.0.0.1' is not host:port", e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> ClusterSettings.builder().expectedFleetSize(0).build());
        assertThrows(IllegalArgumentException.class, () -> ClusterSettings.builder()
                .discovery(ClusterSettings.Discovery.DNS)
                .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> ClusterSettings.builder().syncInterval(Duration.ZERO).build());
    }

    @Test
    void aFleetBeyondLoopbackNeedsAKeyOrSaysItIsInsecure() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ClusterSettings.builder().bindHost("10.234.0.1").build());
        assertTrue(
                e.getMessage().startsWith("cluster: a fleet bound beyond loopback (10.234.0.1) needs a fleet key"),
                e.getMessage());
        FleetKeys keys = FleetKeys.decode(List.of(FleetKeys.generate()));
        assertEquals(
                keys,
                ClusterSettings.builder()
                        .bindHost("10.234.0.1")
                        .keys(keys)
                        .build()
                        .keys());
        assertTrue(ClusterSettings.builder()
                .bindHost("10.234.0.1")
                .insecure(true)
                .build()
                .insecure());
        assertEquals(
                FleetKeys.none(),
                ClusterSettings.builder().bindHost("127.0.0.2").build().keys(),
                "loopback");
    }

    @Test
    void defaultsAreTheNamedOnes() {
        ClusterSettings d = ClusterSettings.defaults();
        assertEquals(ClusterSettings.DEFAULT_PORT, d.port());
        assertEquals(ClusterSettings.DEFAULT_PROBE_OWNERS, d.probeOwners());
        assertEquals(d, d.toBuilder().build());
    }
}
