package io.flotilla.loadtest;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counts answers by their {@code Cache-Status} (RFC 9211): a hit ({@code flotilla; hit; ...}) or
 * anything forwarded ({@code fwd=...}); those received after {@link #steadyFrom} are also counted apart,
 * as the steady state once the cache has filled.
 */
final class CacheStatusTally {
    private final LongAdder hits = new LongAdder();
    private final LongAdder forwarded = new LongAdder();
    private final LongAdder steadyHits = new LongAdder();
    private final LongAdder steadyForwarded = new LongAdder();
    private volatile long steadyFromNanos = Long.MAX_VALUE;

    /** Answers from {@code nanoTime} on count as steady state. */
    void steadyFrom(long nanoTime) {
        steadyFromNanos = nanoTime;
    }

    /** Records one {@code Cache-Status} value and returns it (for use in a check's transform). */
    String record(String cacheStatus) {
        boolean hit = isHit(cacheStatus);
        (hit ? hits : forwarded).increment();
        if (System.nanoTime() >= steadyFromNanos) {
            (hit ? steadyHits : steadyForwarded).increment();
        }
        return cacheStatus;
    }

    static boolean isHit(String cacheStatus) {
        for (String param : cacheStatus.split(";")) {
            if (param.trim().equals("hit")) {
                return true;
            }
        }
        return false;
    }

    long hits() {
        return hits.sum();
    }

    long forwarded() {
        return forwarded.sum();
    }

    long steadyHits() {
        return steadyHits.sum();
    }

    long steadyTotal() {
        return steadyHits.sum() + steadyForwarded.sum();
    }

    String describe() {
        long all = hits() + forwarded();
        String text =
                "hit ratio " + Summary.ratio(hits(), all) + " (" + hits() + " hits, " + forwarded() + " forwarded)";
        return steadyFromNanos == Long.MAX_VALUE
                ? text
                : text + ", steady state " + Summary.ratio(steadyHits(), steadyTotal()) + " (" + steadyHits() + " of "
                        + steadyTotal() + ")";
    }
}
