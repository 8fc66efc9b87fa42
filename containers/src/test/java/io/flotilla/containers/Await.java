package io.flotilla.containers;

import java.time.Duration;
import java.util.function.Supplier;

/** Waits for a condition the fleet reaches eventually (membership, health), polling. */
final class Await {
    private Await() {}

    /** A condition; an exception counts as not yet. */
    interface Check {
        boolean ok() throws Exception;
    }

    static void until(Duration timeout, Check check, Supplier<String> state) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (check.ok()) {
                    return;
                }
            } catch (Exception e) {
                // not yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + state.get());
            }
            Thread.sleep(250);
        }
    }
}
