package io.flotilla.node.cache;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The directives of one or more {@code Cache-Control} (or targeted, RFC 9213) field values, parsed
 * leniently as RFC 9111 §5.2 asks: names are case-insensitive, unknown directives are ignored, and a
 * directive whose argument does not parse counts as present with no usable argument.
 */
final class CacheControl {
    static final CacheControl NONE = new CacheControl(Map.of());

    private final Map<String, String> directives;

    private CacheControl(Map<String, String> directives) {
        this.directives = directives;
    }

    /** Parses every value given (a field may repeat); null and empty values contribute nothing. */
    static CacheControl parse(Iterable<String> values) {
        Map<String, String> out = null;
        for (String value : values) {
            if (value == null || value.isEmpty()) {
                continue;
            }
            if (out == null) {
                out = new HashMap<>(8);
            }
            parseInto(value, out);
        }
        return out == null ? NONE : new CacheControl(out);
    }

    static CacheControl parse(String value) {
        if (value == null || value.isEmpty()) {
            return NONE;
        }
        Map<String, String> out = new HashMap<>(8);
        parseInto(value, out);
        return new CacheControl(out);
    }

    private static void parseInto(String value, Map<String, String> out) {
        int i = 0;
        int n = value.length();
        while (i < n) {
            while (i < n && (value.charAt(i) == ',' || value.charAt(i) == ' ' || value.charAt(i) == '\t')) {
                i++;
            }
            int nameStart = i;
            while (i < n && value.charAt(i) != '=' && value.charAt(i) != ',') {
                i++;
            }
            String name = value.substring(nameStart, i).trim().toLowerCase(Locale.ROOT);
            String argument = "";
            if (i < n && value.charAt(i) == '=') {
                i++;
                if (i < n && value.charAt(i) == '"') {
                    StringBuilder quoted = new StringBuilder();
                    i++;
                    while (i < n && value.charAt(i) != '"') {
                        if (value.charAt(i) == '\\' && i + 1 < n) {
                            i++;
                        }
                        quoted.append(value.charAt(i++));
                    }
                    i++; // closing quote
                    argument = quoted.toString();
                    while (i < n && value.charAt(i) != ',') {
                        i++;
                    }
                } else {
                    int argStart = i;
                    while (i < n && value.charAt(i) != ',') {
                        i++;
                    }
                    argument = value.substring(argStart, i).trim();
                }
            }
            // §4.2.1: with a directive repeated, a cache treats the response as stale; keeping the
            // first and noting the conflict is done by callers through seconds().
            if (!name.isEmpty()) {
                out.merge(name, argument, (a, b) -> a.equals(b) ? a : CONFLICT);
            }
        }
    }

    /** The argument of a directive that appeared more than once with different values. */
    static final String CONFLICT = "\u0000conflict";

    boolean isEmpty() {
        return directives.isEmpty();
    }

    boolean has(String directive) {
        return directives.containsKey(directive);
    }

    /**
     * The delta-seconds argument of a directive: -1 when absent, {@code invalid} when present but not
     * a non-negative integer (or repeated with different values). Overlarge values saturate (§1.2.2).
     */
    long seconds(String directive, long invalid) {
        String arg = directives.get(directive);
        if (arg == null) {
            return -1;
        }
        if (arg.isEmpty() || arg == CONFLICT) {
            return invalid;
        }
        long v = 0;
        for (int i = 0; i < arg.length(); i++) {
            char c = arg.charAt(i);
            if (c < '0' || c > '9') {
                return invalid;
            }
            v = v * 10 + (c - '0');
            if (v > Integer.MAX_VALUE) {
                return Integer.MAX_VALUE; // 2^31, as §1.2.2 allows
            }
        }
        return v;
    }

    /** The field names listed in a qualified {@code no-cache} or {@code private}, or null if unqualified. */
    String argument(String directive) {
        String arg = directives.get(directive);
        return arg == null || arg.isEmpty() || arg == CONFLICT ? null : arg;
    }

    @Override
    public String toString() {
        return directives.toString();
    }
}
