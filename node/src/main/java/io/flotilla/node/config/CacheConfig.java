package io.flotilla.node.config;

import java.time.Duration;
import java.util.List;

/**
 * The node's response cache: its size and the rules that hold for every route that caches.
 *
 * @param maxSize            bytes the store holds at most (entries are evicted by W-TinyLFU)
 * @param maxEntry           the largest response stored; larger ones are relayed, not stored
 * @param tagHeader          the response header whose space- or comma-separated values are purge tags
 * @param targeted           targeted cache-control fields (RFC 9213), highest precedence first
 * @param stripTargeted      whether those fields are removed from responses sent downstream
 * @param heuristicFraction  share of (Date - Last-Modified) a response without explicit freshness
 *                           stays fresh (RFC 9111 §4.2.2)
 * @param heuristicMax       cap on that heuristic freshness
 * @param collapseWait       how long a request waits for another's fill of the same key before it
 *                           goes upstream itself
 * @param keepStale          how long a stale entry with validators is kept for revalidation
 * @param fillMemory         bytes of response bodies being copied aside for the cache at once, over all
 *                           fills of the node (0 = a tenth of the heap, at least two max_entry); a fill
 *                           that finds no room is relayed, not stored
 */
public record CacheConfig(
        long maxSize,
        long maxEntry,
        String tagHeader,
        List<String> targeted,
        boolean stripTargeted,
        double heuristicFraction,
        Duration heuristicMax,
        Duration collapseWait,
        Duration keepStale,
        long fillMemory) {
    public static final long DEFAULT_MAX_SIZE = 256L << 20;
    public static final long DEFAULT_MAX_ENTRY = 8L << 20;
    public static final String DEFAULT_TAG_HEADER = "Surrogate-Key";
    public static final List<String> DEFAULT_TARGETED = List.of("Flotilla-Cache-Control", "CDN-Cache-Control");
    public static final double DEFAULT_HEURISTIC_FRACTION = 0.1;
    public static final Duration DEFAULT_HEURISTIC_MAX = Duration.ofDays(1);
    public static final Duration DEFAULT_COLLAPSE_WAIT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_KEEP_STALE = Duration.ofHours(1);

    public CacheConfig {
        targeted = List.copyOf(targeted);
    }

    /** The fill budget in bytes: as configured, else a tenth of the heap, never under two of the largest entries. */
    public long fillMemoryBytes() {
        return fillMemory > 0
                ? fillMemory
                : Math.max(2 * maxEntry, Runtime.getRuntime().maxMemory() / 10);
    }

    public static CacheConfig defaults() {
        return new CacheConfig(
                DEFAULT_MAX_SIZE,
                DEFAULT_MAX_ENTRY,
                DEFAULT_TAG_HEADER,
                DEFAULT_TARGETED,
                true,
                DEFAULT_HEURISTIC_FRACTION,
                DEFAULT_HEURISTIC_MAX,
                DEFAULT_COLLAPSE_WAIT,
                DEFAULT_KEEP_STALE,
                0);
    }
}
