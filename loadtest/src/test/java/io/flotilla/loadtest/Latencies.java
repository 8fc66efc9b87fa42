package io.flotilla.loadtest;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/** Response times in whole milliseconds (0 to 60 s), for percentiles of a part of a run. */
final class Latencies {
    private static final int MAX_MS = 60_000;
    private final AtomicLongArray counts = new AtomicLongArray(MAX_MS + 1);
    private final LongAdder total = new LongAdder();

    Integer record(Integer ms) {
        counts.incrementAndGet(Math.max(0, Math.min(MAX_MS, ms)));
        total.increment();
        return ms;
    }

    long count() {
        return total.sum();
    }

    /** The smallest time at or below which {@code p} percent of the recorded times fall. */
    int percentile(double p) {
        long n = total.sum();
        long rank = (long) Math.ceil(n * p / 100.0);
        long seen = 0;
        for (int ms = 0; ms <= MAX_MS; ms++) {
            seen += counts.get(ms);
            if (seen >= rank && seen > 0) {
                return ms;
            }
        }
        return MAX_MS;
    }
}
