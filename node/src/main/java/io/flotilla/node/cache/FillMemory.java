package io.flotilla.node.cache;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of response bodies being copied aside for the cache, over every fill of the node at
 * once. A fill holds its body whole until the store has it (sealed and sent to the fleet, or in
 * this process's store), so without a bound a burst of misses on large responses would hold
 * {@code max_entry} each: a hundred 8 MiB misses, 800 MiB of heap before any copy for the fleet.
 * A fill that finds no room is relayed to its client as usual and not stored.
 */
final class FillMemory {
    private final AtomicLong free;
    private final long limit;

    FillMemory(long limit) {
        this.limit = limit;
        this.free = new AtomicLong(limit);
    }

    /** Takes {@code bytes} if they are free; whether it did. */
    boolean reserve(long bytes) {
        long f;
        do {
            f = free.get();
            if (f < bytes) {
                return false;
            }
        } while (!free.compareAndSet(f, f - bytes));
        return true;
    }

    void release(long bytes) {
        free.addAndGet(bytes);
    }

    /** Bytes held by fills now. */
    long inUse() {
        return limit - free.get();
    }

    long limit() {
        return limit;
    }
}
