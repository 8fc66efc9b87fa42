package io.flotilla.cluster.rate;

import java.time.Duration;

/**
 * Fleet-wide fixed-window counters, "at most {@code limit} requests per {@code period} per key".
 * Windows start at multiples of the period since the epoch, so every member agrees on them.
 *
 * <p>Contract: {@link #tryAcquire} decides from local state and never waits on the network. A shared
 * implementation keeps the fleet's admitted total within a few percent of the limit in steady
 * state; a member that sees fewer members than the fleet is expected to have enforces only the
 * visible share of each limit and says so through {@link #degraded()}.
 */
public interface RateCounters extends AutoCloseable {

    /** Counters for a lone node: exact, in memory. */
    static RateCounters local() {
        return new LocalRateCounters(System::currentTimeMillis);
    }

    /** Counts one request against {@code key} if the window has room, and says what happened. */
    RateDecision tryAcquire(String key, long limit, Duration period);

    /** True while this member enforces a reduced share because it sees fewer members than expected. */
    boolean degraded();

    /** The fraction of every limit this member currently enforces against (1.0 when not degraded). */
    double limitShare();

    @Override
    void close();
}
