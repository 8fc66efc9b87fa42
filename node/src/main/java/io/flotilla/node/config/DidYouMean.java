package io.flotilla.node.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** Finds the known name an operator most likely meant when they typed an unknown one. */
final class DidYouMean {
    private DidYouMean() {}

    /** The closest candidate within a small edit distance, or empty when nothing is close enough to help. */
    static Optional<String> closest(String typed, Collection<String> candidates) {
        String t = typed.toLowerCase(Locale.ROOT);
        // Short names get a tighter budget, or "x" would "mean" every two-letter key.
        int budget = Math.min(2, Math.max(1, t.length() / 2));
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            String c = candidate.toLowerCase(Locale.ROOT);
            // maxConnections and max-connections both mean max_connections.
            int distance = squash(t).equals(squash(c)) ? 0 : levenshtein(t, c);
            if (distance <= budget && distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return Optional.ofNullable(best);
    }

    /** {@code " (did you mean 'x'?)"}, or the empty string. */
    static String hint(String typed, Collection<String> candidates) {
        return closest(typed, candidates)
                .map(c -> " (did you mean '" + c + "'?)")
                .orElse("");
    }

    private static String squash(String s) {
        return s.replace("_", "").replace("-", "");
    }

    static int levenshtein(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
