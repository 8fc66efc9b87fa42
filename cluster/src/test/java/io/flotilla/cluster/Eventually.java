package io.flotilla.cluster;

import java.time.Duration;

/** Retries an assertion until it holds or a deadline passes; the last failure is what is thrown. */
public final class Eventually {

    private static final long PAUSE_MILLIS = 20;

    private Eventually() {}

    /** Runs {@code check} every 20 ms until it passes, for at most {@code within} (and as many tries). */
    public static void eventually(Duration within, Runnable check) {
        long deadline = System.nanoTime() + within.toNanos();
        long maxTries = Math.max(1, within.toMillis() / PAUSE_MILLIS);
        for (long i = 0; i < maxTries && System.nanoTime() < deadline; i++) {
            try {
                check.run();
                return;
            } catch (AssertionError | RuntimeException e) {
                pause();
            }
        }
        check.run(); // at the deadline: its failure is the one reported
    }

    private static void pause() {
        try {
            Thread.sleep(PAUSE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
