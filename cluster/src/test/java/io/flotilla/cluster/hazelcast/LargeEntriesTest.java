package io.flotilla.cluster.hazelcast;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.flotilla.cluster.cache.StoredResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Entries of the largest size a route stores by default (8 MiB) cross the fleet intact, several at
 * once in both directions, through the sealed values and the encrypted member streams (which cut
 * them into records of 16 KiB: no buffer there grows with the entry).
 */
class LargeEntriesTest {

    private static final int ENTRY_BYTES = 8 << 20;
    private static final int IN_FLIGHT = 6;

    @Test
    void severalEightMebibyteEntriesInFlightArriveIntactOnTheOtherMember() {
        // A busy machine moving 100 MiB through encrypted streams may starve a heartbeat for a few
        // seconds: that is not what is tested here, so the members are slow to suspect each other.
        try (TestFleet fleet = TestFleet.start(2, b -> b.entryMaxBytes(ENTRY_BYTES + 4096)
                .cacheMaxBytes(256L << 20)
                .failureTimeout(Duration.ofSeconds(30)))) {
            long now = System.currentTimeMillis();
            Random random = new Random(11);
            List<StoredResponse> written = new ArrayList<>();
            List<CompletableFuture<?>> puts = new ArrayList<>();
            for (int i = 0; i < IN_FLIGHT; i++) {
                byte[] body = new byte[ENTRY_BYTES];
                random.nextBytes(body);
                String key = "GET http://large/" + i;
                StoredResponse r = new StoredResponse(
                        key, key.substring(4), Set.of("big"), now, now + 600_000, new byte[] {7}, body);
                written.add(r);
                puts.add(fleet.get(i % 2).responses().putAsync(r).toCompletableFuture()); // from both members at once
            }
            CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).join();

            List<CompletableFuture<StoredResponse>> reads = new ArrayList<>();
            for (int i = 0; i < IN_FLIGHT; i++) {
                // Each read on the member that did not write it (the writer's near cache, 2 MiB, holds none of them).
                reads.add(fleet.get((i + 1) % 2)
                        .responses()
                        .get(written.get(i).key())
                        .toCompletableFuture());
            }
            for (int i = 0; i < IN_FLIGHT; i++) {
                StoredResponse read = reads.get(i).join();
                assertNotNull(read, "entry " + i + " is held by the fleet");
                assertArrayEquals(written.get(i).body(), read.body(), "entry " + i + " arrived whole and unchanged");
                assertArrayEquals(written.get(i).head(), read.head());
            }
        }
    }
}
