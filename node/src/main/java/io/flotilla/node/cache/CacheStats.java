package io.flotilla.node.cache;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** What the cache did, counted: the admin API shows these and the metrics export them. */
public final class CacheStats {
    /** The events counted, in the order they are shown. */
    public enum Event {
        HIT,
        MISS,
        STALE,
        REVALIDATED,
        REFRESHED,
        STORED,
        NOT_STORED,
        BYPASS,
        COLLAPSED,
        ONLY_IF_CACHED,
        INVALIDATED,
        PURGED,
        STALE_IF_ERROR,
        BACKGROUND_REFRESH,
        FILL_MEMORY_FULL
    }

    private final LongAdder[] counts = new LongAdder[Event.values().length];

    CacheStats() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    void count(Event event) {
        counts[event.ordinal()].increment();
    }

    void count(Event event, long n) {
        counts[event.ordinal()].add(n);
    }

    public long get(Event event) {
        return counts[event.ordinal()].sum();
    }

    /** Every event by its lower-case name. */
    public Map<String, Long> snapshot() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Event e : Event.values()) {
            out.put(e.name().toLowerCase(java.util.Locale.ROOT), get(e));
        }
        return out;
    }
}
