package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void parsesEachUnit() {
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofSeconds(2), Durations.parse("2s"));
        assertEquals(Duration.ofMinutes(10), Durations.parse("10m"));
        assertEquals(Duration.ofHours(1), Durations.parse("1h"));
        assertEquals(Duration.ofDays(7), Durations.parse("7d"));
    }

    @Test
    void parsesCompoundsLargestUnitFirst() {
        assertEquals(Duration.ofSeconds(90), Durations.parse("1m30s"));
        assertEquals(Duration.ofMillis(1_250), Durations.parse("1s250ms"));
        assertEquals(Duration.ofHours(26).plusMinutes(5), Durations.parse("1d2h5m"));
    }

    @Test
    void acceptsBareZeroAndSurroundingSpace() {
        assertEquals(Duration.ZERO, Durations.parse("0"));
        assertEquals(Duration.ZERO, Durations.parse("0s"));
        assertEquals(Duration.ofSeconds(5), Durations.parse(" 5s "));
    }

    @Test
    void rejectsNegative() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse("-5s"));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
    }

    @Test
    void rejectsBareNumberOtherThanZero() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse("30"));
        assertEquals("duration '30' needs a unit (ms, s, m, h or d), e.g. 30s or 30ms", e.getMessage());
    }

    @Test
    void rejectsWordsAndExplainsTheForm() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse("fast"));
        assertEquals("expected a duration like 2s or 500ms, got 'fast'", e.getMessage());
    }

    @Test
    void rejectsUnknownUnit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse("5sec"));
        assertTrue(e.getMessage().contains("unknown duration unit 'sec'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("5S"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("5us"));
    }

    @Test
    void rejectsUnitsOutOfOrderOrRepeated() {
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("30s1m"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("1s1s"));
    }

    @Test
    void rejectsMalformedPieces() {
        for (String bad : new String[] {"", " ", "s", "1m30", "1.5s", "1m 30s", "ms5", "+5s"}) {
            assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Durations.parse(null));
    }

    @Test
    void rejectsOverflowInsteadOfWrapping() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Durations.parse("9999999999999999d"));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("99999999999999999999ms"));
    }
}
