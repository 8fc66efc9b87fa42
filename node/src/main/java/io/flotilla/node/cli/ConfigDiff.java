package io.flotilla.node.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code flotilla config diff} prints: two config texts compared section by section (the
 * top-level keys: node, listeners, upstreams, routes, ...), each section as changed lines, "-" for
 * the running text and "+" for the file. Sections are cut at the lines that start a top-level key, so
 * comments and key order inside a section count as changes, as they would in the history's digest.
 */
final class ConfigDiff {
    /** Sections a push leaves as they are on every other node of a fleet. */
    private static final Set<String> OWN = Set.of("node", "listeners", "cluster");

    private ConfigDiff() {}

    /** The report: each section unchanged, added, removed or changed (with its lines), then a count. */
    static String compare(String running, String file) {
        Map<String, List<String>> before = sections(running);
        Map<String, List<String>> after = sections(file);
        Set<String> names = new LinkedHashSet<>(before.keySet());
        names.addAll(after.keySet());
        StringBuilder out = new StringBuilder();
        int differ = 0;
        for (String name : names) {
            List<String> a = before.getOrDefault(name, List.of());
            List<String> b = after.getOrDefault(name, List.of());
            String own = OWN.contains(name) ? " (the node's own section: a push to a fleet keeps each node's)" : "";
            if (a.equals(b)) {
                out.append(name).append(": unchanged").append(own).append('\n');
                continue;
            }
            differ++;
            out.append(name)
                    .append(a.isEmpty() ? ": added" : b.isEmpty() ? ": removed" : ": changed")
                    .append(own)
                    .append('\n');
            lines(a, b, out);
        }
        return out.append(differ == 0 ? "no changes\n" : differ + " section(s) differ\n")
                .toString();
    }

    /** Top-level sections in order; text before the first key (comments) is the section "(header)". */
    private static Map<String, List<String>> sections(String text) {
        Map<String, List<String>> sections = new LinkedHashMap<>();
        String current = "(header)";
        for (String line : text.split("\n", -1)) {
            if (!line.isEmpty()
                    && !Character.isWhitespace(line.charAt(0))
                    && line.charAt(0) != '#'
                    && line.charAt(0) != '-'
                    && line.indexOf(':') > 0) {
                current = line.substring(0, line.indexOf(':')).trim();
            }
            if (!line.isBlank()) {
                sections.computeIfAbsent(current, k -> new ArrayList<>()).add(line);
            }
        }
        return sections;
    }

    /** A line diff by longest common subsequence: sections are short. */
    private static void lines(List<String> a, List<String> b, StringBuilder out) {
        int[][] common = new int[a.size() + 1][b.size() + 1];
        for (int i = a.size() - 1; i >= 0; i--) {
            for (int j = b.size() - 1; j >= 0; j--) {
                common[i][j] = a.get(i).equals(b.get(j))
                        ? common[i + 1][j + 1] + 1
                        : Math.max(common[i + 1][j], common[i][j + 1]);
            }
        }
        int i = 0;
        int j = 0;
        while (i < a.size() || j < b.size()) {
            if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
                i++;
                j++;
            } else if (j < b.size() && (i == a.size() || common[i][j + 1] >= common[i + 1][j])) {
                out.append("  + ").append(b.get(j++)).append('\n');
            } else {
                out.append("  - ").append(a.get(i++)).append('\n');
            }
        }
    }
}
