package io.flotilla.cluster.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The last few published versions, newest first: the value a config store keeps, with the
 * compare-and-set rules every implementation applies the same way.
 *
 * @param versions newest first, at most {@link #KEPT}
 */
public record ConfigHistory(List<ConfigVersion> versions) {

    /** Versions kept for rollback and for people to read. */
    public static final int KEPT = 10;

    /** The source of a version a rollback published (followed by " to vN"). */
    public static final String ROLLBACK = "rollback";

    /** Nothing published yet. */
    public static final ConfigHistory EMPTY = new ConfigHistory(List.of());

    public ConfigHistory {
        versions = List.copyOf(versions);
    }

    /** The newest version, or null. */
    public ConfigVersion current() {
        return versions.isEmpty() ? null : versions.get(0);
    }

    /** The version number of {@link #current()}, 0 when nothing was published. */
    public long currentVersion() {
        return versions.isEmpty() ? 0 : versions.get(0).version();
    }

    /** This history with {@code document} as the next version, or null when {@code expected} is stale. */
    public ConfigHistory publish(long expected, String document, String publisher, long now) {
        return publish(expected, document, publisher, now, ConfigVersion.UNKNOWN_SOURCE);
    }

    /** As {@link #publish(long, String, String, long)}, recording how the document arrived. */
    public ConfigHistory publish(long expected, String document, String publisher, long now, String source) {
        if (expected != currentVersion()) {
            return null;
        }
        List<ConfigVersion> next = new ArrayList<>(KEPT);
        next.add(new ConfigVersion(expected + 1, document, now, publisher, source));
        next.addAll(versions.subList(0, Math.min(versions.size(), KEPT - 1)));
        return new ConfigHistory(next);
    }

    /**
     * This history with the previous version's document published again as the next version (so
     * versions only grow, which is what lets the highest version win after a partition), or null
     * when {@code expected} is stale or there is no previous version.
     */
    public ConfigHistory rollback(long expected, String publisher, long now) {
        if (versions.size() < 2) {
            return null;
        }
        return publish(
                expected,
                versions.get(1).document(),
                publisher,
                now,
                ROLLBACK + " to v" + versions.get(1).version());
    }

    /**
     * Of two histories that diverged in a partition, the one whose current version is higher; on a
     * tie (both halves published the same number) the later publish, then the publisher's id, so
     * every member picks the same one.
     */
    public static ConfigHistory newer(ConfigHistory a, ConfigHistory b) {
        if (a == null || a.current() == null) {
            return b == null ? a : b;
        }
        if (b == null || b.current() == null) {
            return a;
        }
        return ORDER.compare(b.current(), a.current()) > 0 ? b : a;
    }

    private static final Comparator<ConfigVersion> ORDER = Comparator.comparingLong(ConfigVersion::version)
            .thenComparingLong(ConfigVersion::publishedAt)
            .thenComparing(ConfigVersion::publisher)
            .thenComparing(ConfigVersion::document);
}
