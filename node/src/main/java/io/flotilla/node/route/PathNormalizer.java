package io.flotilla.node.route;

/**
 * Removes dot segments from a request path before it is routed (RFC 3986 §5.2.4), so that
 * {@code /public/../admin} is routed as {@code /admin}, as the origin will read it. Percent-encoded
 * dots count as dots for this, since many origins decode them before resolving.
 */
public final class PathNormalizer {
    private PathNormalizer() {}

    /** Returns the normalized path, or null when the path climbs above the root. */
    public static String normalize(String path) {
        if (path.indexOf('.') < 0 && path.indexOf('%') < 0) {
            return path; // the common case: nothing to do, no allocation
        }
        String[] segments = path.split("/", -1);
        String[] out = new String[segments.length];
        int n = 0;
        for (int i = 1; i < segments.length; i++) {
            String segment = segments[i];
            String decoded = segment.replace("%2e", ".").replace("%2E", ".");
            boolean last = i == segments.length - 1;
            if (decoded.equals(".")) {
                if (last) {
                    out[n++] = "";
                }
            } else if (decoded.equals("..")) {
                if (n == 0) {
                    return null;
                }
                n--;
                if (last) {
                    out[n++] = "";
                }
            } else {
                out[n++] = segment;
            }
        }
        StringBuilder b = new StringBuilder(path.length());
        for (int i = 0; i < n; i++) {
            b.append('/').append(out[i]);
        }
        return b.length() == 0 ? "/" : b.toString();
    }
}
