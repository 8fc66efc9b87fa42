package io.flotilla.node.tunnel;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/** For backpressure tests: what a relay holds while a pushed stream is held back. */
final class Stall {
    private Stall() {}

    /**
     * Samples {@code held} every 10 ms until {@code progress} has not moved for {@code quietMillis}
     * (the pushing side is held back), and returns the largest sample.
     */
    static long peakHeldUntilStalled(LongSupplier progress, LongSupplier held, long quietMillis)
            throws InterruptedException {
        long peak = 0;
        long quietSince = System.nanoTime();
        long last = -1;
        while (System.nanoTime() - quietSince < TimeUnit.MILLISECONDS.toNanos(quietMillis)) {
            peak = Math.max(peak, held.getAsLong());
            long now = progress.getAsLong();
            if (now != last) {
                last = now;
                quietSince = System.nanoTime();
            }
            Thread.sleep(10);
        }
        return peak;
    }
}
