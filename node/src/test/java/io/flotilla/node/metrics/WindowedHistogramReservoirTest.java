package io.flotilla.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.codahale.metrics.Snapshot;
import java.lang.management.ManagementFactory;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WindowedHistogramReservoirTest {

    @Test
    void bucketsAreContiguousAndEachHoldsItsOwnValues() {
        assertEquals(0, WindowedHistogramReservoir.bucket(-5));
        assertEquals(31, WindowedHistogramReservoir.bucket(31));
        assertEquals(32, WindowedHistogramReservoir.bucket(32));
        int previous = -1;
        for (int b = 0; b < WindowedHistogramReservoir.BUCKETS; b++) {
            long low = WindowedHistogramReservoir.lowerBound(b);
            assertEquals(b, WindowedHistogramReservoir.bucket(low), "lower bound of bucket " + b);
            assertEquals(
                    b, WindowedHistogramReservoir.bucket(WindowedHistogramReservoir.midpoint(b)), "midpoint of " + b);
            if (b > 0) {
                assertEquals(b - 1, WindowedHistogramReservoir.bucket(low - 1), "value below bucket " + b);
            }
            assertTrue(b > previous);
            previous = b;
        }
        assertEquals(WindowedHistogramReservoir.BUCKETS - 1, WindowedHistogramReservoir.bucket(Long.MAX_VALUE));
    }

    @Test
    void quantilesAreWithinTwoPercentOfTheExactOnes() {
        AtomicLong clock = new AtomicLong();
        WindowedHistogramReservoir reservoir = new WindowedHistogramReservoir(30, TimeUnit.SECONDS, 6, clock::get);
        Random random = new Random(42);
        long[] values = new long[100_000];
        for (int i = 0; i < values.length; i++) {
            // latencies from 50 us to about 50 ms, skewed like a real distribution
            values[i] = (long) (50_000 * Math.exp(random.nextDouble() * random.nextDouble() * 7));
            reservoir.update(values[i]);
        }
        java.util.Arrays.sort(values);
        Snapshot snapshot = reservoir.getSnapshot();
        assertEquals(values.length, snapshot.size());
        for (double q : new double[] {0.5, 0.75, 0.95, 0.98, 0.99, 0.999}) {
            double exact = values[(int) Math.ceil(q * values.length) - 1];
            double got = snapshot.getValue(q);
            assertTrue(Math.abs(got - exact) / exact < 0.02, "q" + q + ": " + got + " against " + exact);
        }
        assertTrue(Math.abs(snapshot.getMax() - values[values.length - 1]) / (double) values[values.length - 1] < 0.02);
        assertTrue(Math.abs(snapshot.getMin() - values[0]) / (double) values[0] < 0.02);
        double mean = java.util.Arrays.stream(values).average().orElseThrow();
        assertTrue(Math.abs(snapshot.getMean() - mean) / mean < 0.02, snapshot.getMean() + " against " + mean);
        assertEquals(values.length, snapshot.getValues().length);
    }

    @Test
    void valuesLeaveTheWindowAfterItsLength() {
        AtomicLong clock = new AtomicLong(TimeUnit.SECONDS.toNanos(1000));
        WindowedHistogramReservoir reservoir = new WindowedHistogramReservoir(30, TimeUnit.SECONDS, 6, clock::get);
        for (int i = 0; i < 100; i++) {
            reservoir.update(1_000_000); // 1 ms
        }
        clock.addAndGet(TimeUnit.SECONDS.toNanos(20));
        for (int i = 0; i < 100; i++) {
            reservoir.update(9_000_000); // 9 ms, 20 s later
        }
        Snapshot both = reservoir.getSnapshot();
        assertEquals(200, both.size());
        assertEquals(1_000_000, both.getValue(0.5), 1_000_000 * 0.02);
        assertEquals(9_000_000, both.getValue(0.99), 9_000_000 * 0.02);

        clock.addAndGet(TimeUnit.SECONDS.toNanos(15)); // the 1 ms ones are now 35 s old
        Snapshot later = reservoir.getSnapshot();
        assertEquals(100, later.size());
        assertEquals(9_000_000, later.getValue(0.5), 9_000_000 * 0.02);

        clock.addAndGet(TimeUnit.SECONDS.toNanos(60)); // nothing recorded for a minute
        assertEquals(0, reservoir.getSnapshot().size());
        assertEquals(0.0, reservoir.getSnapshot().getValue(0.99));
        reservoir.update(2_000); // a slot reused after going round is cleared first
        assertEquals(1, reservoir.getSnapshot().size());
    }

    @Test
    void updatesFromSeveralEventLoopsAreAllCounted() throws InterruptedException {
        WindowedHistogramReservoir reservoir = new WindowedHistogramReservoir(30, TimeUnit.SECONDS, 6);
        Thread[] loops = new Thread[4];
        for (int t = 0; t < loops.length; t++) {
            long value = (t + 1) * 1_000_000L;
            loops[t] = new Thread(() -> {
                for (int i = 0; i < 250_000; i++) {
                    reservoir.update(value);
                }
            });
            loops[t].start();
        }
        for (Thread loop : loops) {
            loop.join(60_000);
        }
        // Well inside the 30 s window: a slot is only cleared when the clock comes back round to it.
        Snapshot snapshot = reservoir.getSnapshot();
        assertEquals(1_000_000, snapshot.size());
        assertEquals(2_000_000, snapshot.getValue(0.5), 2_000_000 * 0.02);
        assertEquals(4_000_000, snapshot.getValue(0.99), 4_000_000 * 0.02);
    }

    @Test
    void anUpdateAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        WindowedHistogramReservoir reservoir = new WindowedHistogramReservoir(30, TimeUnit.SECONDS, 6);
        for (int i = 0; i < 20_000; i++) {
            reservoir.update(i * 1_000L); // the first round of slots and any JIT work
        }
        long id = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 1_000_000; i++) {
            reservoir.update(i * 997L);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        // The sliding-window reservoir it replaces kept 16 bytes per update (16 MB here).
        assertTrue(allocated < 64 * 1024, allocated + " bytes allocated for 1 000 000 updates");
    }
}
