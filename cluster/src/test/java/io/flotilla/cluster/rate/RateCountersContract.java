package io.flotilla.cluster.rate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link RateCounters} must do when the whole fleet is visible; one subclass per
 * implementation. A shared implementation may need a few sync intervals to hand one member the
 * whole window, so requests here are spread over most of a window.
 */
public abstract class RateCountersContract {

    private static final Duration PERIOD = Duration.ofMillis(1000);

    protected RateCounters counters;

    protected abstract RateCounters newCounters();

    @BeforeEach
    void open() {
        counters = newCounters();
    }

    @AfterEach
    void close() {
        counters.close();
    }

    /** Sleeps until a fresh window has just begun, so a test's requests fall into one window. */
    protected static void awaitWindowStart(Duration period) throws InterruptedException {
        long now = System.currentTimeMillis();
        Thread.sleep(period.toMillis() - Math.floorMod(now, period.toMillis()) + 5);
    }

    /** Offers {@code offered} requests spaced over ~80% of a window; returns how many were admitted. */
    private int offer(String key, long limit, int offered) throws InterruptedException {
        long pause = PERIOD.toMillis() * 8 / 10 / offered;
        int admitted = 0;
        for (int i = 0; i < offered; i++) {
            RateDecision d = counters.tryAcquire(key, limit, PERIOD);
            assertEquals(limit, d.limit());
            assertTrue(d.resetMillis() > 0 && d.resetMillis() <= PERIOD.toMillis(), () -> "reset " + d.resetMillis());
            if (d.allowed()) {
                admitted++;
            } else {
                assertEquals(0, d.remaining());
            }
            Thread.sleep(pause);
        }
        return admitted;
    }

    @Test
    void admitsExactlyTheLimitInAWindow() throws InterruptedException {
        awaitWindowStart(PERIOD);
        assertEquals(10, offer("client-" + UUID.randomUUID(), 10, 40));
    }

    @Test
    void keysAreCountedApart() throws InterruptedException {
        awaitWindowStart(PERIOD);
        String a = "a-" + UUID.randomUUID();
        String b = "b-" + UUID.randomUUID();
        assertTrue(counters.tryAcquire(a, 1, PERIOD).allowed());
        assertTrue(counters.tryAcquire(b, 1, PERIOD).allowed());
        assertFalse(counters.tryAcquire(a, 1, PERIOD).allowed());
    }

    @Test
    void aNewWindowStartsAfresh() throws InterruptedException {
        awaitWindowStart(PERIOD);
        String k = "k-" + UUID.randomUUID();
        assertTrue(counters.tryAcquire(k, 1, PERIOD).allowed());
        assertFalse(counters.tryAcquire(k, 1, PERIOD).allowed());
        awaitWindowStart(PERIOD);
        assertTrue(counters.tryAcquire(k, 1, PERIOD).allowed());
    }

    @Test
    void notDegradedWhenTheFleetIsWhole() {
        assertFalse(counters.degraded());
        assertEquals(1.0, counters.limitShare());
    }
}
