package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SizesTest {

    @Test
    void parsesPlainBytes() {
        assertEquals(0, Sizes.parse("0"));
        assertEquals(1500, Sizes.parse("1500"));
    }

    @Test
    void unitsArePowersOf1024AndCaseInsensitive() {
        assertEquals(8 * 1024, Sizes.parse("8k"));
        assertEquals(8 * 1024, Sizes.parse("8KB"));
        assertEquals(1024 * 1024, Sizes.parse("1m"));
        assertEquals(1024 * 1024, Sizes.parse("1Mb"));
        assertEquals(2L * 1024 * 1024 * 1024, Sizes.parse("2g"));
        assertEquals(2L * 1024 * 1024 * 1024, Sizes.parse("2GB"));
        assertEquals(1024 * 1024, Sizes.parse(" 1 m "));
    }

    @Test
    void rejectsNegative() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse("-1k"));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
    }

    @Test
    void rejectsUnknownUnit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse("1tb"));
        assertEquals(
                "unknown size unit 'tb' in '1tb'; use k, m or g (1024-based), or no unit for bytes", e.getMessage());
    }

    @Test
    void rejectsFractionsWithAHint() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse("1.5m"));
        assertTrue(e.getMessage().contains("1536k"), e.getMessage());
    }

    @Test
    void rejectsText() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse("big"));
        assertEquals("expected a size like 8k, 1m or 2g, got 'big'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse(""));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("k"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse(null));
    }

    @Test
    void rejectsOverflowInsteadOfWrapping() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse("9999999999999g"));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
    }
}
