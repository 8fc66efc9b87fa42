package io.flotilla.cluster.hazelcast;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryMergedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.flotilla.cluster.SerialListeners;
import io.flotilla.cluster.config.ConfigHistory;
import io.flotilla.cluster.config.ConfigStore;
import io.flotilla.cluster.config.ConfigVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The config history under one key of a map with one backup. Publishes are compare-and-set entry
 * processors on the key's owner; every member keeps the newest history it has seen as a local
 * snapshot, advanced by the map's events, by its own publishes, and read once at start (so a late
 * joiner has the current version before it serves). After a split the higher version wins
 * ({@link HighestVersionMerge}). Documents are stored sealed with the fleet key ({@link ValueSeal}),
 * version numbers plain (the compare-and-set and the merge run on them without a key): a history
 * with a document that does not verify is ignored as a whole, and counted.
 */
final class HazelcastConfigStore implements ConfigStore {

    private static final Logger LOG = Logger.getLogger(HazelcastConfigStore.class.getName());
    static final String KEY = "current";

    private final IMap<String, ConfigHistory> map;
    private final String memberId;
    private final SerialListeners<ConfigVersion> listeners = new SerialListeners<>("config");
    private final UUID registration;
    private final UUID lifecycle;
    private final HazelcastInstance hz;
    private final ValueSeal seal;
    private ConfigHistory snapshot = ConfigHistory.EMPTY;
    private ConfigHistory sealedSnapshot = ConfigHistory.EMPTY; // the snapshot as stored, to restore it

    HazelcastConfigStore(HazelcastInstance hz, String memberId, ScheduledExecutorService background, ValueSeal seal) {
        this.hz = hz;
        this.seal = seal;
        this.map = hz.getMap(MemberConfig.CONFIG);
        this.memberId = memberId;
        this.registration = map.addEntryListener(new Events(), true);
        this.lifecycle = hz.getLifecycleService().addLifecycleListener(e -> {
            if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
                background.execute(this::refresh);
            }
        });
        refresh();
    }

    /** Reads the stored history and advances the snapshot to it. */
    void refresh() {
        try {
            advance(map.get(KEY));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "config not read", e);
        }
    }

    @Override
    public synchronized ConfigHistory history() {
        return snapshot;
    }

    @Override
    public Optional<ConfigVersion> publish(long expectedVersion, String document, String source, String publisher) {
        return store(new PublishConfig(
                expectedVersion,
                seal.sealText(document, MemberConfig.CONFIG, KEY),
                publisher == null ? memberId : publisher,
                System.currentTimeMillis(),
                source));
    }

    @Override
    public Optional<ConfigVersion> rollback(long expectedVersion, String publisher) {
        return store(new PublishConfig(
                expectedVersion,
                null,
                publisher == null ? memberId : publisher,
                System.currentTimeMillis(),
                ConfigHistory.ROLLBACK));
    }

    private Optional<ConfigVersion> store(PublishConfig step) {
        ConfigHistory next = map.executeOnKey(KEY, step);
        if (next == null && restoreIfLostOrForged()) {
            next = map.executeOnKey(KEY, step);
        }
        if (next == null) {
            return Optional.empty();
        }
        advance(next);
        return Optional.ofNullable(opened(next)).map(ConfigHistory::current);
    }

    /**
     * In a split, this half may hold no copy of the history at all (both replicas of its key were in
     * the other half): every publish would then fail against an empty history, for as long as the
     * split lasts. Puts back the newest history this member has seen, so this half goes on from the
     * version it runs; when the halves merge, the higher version still wins. Likewise a stored history
     * that does not verify (forged: a version 99 would block every publish) is replaced by this
     * member's. True if it was restored.
     */
    private boolean restoreIfLostOrForged() {
        ConfigHistory mine;
        synchronized (this) {
            mine = sealedSnapshot;
        }
        if (mine.current() == null) {
            return false;
        }
        ConfigHistory stored = map.get(KEY);
        if (stored == null) {
            if (map.putIfAbsent(KEY, mine) != null) {
                return false;
            }
            LOG.info(() -> "config history missing in this part of the fleet (a split?): restored version "
                    + mine.currentVersion() + " from this member");
            return true;
        }
        if (opened(stored) != null || !map.replace(KEY, stored, mine)) {
            return false; // a genuine newer version: the compare-and-set failed rightly
        }
        LOG.warning(() -> "config history in the fleet did not verify (forged?): replaced by version "
                + mine.currentVersion() + " from this member");
        return true;
    }

    /**
     * Takes the stored history {@code sealed} if every document in it verifies and it wins over what
     * this member has (see {@link ConfigHistory#newer}), and queues it for the listeners once. Both an
     * event and this member's own publish advance it; queued under the lock, the listeners hear the
     * versions in the order the snapshot took them, on their own thread (see {@link SerialListeners}).
     */
    private void advance(ConfigHistory sealed) {
        ConfigHistory h = opened(sealed);
        synchronized (this) {
            if (h != null && h.current() != null && !h.equals(snapshot) && ConfigHistory.newer(snapshot, h) == h) {
                snapshot = h;
                sealedSnapshot = sealed;
                listeners.fireLater(h.current());
            }
        }
    }

    /**
     * The history with its documents opened, or null if absent or its current document does not
     * verify. An older version that does not verify is left out (its key may have been retired since;
     * it can no longer be rolled back to).
     */
    private ConfigHistory opened(ConfigHistory sealed) {
        if (sealed == null || sealed.current() == null) {
            return null;
        }
        List<ConfigVersion> plain = new ArrayList<>(sealed.versions().size());
        for (ConfigVersion v : sealed.versions()) {
            String document = seal.openText(v.document(), MemberConfig.CONFIG, KEY, plain.isEmpty());
            if (document == null && plain.isEmpty()) {
                return null;
            }
            if (document != null) {
                plain.add(new ConfigVersion(v.version(), document, v.publishedAt(), v.publisher(), v.source()));
            }
        }
        return new ConfigHistory(plain);
    }

    @Override
    public Runnable onChange(Consumer<ConfigVersion> listener) {
        return listeners.add(listener);
    }

    @Override
    public void close() {
        listeners.close();
        if (hz.getLifecycleService().isRunning()) {
            map.removeEntryListener(registration);
            hz.getLifecycleService().removeLifecycleListener(lifecycle);
        }
    }

    private final class Events
            implements EntryAddedListener<String, ConfigHistory>,
                    EntryUpdatedListener<String, ConfigHistory>,
                    EntryMergedListener<String, ConfigHistory> {
        @Override
        public void entryAdded(EntryEvent<String, ConfigHistory> e) {
            advance(e.getValue());
        }

        @Override
        public void entryUpdated(EntryEvent<String, ConfigHistory> e) {
            advance(e.getValue());
        }

        @Override
        public void entryMerged(EntryEvent<String, ConfigHistory> e) {
            advance(e.getValue());
        }
    }
}
