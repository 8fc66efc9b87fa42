package io.flotilla.node.cache;

import java.util.HashMap;
import java.util.List;
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

    /**
     * A targeted field (RFC 9213 §2.1): a Structured Fields dictionary (RFC 8941 §3.2), strictly.
     * Null when it does not parse, so the caller ignores the field; an integer directive with a
     * value of another type is left out, as if absent.
     */
    static CacheControl parseTargeted(List<String> values) {
        String field = String.join(", ", values).strip();
        if (field.isEmpty()) {
            return null;
        }
        Map<String, String> out = new HashMap<>(8);
        StructuredDictionary parser = new StructuredDictionary(field);
        if (!parser.parse(out)) {
            return null;
        }
        return new CacheControl(out);
    }

    /** Just enough of RFC 8941 to validate a dictionary and keep integer and bare-key members. */
    private static final class StructuredDictionary {
        private final String s;
        private int i;

        StructuredDictionary(String s) {
            this.s = s;
        }

        boolean parse(Map<String, String> out) {
            while (true) {
                String key = key();
                if (key == null) {
                    return false;
                }
                String value = "";
                if (peek() == '=') {
                    i++;
                    if (peek() == '(') {
                        if (!innerList()) {
                            return false;
                        }
                        value = null;
                    } else {
                        int start = i;
                        int type = bareItem();
                        if (type < 0) {
                            return false;
                        }
                        value = type == INTEGER ? s.substring(start, i) : null;
                    }
                }
                if (!parameters()) {
                    return false;
                }
                if (value != null && !(value.startsWith("-"))) {
                    out.put(key, value); // last one wins (RFC 8941 §4.2.2)
                } else {
                    out.remove(key);
                }
                ows();
                if (i == s.length()) {
                    return true;
                }
                if (s.charAt(i) != ',') {
                    return false;
                }
                i++;
                ows();
                if (i == s.length()) {
                    return false; // a trailing comma
                }
            }
        }

        private static final int INTEGER = 0;
        private static final int OTHER = 1;

        private char peek() {
            return i < s.length() ? s.charAt(i) : '\0';
        }

        private void ows() {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
                i++;
            }
        }

        private String key() {
            int start = i;
            char c = peek();
            if (!((c >= 'a' && c <= 'z') || c == '*')) {
                return null;
            }
            i++;
            while (i < s.length()) {
                c = s.charAt(i);
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*') {
                    i++;
                } else {
                    break;
                }
            }
            return s.substring(start, i);
        }

        private boolean parameters() {
            while (peek() == ';') {
                i++;
                while (peek() == ' ') {
                    i++;
                }
                if (key() == null) {
                    return false;
                }
                if (peek() == '=') {
                    i++;
                    if (bareItem() < 0) {
                        return false;
                    }
                }
            }
            return true;
        }

        private boolean innerList() {
            i++; // (
            while (true) {
                while (peek() == ' ') {
                    i++;
                }
                if (peek() == ')') {
                    i++;
                    return true;
                }
                if (bareItem() < 0 || !parameters()) {
                    return false;
                }
                if (peek() != ' ' && peek() != ')') {
                    return false;
                }
            }
        }

        /** Consumes one bare item; its type, or -1 when malformed. */
        private int bareItem() {
            char c = peek();
            if (c == '-' || (c >= '0' && c <= '9')) {
                return number();
            }
            if (c == '"') {
                i++;
                while (i < s.length()) {
                    char d = s.charAt(i++);
                    if (d == '\\') {
                        if (i >= s.length() || (s.charAt(i) != '"' && s.charAt(i) != '\\')) {
                            return -1;
                        }
                        i++;
                    } else if (d == '"') {
                        return OTHER;
                    } else if (d < 0x20 || d > 0x7e) {
                        return -1;
                    }
                }
                return -1;
            }
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*') {
                i++;
                while (i < s.length() && (isTchar(s.charAt(i)) || s.charAt(i) == ':' || s.charAt(i) == '/')) {
                    i++;
                }
                return OTHER;
            }
            if (c == ':') {
                int end = s.indexOf(':', i + 1);
                if (end < 0) {
                    return -1;
                }
                for (int k = i + 1; k < end; k++) {
                    char d = s.charAt(k);
                    if (!(Character.isLetterOrDigit(d) && d < 0x80) && d != '+' && d != '/' && d != '=') {
                        return -1;
                    }
                }
                i = end + 1;
                return OTHER;
            }
            if (c == '?') {
                i++;
                char d = peek();
                if (d != '0' && d != '1') {
                    return -1;
                }
                i++;
                return OTHER;
            }
            return -1;
        }

        private int number() {
            int start = i;
            if (peek() == '-') {
                i++;
            }
            int digits = 0;
            while (i < s.length() && Character.isDigit(s.charAt(i)) && s.charAt(i) < 0x80) {
                i++;
                digits++;
            }
            if (digits == 0) {
                return -1;
            }
            if (peek() != '.') {
                return digits <= 15 ? INTEGER : -1;
            }
            i++;
            int fraction = 0;
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
                fraction++;
            }
            return digits <= 12 && fraction >= 1 && fraction <= 3 && i > start ? OTHER : -1;
        }

        private static boolean isTchar(char c) {
            return (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
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
