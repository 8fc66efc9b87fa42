package io.flotilla.cluster.cache;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LocalResponseStoreTest extends ResponseStoreContract {

    private static final long MAX = 8L << 20;

    @Override
    protected ResponseStore newStore() {
        return ResponseStore.local(MAX);
    }

    @Override
    protected long maxBytes() {
        return MAX;
    }

    @Override
    protected boolean claimsAreShared() {
        return false; // collapsing within one node is the node's business: every claim is granted
    }

    @Test
    void expiresByTheStoresClockNotWallTime() {
        AtomicLong now = new AtomicLong(1_000_000);
        try (ResponseStore s = new LocalResponseStore(MAX, now::get)) {
            s.put(new StoredResponse(
                    "k", "http://a/k", java.util.Set.of(), now.get(), now.get() + 10_000, new byte[1], new byte[1]));
            now.addAndGet(9_999);
            assertNotNull(s.getIfLocal("k"));
            now.addAndGet(1);
            assertNull(s.getIfLocal("k"));
        }
    }
}
