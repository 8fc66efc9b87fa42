package io.flotilla.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The simulations' own arithmetic: windows, key draws, durations, hooks and Cache-Status parsing. */
class LoadtestPartsTest {
    @Test
    void anAnswerCountsInAWindowOnlyWhenItsWholeSpanLiesThere() {
        RateLimitLedger ledger = new RateLimitLedger(1000, 2);
        assertFalse(ledger.admittedOverLimit(200, 10_100, 10_102));
        assertFalse(ledger.admittedOverLimit(200, 10_500, 10_501));
        assertFalse(ledger.admittedOverLimit(429, 10_600, 10_601), "a refusal is not an admission");
        assertFalse(ledger.admittedOverLimit(200, 10_999, 11_001), "crossing 11 000: it may have counted in either");
        assertTrue(ledger.admittedOverLimit(200, 10_700, 10_703), "a third certain admission in a window of 2");
        assertEquals(Map.of(10L, 3, 11L, 0), ledger.certainPerWindow(10_000, 12_000));
        assertEquals(Map.of(10L, 4, 11L, 1), ledger.possiblePerWindow(10_000, 12_000));
        assertEquals(1, ledger.crossing());
        assertEquals(Map.of(11L, 0), ledger.certainPerWindow(10_001, 12_000), "10 is not a full window from 10 001");
    }

    @Test
    void zipfFavoursLowKeysByItsSkewAndIsUniformWithoutOne() {
        Zipf skewed = new Zipf(100, 1.0);
        Zipf uniform = new Zipf(100, 0);
        int n = 200_000;
        int[] a = new int[101];
        int[] b = new int[101];
        for (int i = 0; i < n; i++) {
            a[skewed.next()]++;
            b[uniform.next()]++;
        }
        double harmonic = 0;
        for (int k = 1; k <= 100; k++) {
            harmonic += 1.0 / k;
        }
        assertEquals(n / harmonic, a[1], n * 0.01, "key 1 drawn with probability 1/H(100)");
        assertEquals(a[1] / 2.0, a[2], n * 0.01, "key 2 half as often as key 1");
        assertEquals(n / 100.0, b[1], n * 0.005);
        assertEquals(n / 100.0, b[100], n * 0.005);
        assertEquals(0, a[0] + b[0], "keys start at 1");
    }

    @Test
    void durationsAndHooksParse() {
        assertEquals(Duration.ofMillis(500), Knobs.parseDuration("500ms"));
        assertEquals(Duration.ofSeconds(20), Knobs.parseDuration("20s"));
        assertEquals(Duration.ofSeconds(7), Knobs.parseDuration("7"));
        assertEquals(Duration.ofMinutes(2), Knobs.parseDuration("2m"));
        Hooks hooks = Hooks.parse("20s=fleet.sh drain 2; 40s = fleet.sh kill 3");
        assertEquals(
                List.of(
                        new Hooks.Hook(Duration.ofSeconds(20), "fleet.sh drain 2"),
                        new Hooks.Hook(Duration.ofSeconds(40), "fleet.sh kill 3")),
                hooks.hooks());
        assertTrue(Hooks.parse("").hooks().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> Hooks.parse("20s fleet.sh kill 3"));
    }

    @Test
    void hooksReportTheirExitCodes() {
        Hooks hooks = new Hooks(List.of());
        assertNull(hooks.failures());
        Hooks.Result ok = Hooks.run(new Hooks.Hook(Duration.ZERO, "echo drained"));
        assertEquals(0, ok.exit());
        assertEquals("drained", ok.output());
        Hooks.Result failed = Hooks.run(new Hooks.Hook(Duration.ZERO, "echo no such node >&2; exit 3"));
        assertEquals(3, failed.exit());
        assertEquals("no such node", failed.output());
    }

    @Test
    void cacheStatusHitsAreTheHitParameterOnly() {
        assertTrue(CacheStatusTally.isHit("flotilla; hit; ttl=57"));
        assertTrue(CacheStatusTally.isHit("flotilla; hit; ttl=-3; detail=stale-while-revalidate"));
        assertFalse(CacheStatusTally.isHit("flotilla; fwd=uri-miss; stored"));
        assertFalse(CacheStatusTally.isHit("flotilla; fwd=stale; fwd-status=304; collapsed"));
        CacheStatusTally tally = new CacheStatusTally();
        tally.record("flotilla; hit; ttl=1");
        tally.record("flotilla; fwd=uri-miss; stored");
        assertEquals(1, tally.hits());
        assertEquals(1, tally.forwarded());
        assertEquals("hit ratio 0.500 (1 hits, 1 forwarded)", tally.describe());
    }
}
