package io.flotilla.cluster.hazelcast;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.map.LocalMapStats;
import io.flotilla.cluster.cache.StoredResponse;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Each member's share of the shared cache stays within {@code cacheMaxBytes} while far more than
 * that is written, the heap check paced ({@link PacedEviction}) rather than run per write.
 */
class HeapBoundTest {

    private static final int ENTRY_BYTES = 64 << 10;
    private static final int ENTRIES = 600; // 37.5 MiB, and as much again as backups: ~9x the fleet's bound

    @Test
    void eachMemberHoldsNoMoreThanItsBound() {
        try (TestFleet fleet = TestFleet.start(2)) {
            for (HazelcastFleetState m : fleet.members) {
                assertTrue(
                        PacedEviction.installedOn(m.hazelcast(), MemberConfig.RESPONSES),
                        "heap check paced on " + m.settings().memberId());
            }
            long now = System.currentTimeMillis();
            CompletableFuture<?>[] writes = new CompletableFuture<?>[ENTRIES];
            for (int i = 0; i < ENTRIES; i++) {
                String key = "GET http://bound/" + i;
                StoredResponse r = new StoredResponse(
                        key, key.substring(4), Set.of(), now, now + 600_000, new byte[] {1}, new byte[ENTRY_BYTES]);
                writes[i] = fleet.get(i % 2).responses().putAsync(r).toCompletableFuture();
            }
            CompletableFuture.allOf(writes).join();

            long slack = TestFleet.CACHE_MAX_BYTES / PacedEviction.SLICES
                    + 2L * (ENTRY_BYTES + 4096); // written between two sums
            long held = 0;
            for (HazelcastFleetState m : fleet.members) {
                LocalMapStats s = m.hazelcast().getMap(MemberConfig.RESPONSES).getLocalMapStats();
                long heap = s.getOwnedEntryMemoryCost() + s.getBackupEntryMemoryCost();
                held += s.getOwnedEntryCount();
                assertTrue(
                        heap <= TestFleet.CACHE_MAX_BYTES + slack,
                        m.settings().memberId() + " holds " + heap + " bytes, over its bound of "
                                + TestFleet.CACHE_MAX_BYTES);
            }
            assertTrue(held < ENTRIES / 2, "most entries were evicted: " + held + " of " + ENTRIES + " held");
            assertTrue(held > 0, "the fleet holds entries");
        }
    }
}
