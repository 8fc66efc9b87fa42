package io.flotilla.cluster.config;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Versioned config documents shared by the fleet: compare-and-set publish, rollback, and a listener
 * that every member's node uses to apply a new version.
 *
 * <p>Contract: versions are 1, 2, 3, ...; a publish succeeds only against the current version, so
 * two concurrent publishes cannot both win; every member converges on the highest version (also
 * after a partition heals); a member that joins later sees the current version at once.
 */
public interface ConfigStore extends AutoCloseable {

    /** A store for a lone node, in memory. */
    static ConfigStore local(String memberId) {
        return new LocalConfigStore(memberId);
    }

    /** The current version, or null when nothing was published. */
    default ConfigVersion current() {
        return history().current();
    }

    /** The last {@link ConfigHistory#KEPT} versions, newest first. */
    ConfigHistory history();

    /**
     * Publishes {@code document} as version {@code expectedVersion + 1}; empty when the current
     * version is not {@code expectedVersion} (0 when nothing was published yet).
     */
    default Optional<ConfigVersion> publish(long expectedVersion, String document) {
        return publish(expectedVersion, document, ConfigVersion.UNKNOWN_SOURCE, null);
    }

    /**
     * As {@link #publish(long, String)}, recording how the document arrived ({@code source}) and who
     * sent it ({@code publisher}; null: this member's id).
     */
    Optional<ConfigVersion> publish(long expectedVersion, String document, String source, String publisher);

    /** Publishes the previous version's document again as the next version; empty when stale or none. */
    default Optional<ConfigVersion> rollback(long expectedVersion) {
        return rollback(expectedVersion, null);
    }

    /** As {@link #rollback(long)}, recording who asked for it ({@code publisher}; null: this member's id). */
    Optional<ConfigVersion> rollback(long expectedVersion, String publisher);

    /**
     * Calls {@code listener} with the new current version after each change, in increasing order, on
     * a thread of the store's, never the publisher's: a listener may take a lock that a publisher
     * holds while it publishes (a version overtaken before it was delivered may be skipped); returns
     * what cancels it.
     */
    Runnable onChange(Consumer<ConfigVersion> listener);

    /** The versions as a list, newest first. */
    default List<ConfigVersion> versions() {
        return history().versions();
    }

    @Override
    void close();
}
