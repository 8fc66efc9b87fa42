package io.flotilla.node.config;

import java.time.Duration;

/** Parses the durations written in config files, such as {@code 500ms}, {@code 30s} or {@code 1m30s}. */
public final class Durations {
    private static final String[] UNITS = {"d", "h", "m", "s", "ms"};
    private static final long[] UNIT_MILLIS = {86_400_000L, 3_600_000L, 60_000L, 1_000L, 1L};

    private Durations() {}

    /**
     * Parses one or more number-unit pairs, largest unit first ({@code 1h}, {@code 2s}, {@code 1m30s});
     * units are {@code ms}, {@code s}, {@code m}, {@code h} and {@code d}, and a bare {@code 0} is allowed.
     *
     * @throws IllegalArgumentException with a message fit to show an operator
     */
    public static Duration parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("expected a duration like 2s or 500ms, got nothing");
        }
        String s = text.trim();
        if (s.startsWith("-")) {
            throw new IllegalArgumentException("a duration cannot be negative, got '" + text + "'");
        }
        if (!s.isEmpty() && isDigits(s, 0, s.length())) {
            if (s.chars().allMatch(c -> c == '0')) {
                return Duration.ZERO;
            }
            // A bare number is most often seconds, but guessing would hide a factor-1000 mistake.
            throw new IllegalArgumentException(
                    "duration '" + text + "' needs a unit (ms, s, m, h or d), e.g. " + s + "s or " + s + "ms");
        }
        long millis = 0;
        int lastUnit = -1;
        int i = 0;
        while (i < s.length()) {
            int digitsEnd = i;
            while (digitsEnd < s.length() && isDigit(s.charAt(digitsEnd))) {
                digitsEnd++;
            }
            int unitEnd = digitsEnd;
            while (unitEnd < s.length() && Character.isLetter(s.charAt(unitEnd))) {
                unitEnd++;
            }
            if (digitsEnd == i || unitEnd == digitsEnd) {
                throw malformed(text);
            }
            int unit = unitIndex(s.substring(digitsEnd, unitEnd));
            if (unit < 0) {
                throw new IllegalArgumentException("unknown duration unit '" + s.substring(digitsEnd, unitEnd)
                        + "' in '" + text + "'; use ms, s, m, h or d");
            }
            if (unit <= lastUnit) {
                throw new IllegalArgumentException(
                        "duration '" + text + "' must list each unit once, largest first, e.g. 1m30s");
            }
            lastUnit = unit;
            try {
                long amount = Long.parseLong(s.substring(i, digitsEnd));
                millis = Math.addExact(millis, Math.multiplyExact(amount, UNIT_MILLIS[unit]));
            } catch (NumberFormatException | ArithmeticException e) {
                throw new IllegalArgumentException("duration '" + text + "' is too large");
            }
            i = unitEnd;
        }
        if (i == 0) {
            throw malformed(text);
        }
        return Duration.ofMillis(millis);
    }

    private static IllegalArgumentException malformed(String text) {
        return new IllegalArgumentException("expected a duration like 2s or 500ms, got '" + text + "'");
    }

    private static int unitIndex(String unit) {
        for (int u = 0; u < UNITS.length; u++) {
            if (UNITS[u].equals(unit)) {
                return u;
            }
        }
        return -1;
    }

    private static boolean isDigits(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!isDigit(s.charAt(i))) {
                return false;
            }
        }
        return from < to;
    }

    // Character.isDigit would also accept digits of other scripts, which Long.parseLong then rejects.
    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
