package io.flotilla.cluster.health;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every {@link HealthRegistry} must do; one subclass per implementation. */
public abstract class HealthRegistryContract {

    protected HealthRegistry registry;

    /** A registry of a member of the fleet under test. */
    protected abstract HealthRegistry newRegistry();

    /** Where a change reported through {@link #registry} is read back: the same or another member. */
    protected abstract HealthRegistry reader();

    /** Members in the live view. */
    protected abstract int members();

    @BeforeEach
    void open() {
        registry = newRegistry();
    }

    @AfterEach
    void close() {
        registry.close();
    }

    private static String backend() {
        return "app/" + UUID.randomUUID();
    }

    @Test
    void unknownBackendIsNull() {
        assertNull(registry.health(backend()));
    }

    @Test
    void aChangeIsSeenAndARepeatWritesNothing() {
        String b = backend();
        assertTrue(registry.report(b, false, "probe: connect refused"));
        eventually(Duration.ofSeconds(5), () -> assertFalse(reader().health(b).up()));
        assertFalse(registry.report(b, false, "probe: connect refused"));
        assertTrue(registry.report(b, true, "probe: 200"));
        eventually(Duration.ofSeconds(5), () -> assertTrue(reader().health(b).up()));
        assertEquals("probe: 200", reader().health(b).reason());
        assertTrue(reader().snapshot().containsKey(b));
    }

    @Test
    void passiveFailureMarksDown() {
        String b = backend();
        registry.report(b, true, "probe: 200");
        assertTrue(registry.reportFailure(b, "3 resets in a row"));
        eventually(
                Duration.ofSeconds(5),
                () -> assertEquals(
                        "passive: 3 resets in a row", reader().health(b).reason()));
        assertFalse(reader().health(b).up());
    }

    @Test
    void listenersHearChanges() {
        String b = backend();
        List<BackendHealth> heard = new CopyOnWriteArrayList<>();
        Runnable cancel = reader().onChange(h -> {
            if (h.backendId().equals(b)) {
                heard.add(h);
            }
        });
        try {
            registry.report(b, false, "down");
            eventually(Duration.ofSeconds(5), () -> assertEquals(1, heard.size()));
            assertFalse(heard.get(0).up());
        } finally {
            cancel.run();
        }
        registry.report(b, true, "up");
        registry.report(b, false, "down again");
        eventually(
                Duration.ofSeconds(5),
                () -> assertFalse(reader().health(b).reason().equals("up")));
        assertEquals(1, heard.size(), "a cancelled listener hears nothing more");
    }

    @Test
    void probeOwnersAreDistinctStableAndBounded() {
        String b = backend();
        List<String> two = registry.probeOwners(b, 2);
        assertEquals(Math.min(2, members()), two.size());
        assertEquals(two.size(), new HashSet<>(two).size());
        assertEquals(two, registry.probeOwners(b, 2));
        assertEquals(two, reader().probeOwners(b, 2), "every member computes the same owners");
        assertEquals(Math.min(5, members()), registry.probeOwners(b, 5).size());
    }

    @Test
    void withEnoughBackendsEveryMemberProbesSome() {
        int owned = 0;
        for (int i = 0; i < 64; i++) {
            if (registry.isProbeOwner("app/10.0.0." + i + ":80")) {
                owned++;
            }
        }
        assertTrue(owned > 0, "owns none of 64");
        if (members() > HealthRegistry.DEFAULT_PROBE_OWNERS) {
            assertTrue(owned < 64, "owns all 64 though the fleet is larger than the probe count");
        }
    }
}
