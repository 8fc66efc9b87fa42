package io.flotilla.cluster.rate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LocalRateCountersTest extends RateCountersContract {

    @Override
    protected RateCounters newCounters() {
        return RateCounters.local();
    }

    @Test
    void windowsFollowTheClock() {
        AtomicLong now = new AtomicLong(10_000);
        RateCounters c = new LocalRateCounters(now::get);
        Duration second = Duration.ofSeconds(1);
        assertTrue(c.tryAcquire("k", 2, second).allowed());
        RateDecision second1 = c.tryAcquire("k", 2, second);
        assertTrue(second1.allowed());
        assertEquals(0, second1.remaining());
        now.addAndGet(999);
        RateDecision refused = c.tryAcquire("k", 2, second);
        assertFalse(refused.allowed());
        assertEquals(1, refused.resetMillis());
        now.addAndGet(1);
        assertTrue(c.tryAcquire("k", 2, second).allowed());
    }
}
