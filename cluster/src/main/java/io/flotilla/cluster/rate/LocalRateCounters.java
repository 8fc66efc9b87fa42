package io.flotilla.cluster.rate;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** Exact counters in one process: one atomic count per key and window. */
final class LocalRateCounters implements RateCounters {

    /** Past this many keys, windows that have ended are swept on the next call. */
    private static final int SWEEP_ABOVE = 10_000;

    private final LongSupplier clock;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    LocalRateCounters(LongSupplier clock) {
        this.clock = clock;
    }

    private record Window(long start, AtomicLong count) {}

    @Override
    public RateDecision tryAcquire(String key, long limit, Duration period) {
        long now = clock.getAsLong();
        long periodMillis = Math.max(1, period.toMillis());
        long start = now - Math.floorMod(now, periodMillis);
        if (windows.size() > SWEEP_ABOVE) {
            windows.values().removeIf(w -> w.start + periodMillis <= start);
        }
        Window w = windows.compute(
                key + '|' + periodMillis,
                (k, old) -> old != null && old.start == start ? old : new Window(start, new AtomicLong()));
        long reset = start + periodMillis - now;
        long after = w.count.incrementAndGet();
        if (after > limit) {
            w.count.decrementAndGet(); // a refused request does not use up the window
            return new RateDecision(false, limit, 0, reset);
        }
        return new RateDecision(true, limit, limit - after, reset);
    }

    @Override
    public boolean degraded() {
        return false;
    }

    @Override
    public double limitShare() {
        return 1.0;
    }

    @Override
    public void close() {
        windows.clear();
    }
}
