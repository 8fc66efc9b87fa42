package io.flotilla.node.cache;

/** A single {@code bytes} range of RFC 9110 §14.1.2, resolved against a known length. */
final class ByteRange {
    static final long[] UNSATISFIABLE = new long[0];

    private ByteRange() {
    }

    /**
     * The first and last byte positions the Range asks for, {@link #UNSATISFIABLE}, or null when the
     * header is to be ignored (not bytes, several ranges, or malformed), which means the whole body.
     */
    static long[] parse(String range, long length) {
        String r = range.trim();
        if (!r.regionMatches(true, 0, "bytes=", 0, 6) || r.indexOf(',') >= 0) {
            return null;
        }
        String spec = r.substring(6).trim();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String first = spec.substring(0, dash).trim();
        String last = spec.substring(dash + 1).trim();
        try {
            if (first.isEmpty()) {
                if (last.isEmpty()) {
                    return null;
                }
                long suffix = Long.parseLong(last);
                if (suffix <= 0 || length == 0) {
                    return suffix < 0 ? null : UNSATISFIABLE;
                }
                return new long[] {Math.max(0, length - suffix), length - 1};
            }
            long start = Long.parseLong(first);
            long end = last.isEmpty() ? length - 1 : Long.parseLong(last);
            if (start < 0) {
                return null;
            }
            if (start >= length) {
                return UNSATISFIABLE;
            }
            if (end < start) {
                return null;
            }
            return new long[] {start, Math.min(end, length - 1)};
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
