package io.flotilla.cluster.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.flotilla.cluster.FleetStatistics;
import io.flotilla.cluster.rate.RateCounters;
import io.flotilla.cluster.rate.RateDecision;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * Fleet-wide windows counted locally and summed in a partitioned map. A request is decided from
 * what this member knows: the fleet total at the last sync plus what it admitted since. Every sync
 * interval each member adds its unsent count to the window's entry ({@link AddDelta}, on the owner)
 * and reads the new total back.
 *
 * <p>Between syncs a member may admit at most {@code ceil((limit - fleetTotal) / (2 * members))},
 * half its share of what was left at its last sync. Half, because the members sync one after the
 * other: a member that synced first did not see what the others admitted in the same interval, and
 * with a whole share each the fleet ran 15% over the limit when all three were flooded (measured).
 * With half shares the remainder shrinks geometrically and the window ends within about one
 * request per member of the limit; every member keeps a budget of at least one while anything is
 * left, so a flooded fleet does reach the limit. The price: one member taking all the traffic uses
 * the window more slowly (the remainder shrinks by 1/(2n) per interval; measured 98% of a 1 s window).
 *
 * <p>Fewer visible members than expected means a partition (or dead members): the limit shrinks to
 * the visible share, so the halves of a split fleet together stay within the limit, and
 * {@link #degraded()} says so.
 */
final class HazelcastRateCounters implements RateCounters {

    /** Bounds the compare-and-set loop of one decision; contention past it refuses, never spins. */
    private static final int MAX_CAS_TRIES = 64;

    private final IMap<String, byte[]> totals;
    private final ValueSeal seal;
    /** Counts sync intervals (only the sync task touches it), to refresh idle counters every fifth. */
    private long syncRound;

    private final int expectedFleetSize;
    private final IntSupplier clusterSize;
    /** Members Hazelcast sees, refreshed every sync: the hot path reads a field, not the member list. */
    private volatile int visible;

    private final LongSupplier clock;
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
    private final ScheduledFuture<?> syncTask;
    // Issue 17's metrics hook: how long each sent count took to be confirmed, and the sync's lag.
    private volatile FleetStatistics.Observer observer = FleetStatistics.Observer.NONE;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean failedSinceRound;
    private volatile long syncedAt = System.currentTimeMillis();

    HazelcastRateCounters(
            HazelcastInstance hz,
            int expectedFleetSize,
            Duration syncInterval,
            ScheduledExecutorService background,
            ValueSeal seal) {
        this.totals = hz.getMap(MemberConfig.RATES);
        this.seal = seal;
        this.expectedFleetSize = expectedFleetSize;
        this.clusterSize = () -> hz.getCluster().getMembers().size();
        this.visible = clusterSize.getAsInt();
        this.clock = System::currentTimeMillis;
        long every = syncInterval.toMillis();
        this.syncTask = background.scheduleWithFixedDelay(this::sync, every, every, TimeUnit.MILLISECONDS);
    }

    /** One key's window as this member sees it. */
    private static final class Counter {
        final String mapKey;
        final long windowEnd;
        final long periodMillis;
        /** Admitted here and not yet included in {@link #fleet}. */
        final AtomicLong unsynced = new AtomicLong();
        /** Admitted here and not yet sent. */
        final AtomicLong unsent = new AtomicLong();

        volatile long fleet;
        volatile long budget;
        /** Asked since the last sync: an idle key's total is not worth a round trip per interval. */
        volatile boolean asked = true;
        /** The effective limit the last decision used; callers pass it each time, so it may change. */
        volatile long limit;

        Counter(String mapKey, long windowEnd, long periodMillis, long budget) {
            this.mapKey = mapKey;
            this.windowEnd = windowEnd;
            this.periodMillis = periodMillis;
            this.budget = budget;
        }
    }

    @Override
    public RateDecision tryAcquire(String key, long limit, Duration period) {
        long now = clock.getAsLong();
        long periodMillis = Math.max(1, period.toMillis());
        long start = now - Math.floorMod(now, periodMillis);
        long reset = start + periodMillis - now;
        long effective = effectiveLimit(limit, visible);
        String mapKey = key + '|' + periodMillis + '|' + start;
        Counter c = counters.computeIfAbsent(
                mapKey, k -> new Counter(k, start + periodMillis, periodMillis, share(effective, 0, visible)));
        c.limit = effective;
        c.asked = true;
        for (int i = 0; i < MAX_CAS_TRIES; i++) {
            long u = c.unsynced.get();
            if (c.fleet + u >= effective || u >= c.budget) {
                break;
            }
            if (c.unsynced.compareAndSet(u, u + 1)) {
                c.unsent.incrementAndGet();
                return new RateDecision(true, effective, Math.max(0, effective - c.fleet - u - 1), reset);
            }
        }
        return new RateDecision(false, effective, 0, reset);
    }

    private long effectiveLimit(long limit, int visible) {
        if (visible >= expectedFleetSize) {
            return limit;
        }
        return Math.max(1, (long) Math.ceil((double) limit * visible / expectedFleetSize));
    }

    private static long share(long limit, long fleet, int visible) {
        long left = Math.max(0, limit - fleet);
        long parts = 2L * visible;
        return (left + parts - 1) / parts;
    }

    /** Sends each window's unsent count, learns the fleet total, and recomputes this member's budget. */
    private void sync() {
        long now = clock.getAsLong();
        if (inFlight.get() == 0 && !failedSinceRound) {
            syncedAt = now; // everything sent before this round was confirmed
        }
        failedSinceRound = false;
        int visible = Math.max(1, clusterSize.getAsInt());
        this.visible = visible;
        counters.values().removeIf(c -> c.windowEnd <= now);
        syncRound++;
        for (Counter c : counters.values()) {
            if (!c.asked && c.unsent.get() == 0) {
                // Nothing to send and nobody asked here. Far from the limit, its next decision refreshes it
                // soon enough; near it, the others' counts are read now, or this member would decide its
                // next request on a total as old as its own last one (a small limit over-admitted by the
                // fleet size). Reads cost one get per nearly spent key per interval.
                boolean nearLimit = c.fleet * 2 >= c.limit;
                if (nearLimit || (syncRound % 5 == 0 && counters.size() <= 2000)) {
                    totals.getAsync(c.mapKey).whenComplete((sealedTotal, error) -> {
                        Long total = error == null ? seal.openLong(sealedTotal, MemberConfig.RATES, c.mapKey) : null;
                        if (total != null && total > c.fleet) {
                            c.fleet = total;
                            c.budget = share(c.limit, c.fleet, visible);
                        }
                    });
                }
                continue;
            }
            c.asked = false;
            long delta = c.unsent.getAndSet(0);
            long ttl = c.windowEnd - now + c.periodMillis;
            AddDelta add = new AddDelta(seal.sealLong(delta, MemberConfig.RATES + ".delta", c.mapKey), ttl);
            long sent = System.nanoTime();
            inFlight.incrementAndGet();
            totals.submitToKey(c.mapKey, add).whenComplete((sealedTotal, error) -> {
                Long total = error == null ? seal.openLong(sealedTotal, MemberConfig.RATES, c.mapKey) : null;
                observer.operation("rate_sync", System.nanoTime() - sent, total == null);
                if (total == null) {
                    failedSinceRound = true;
                }
                inFlight.decrementAndGet();
                if (total == null) {
                    c.unsent.addAndGet(delta); // try again next interval; the estimate still counts it
                    return;
                }
                // The fleet total first, then our unsynced count: a decision in between then counts the
                // delta twice (refuses a little early) instead of not at all (admits a little extra).
                if (total > c.fleet) {
                    c.fleet = total;
                }
                c.unsynced.addAndGet(-delta);
                c.budget = share(c.limit, c.fleet, visible);
            });
        }
    }

    /** Milliseconds since every count sent had been confirmed at the start of a sync round. */
    long syncLagMillis() {
        return Math.max(0, clock.getAsLong() - syncedAt);
    }

    void observe(FleetStatistics.Observer observer) {
        this.observer = observer;
    }

    @Override
    public boolean degraded() {
        return visible < expectedFleetSize;
    }

    @Override
    public double limitShare() {
        return Math.min(1.0, (double) visible / expectedFleetSize);
    }

    @Override
    public void close() {
        syncTask.cancel(false);
        counters.clear();
    }
}
