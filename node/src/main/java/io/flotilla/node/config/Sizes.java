package io.flotilla.node.config;

import java.util.Locale;

/** Parses the byte sizes written in config files, such as {@code 8k}, {@code 1m} or {@code 2g} (1024-based). */
public final class Sizes {
    private Sizes() {}

    /**
     * Parses a whole number of bytes with an optional unit {@code k}/{@code kb}, {@code m}/{@code mb} or
     * {@code g}/{@code gb}, case-insensitive; units are powers of 1024.
     *
     * @throws IllegalArgumentException with a message fit to show an operator
     */
    public static long parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("expected a size like 8k, 1m or 2g, got nothing");
        }
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.startsWith("-")) {
            throw new IllegalArgumentException("a size cannot be negative, got '" + text + "'");
        }
        int digitsEnd = 0;
        while (digitsEnd < s.length() && s.charAt(digitsEnd) >= '0' && s.charAt(digitsEnd) <= '9') {
            digitsEnd++;
        }
        if (digitsEnd == 0) {
            throw new IllegalArgumentException("expected a size like 8k, 1m or 2g, got '" + text + "'");
        }
        String unit = s.substring(digitsEnd).trim();
        if (unit.startsWith(".") || unit.startsWith(",")) {
            throw new IllegalArgumentException(
                    "size '" + text + "' must be a whole number; use a smaller unit instead (1536k, not 1.5m)");
        }
        long multiplier =
                switch (unit) {
                    case "" -> 1L;
                    case "k", "kb" -> 1L << 10;
                    case "m", "mb" -> 1L << 20;
                    case "g", "gb" -> 1L << 30;
                    default ->
                        throw new IllegalArgumentException("unknown size unit '" + unit + "' in '" + text
                                + "'; use k, m or g (1024-based), or no unit for bytes");
                };
        try {
            return Math.multiplyExact(Long.parseLong(s.substring(0, digitsEnd)), multiplier);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
    }
}
