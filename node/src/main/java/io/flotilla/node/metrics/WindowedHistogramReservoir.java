package io.flotilla.node.metrics;

import com.codahale.metrics.Reservoir;
import com.codahale.metrics.Snapshot;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * Quantiles over a sliding time window from fixed log-linear buckets: an update is one atomic
 * increment in a preallocated array and allocates nothing, and the memory held does not grow with
 * the request rate.
 *
 * <p>It replaces Dropwizard's {@code SlidingTimeWindowArrayReservoir}, which keeps every sample of
 * the window: at 20 000 requests/s and two timers per request that was 1.2 million samples (about
 * 20 MB) alive at any time, copied by each young collection and then promoted, so the old generation
 * filled with dead samples until a full collection. Pauses and promotion were the reservoir's.
 *
 * <p>Buckets: values below 32 are exact; above, each power of two is split into 32 buckets, so a
 * quantile is within about 1.6% of the true value (the bucket's midpoint is reported). Values are
 * capped at 2^40 (about 18 minutes in nanoseconds). The window is {@code slots} sub-windows of equal
 * length; a sub-window is cleared when the clock comes back round to it, so the window slides in
 * steps of one sub-window. Updates from several event loops may race with that clearing and be lost;
 * that bounds the error to updates made within the same instant, which is fine for monitoring.
 */
public final class WindowedHistogramReservoir implements Reservoir {
    static final int SUB_BITS = 5;
    private static final int SUB = 1 << SUB_BITS;
    private static final int MAX_EXPONENT = 39;
    static final int BUCKETS = (MAX_EXPONENT - SUB_BITS + 2) * SUB;
    private static final long MAX_VALUE = (1L << (MAX_EXPONENT + 1)) - 1;

    private final LongSupplier nanoClock;
    private final long slotNanos;
    private final AtomicLongArray[] counts;
    /** The sub-window index each slot currently holds (time / slotNanos); written under the lock. */
    private final long[] epochs;

    private volatile long currentEpoch = Long.MIN_VALUE;

    /** A window of {@code window} in {@code slots} steps, on {@link System#nanoTime()}. */
    public WindowedHistogramReservoir(long window, TimeUnit unit, int slots) {
        this(window, unit, slots, System::nanoTime);
    }

    WindowedHistogramReservoir(long window, TimeUnit unit, int slots, LongSupplier nanoClock) {
        if (slots < 1 || window <= 0) {
            throw new IllegalArgumentException("window and slots must be positive");
        }
        this.nanoClock = nanoClock;
        this.slotNanos = Math.max(1, unit.toNanos(window) / slots);
        this.counts = new AtomicLongArray[slots];
        this.epochs = new long[slots];
        for (int i = 0; i < slots; i++) {
            counts[i] = new AtomicLongArray(BUCKETS);
            epochs[i] = Long.MIN_VALUE;
        }
    }

    /** The bucket of a value: exact below 32, then 32 buckets per power of two. */
    static int bucket(long value) {
        long v = value < 0 ? 0 : Math.min(value, MAX_VALUE);
        if (v < SUB) {
            return (int) v;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(v);
        int mantissa = (int) (v >>> (exponent - SUB_BITS)) & (SUB - 1);
        return (exponent - SUB_BITS + 1) * SUB + mantissa;
    }

    /** The smallest value of a bucket. */
    static long lowerBound(int bucket) {
        if (bucket < SUB) {
            return bucket;
        }
        int exponent = bucket / SUB + SUB_BITS - 1;
        return (long) (SUB + bucket % SUB) << (exponent - SUB_BITS);
    }

    /** The value reported for a bucket: its midpoint (exact below 32). */
    static long midpoint(int bucket) {
        if (bucket < SUB) {
            return bucket;
        }
        int exponent = bucket / SUB + SUB_BITS - 1;
        return lowerBound(bucket) + ((1L << (exponent - SUB_BITS)) >>> 1);
    }

    @Override
    public int size() {
        long n = 0;
        for (long c : merged()) {
            n += c;
        }
        return (int) Math.min(Integer.MAX_VALUE, n);
    }

    @Override
    public void update(long value) {
        long epoch = nanoClock.getAsLong() / slotNanos;
        int slot = (int) Math.floorMod(epoch, (long) counts.length);
        if (epoch != currentEpoch) {
            advance(epoch, slot);
        }
        counts[slot].incrementAndGet(bucket(value));
    }

    /** Clears a slot the clock has come back round to; once per sub-window, so a lock is fine. */
    private synchronized void advance(long epoch, int slot) {
        if (epochs[slot] != epoch) {
            AtomicLongArray c = counts[slot];
            for (int i = 0; i < BUCKETS; i++) {
                c.set(i, 0);
            }
            epochs[slot] = epoch;
        }
        if (epoch > currentEpoch) {
            currentEpoch = epoch;
        }
    }

    /** Bucket counts of the sub-windows inside the window now. */
    private synchronized long[] merged() {
        long now = nanoClock.getAsLong() / slotNanos;
        long[] sum = new long[BUCKETS];
        for (int s = 0; s < counts.length; s++) {
            if (epochs[s] > now - counts.length && epochs[s] <= now) {
                AtomicLongArray c = counts[s];
                for (int i = 0; i < BUCKETS; i++) {
                    sum[i] += c.get(i);
                }
            }
        }
        return sum;
    }

    @Override
    public Snapshot getSnapshot() {
        return new BucketSnapshot(merged());
    }

    /** A snapshot of bucket counts; values are bucket midpoints. */
    static final class BucketSnapshot extends Snapshot {
        private final long[] counts;
        private final long total;

        BucketSnapshot(long[] counts) {
            this.counts = counts;
            long n = 0;
            for (long c : counts) {
                n += c;
            }
            this.total = n;
        }

        @Override
        public double getValue(double quantile) {
            if (quantile < 0.0 || quantile > 1.0 || Double.isNaN(quantile)) {
                throw new IllegalArgumentException(quantile + " is not in [0..1]");
            }
            if (total == 0) {
                return 0.0;
            }
            // The rank a sorted array of the values would have at this quantile (as Dropwizard's snapshots).
            long rank = Math.max(1, (long) Math.ceil(quantile * total));
            long seen = 0;
            for (int i = 0; i < counts.length; i++) {
                seen += counts[i];
                if (seen >= rank) {
                    return midpoint(i);
                }
            }
            return getMax();
        }

        /** Bucket midpoints, one per value counted, at most 1 000 000 (a sample of them beyond that). */
        @Override
        public long[] getValues() {
            int n = (int) Math.min(total, 1_000_000);
            long[] values = new long[n];
            if (n == 0) {
                return values;
            }
            double step = (double) total / n;
            int k = 0;
            long seen = 0;
            for (int i = 0; i < counts.length && k < n; i++) {
                seen += counts[i];
                while (k < n && (long) (k * step) < seen) {
                    values[k++] = midpoint(i);
                }
            }
            return values;
        }

        @Override
        public int size() {
            return (int) Math.min(Integer.MAX_VALUE, total);
        }

        @Override
        public long getMax() {
            for (int i = counts.length - 1; i >= 0; i--) {
                if (counts[i] > 0) {
                    return midpoint(i);
                }
            }
            return 0;
        }

        @Override
        public long getMin() {
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] > 0) {
                    return midpoint(i);
                }
            }
            return 0;
        }

        @Override
        public double getMean() {
            if (total == 0) {
                return 0;
            }
            double sum = 0;
            for (int i = 0; i < counts.length; i++) {
                sum += (double) counts[i] * midpoint(i);
            }
            return sum / total;
        }

        @Override
        public double getStdDev() {
            if (total <= 1) {
                return 0;
            }
            double mean = getMean();
            double sum = 0;
            for (int i = 0; i < counts.length; i++) {
                double d = midpoint(i) - mean;
                sum += counts[i] * d * d;
            }
            return Math.sqrt(sum / (total - 1));
        }

        @Override
        public void dump(OutputStream output) {
            try (PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(output, StandardCharsets.UTF_8))) {
                for (int i = 0; i < counts.length; i++) {
                    if (counts[i] > 0) {
                        out.printf("%d %d%n", midpoint(i), counts[i]);
                    }
                }
            }
        }
    }
}
