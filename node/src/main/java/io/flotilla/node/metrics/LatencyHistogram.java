package io.flotilla.node.metrics;

import com.codahale.metrics.Counting;
import com.codahale.metrics.Metric;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A latency histogram with fixed bucket bounds, exported as a Prometheus classic histogram
 * ({@code _bucket{le}}, {@code _sum}, {@code _count}) so that buckets from every node add up and
 * {@code histogram_quantile(0.99, sum by (le) (rate(..._bucket[1m])))} is the fleet's p99.
 *
 * <p>A Dropwizard {@link Metric}, so it lives in the node's registry beside the other metrics; the
 * Prometheus bridge does not know the type and leaves it to {@link HistogramExports}. An update is a
 * scan of {@link #BOUNDS_NANOS} and two {@link LongAdder} increments: no lock, no allocation (a
 * LongAdder allocates its cells once, on its first contention). Buckets are kept per range, not
 * cumulative; a scrape adds them up, so a scrape racing with updates still sees counts that never
 * decrease and a {@code +Inf} bucket equal to {@code _count}.
 */
public final class LatencyHistogram implements Metric, Counting {
    /**
     * Upper bounds, in nanoseconds: 100 µs (a local cache hit) to 10 s (an upstream read timeout),
     * about three per decade, as a proxy's latencies spread over five decades.
     */
    static final long[] BOUNDS_NANOS = {
        100_000,
        250_000,
        500_000,
        1_000_000,
        2_500_000,
        5_000_000,
        10_000_000,
        25_000_000,
        50_000_000,
        100_000_000,
        250_000_000,
        500_000_000,
        1_000_000_000,
        2_500_000_000L,
        5_000_000_000L,
        10_000_000_000L
    };

    private final String family;
    private final List<String> labelNames;
    private final List<String> labelValues;
    /** One per bound, and the last for values above every bound (+Inf). */
    private final LongAdder[] buckets = new LongAdder[BOUNDS_NANOS.length + 1];

    private final LongAdder sumNanos = new LongAdder();

    /** A histogram exported as {@code family} with these labels (names and values in the same order). */
    LatencyHistogram(String family, List<String> labelNames, List<String> labelValues) {
        if (labelNames.size() != labelValues.size()) {
            throw new IllegalArgumentException("label names " + labelNames + " and values " + labelValues);
        }
        this.family = family;
        this.labelNames = List.copyOf(labelNames);
        this.labelValues = List.copyOf(labelValues);
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    /** Records one duration; a negative one counts as 0. */
    public void update(long duration, TimeUnit unit) {
        long nanos = Math.max(0, unit.toNanos(duration));
        buckets[bucket(nanos)].increment();
        sumNanos.add(nanos);
    }

    /** The index of the first bound at or above the value ({@code le} is inclusive), or the +Inf bucket. */
    static int bucket(long nanos) {
        int i = 0;
        while (i < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[i]) {
            i++;
        }
        return i;
    }

    /** Counts per bucket, cumulative as Prometheus's {@code le} buckets are; the last is {@code +Inf}. */
    long[] cumulativeCounts() {
        long[] out = new long[buckets.length];
        long running = 0;
        for (int i = 0; i < buckets.length; i++) {
            running += buckets[i].sum();
            out[i] = running;
        }
        return out;
    }

    /** Every duration recorded, in seconds. */
    double sumSeconds() {
        return sumNanos.sum() / 1e9;
    }

    @Override
    public long getCount() {
        long n = 0;
        for (LongAdder b : buckets) {
            n += b.sum();
        }
        return n;
    }

    String family() {
        return family;
    }

    List<String> labelNames() {
        return labelNames;
    }

    List<String> labelValues() {
        return labelValues;
    }
}
