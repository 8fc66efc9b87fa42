package io.flotilla.node.http;

/**
 * The {@code bytes} ranges of RFC 9110 §14.1.2, resolved against a known length: one parser for
 * static files and cached responses alike. One range is served as 206; several ranges are ignored
 * (the whole representation, 200), never served as multipart/byteranges.
 */
public final class ByteRanges {
    /** The answer for a range that starts past the end: 416. */
    public static final long[] UNSATISFIABLE = new long[0];

    private ByteRanges() {}

    /**
     * Parses a Range value (RFC 9110 §14.1.2) against a representation of {@code size} bytes: returns
     * {first, last} for one satisfiable range, {@link #UNSATISFIABLE} (every range of an empty one), or
     * null when the header is to be ignored (invalid, another unit, or several ranges, which are served
     * as a whole rather than as multipart/byteranges, as §14.2 allows).
     */
    public static long[] parse(String value, long size) {
        if (!value.regionMatches(true, 0, "bytes=", 0, 6)) {
            return null;
        }
        long[] only = null;
        int ranges = 0;
        int start = 6;
        while (start <= value.length()) {
            int end = value.indexOf(',', start);
            if (end < 0) {
                end = value.length();
            }
            String spec = trimOws(value.substring(start, end));
            start = end + 1;
            // RFC 9110 §5.6.1.2: empty list elements are ignored.
            if (spec.isEmpty()) {
                continue;
            }
            long[] range = parseRangeSpec(spec, size);
            if (range == null) {
                return null;
            }
            only = range;
            ranges++;
        }
        if (ranges != 1) {
            return null;
        }
        return size == 0 ? UNSATISFIABLE : only;
    }

    private static long[] parseRangeSpec(String spec, long size) {
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String first = spec.substring(0, dash);
        String last = spec.substring(dash + 1);
        if (first.isEmpty()) {
            if (!isDigits(last)) {
                return null;
            }
            long suffix = parseSaturating(last);
            if (suffix == 0 || size == 0) {
                return UNSATISFIABLE;
            }
            return new long[] {Math.max(0, size - suffix), size - 1};
        }
        if (!isDigits(first) || !(last.isEmpty() || isDigits(last))) {
            return null;
        }
        long firstPos = parseSaturating(first);
        long lastPos = last.isEmpty() ? Long.MAX_VALUE : parseSaturating(last);
        if (lastPos < firstPos) {
            return null;
        }
        if (firstPos >= size) {
            return UNSATISFIABLE;
        }
        return new long[] {firstPos, Math.min(lastPos, size - 1)};
    }

    private static boolean isDigits(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** Positions past Long.MAX_VALUE cannot be satisfied anyway, so they saturate instead of failing. */
    private static long parseSaturating(String digits) {
        long value = 0;
        for (int i = 0; i < digits.length(); i++) {
            int digit = digits.charAt(i) - '0';
            if (value > (Long.MAX_VALUE - digit) / 10) {
                return Long.MAX_VALUE;
            }
            value = value * 10 + digit;
        }
        return value;
    }

    private static String trimOws(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
            to--;
        }
        return s.substring(from, to);
    }
}
