package io.flotilla.cluster.hazelcast;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryMergedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.flotilla.cluster.Listeners;
import io.flotilla.cluster.tickets.TicketKeyRing;
import io.flotilla.cluster.tickets.TicketKeySet;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The fleet's ticket keys under one key of a map with one backup, sealed with the fleet key
 * ({@link ValueSeal}): without the fleet secret the keys are neither readable nor forgeable from the
 * grid. A rotation is a {@code replace(old, new)} against the sealed bytes this member read, so of
 * members racing to rotate one wins. Every member keeps the generation it applied and moves to
 * whatever the map holds when it changes (an event, or a refresh after a split heals, when the
 * merge may have kept the other half's keys). A stored value that does not open (forged, or sealed
 * under a key this member lacks) is counted by the seal and replaced with a fresh generation.
 */
final class HazelcastTicketKeyRing implements TicketKeyRing {

    private static final Logger LOG = Logger.getLogger(HazelcastTicketKeyRing.class.getName());
    static final String KEY = "ring";

    private final IMap<String, byte[]> map;
    private final HazelcastInstance hz;
    private final ValueSeal seal;
    private final LongSupplier clock;
    private final Listeners<TicketKeySet> listeners = new Listeners<>("ticket keys");
    private final UUID registration;
    private final UUID lifecycle;
    private TicketKeySet current;

    HazelcastTicketKeyRing(
            HazelcastInstance hz, ScheduledExecutorService background, ValueSeal seal, LongSupplier clock) {
        this.hz = hz;
        this.seal = seal;
        this.clock = clock;
        this.map = hz.getMap(MemberConfig.TICKETS);
        this.registration = map.addEntryListener(new Events(), true);
        this.lifecycle = hz.getLifecycleService().addLifecycleListener(e -> {
            if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
                background.execute(this::refresh);
            }
        });
        TicketKeySet start;
        try {
            start = storedOrFirst();
        } catch (RuntimeException e) {
            // TLS must work without the grid: a generation of our own until the map answers.
            LOG.log(Level.WARNING, "fleet ticket keys not read; using this node's own until they are", e);
            start = TicketKeySet.first(clock.getAsLong());
        }
        synchronized (this) {
            if (current == null) {
                current = start;
            }
        }
    }

    /** The stored generation, storing a first one if there is none (or none that opens). */
    private TicketKeySet storedOrFirst() {
        while (true) {
            byte[] stored = map.get(KEY);
            TicketKeySet opened = open(stored);
            if (opened != null) {
                if (seal.sealedWithOlderKey(stored)) {
                    // A fleet key rotation is under way and this member seals with the new key: re-seal
                    // now, so members that will hold only the new key can open the keys (as probers
                    // re-seal health verdicts). Losing the race to a rotation is fine: it seals anew.
                    map.replace(KEY, stored, seal.seal(opened.encode(), MemberConfig.TICKETS, KEY));
                }
                return opened;
            }
            TicketKeySet first = TicketKeySet.first(clock.getAsLong());
            byte[] sealed = seal.seal(first.encode(), MemberConfig.TICKETS, KEY);
            if (stored == null ? map.putIfAbsent(KEY, sealed) == null : map.replace(KEY, stored, sealed)) {
                return first;
            }
        }
    }

    /** Moves to the stored generation (after a split heals). */
    void refresh() {
        try {
            apply(open(map.get(KEY)));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "fleet ticket keys not read", e);
        }
    }

    @Override
    public synchronized TicketKeySet current() {
        return current;
    }

    @Override
    public Optional<TicketKeySet> rotate(long expectedVersion) {
        byte[] stored = map.get(KEY);
        TicketKeySet base = open(stored);
        if (base == null) {
            base = current(); // lost (a split) or forged: go on from what this member runs
        }
        if (base.version() != expectedVersion) {
            apply(base);
            return Optional.empty();
        }
        TicketKeySet next = base.next(clock.getAsLong());
        byte[] sealed = seal.seal(next.encode(), MemberConfig.TICKETS, KEY);
        boolean won = stored == null ? map.putIfAbsent(KEY, sealed) == null : map.replace(KEY, stored, sealed);
        if (!won) {
            refresh();
            return Optional.empty();
        }
        apply(next);
        return Optional.of(next);
    }

    private TicketKeySet open(byte[] sealed) {
        return sealed == null ? null : TicketKeySet.decode(seal.open(sealed, MemberConfig.TICKETS, KEY));
    }

    /** Takes {@code set} if its keys differ from the ones in force, and tells the listeners. */
    private void apply(TicketKeySet set) {
        if (set == null) {
            return;
        }
        TicketKeySet mine = current();
        if (mine != null && (set.sameKeys(mine) || set.version() < mine.version() && !merged(set))) {
            return;
        }
        synchronized (this) {
            current = set;
        }
        listeners.fire(set);
    }

    /**
     * After a split heals the map holds one half's generation, which may have a lower version than
     * the other half's: the stored one wins, whatever its number. Within one fleet, versions only grow,
     * so an older event arriving late is recognised by being older than what the map holds now.
     */
    private boolean merged(TicketKeySet set) {
        TicketKeySet stored = open(map.get(KEY));
        return stored != null && stored.sameKeys(set);
    }

    @Override
    public Runnable onChange(Consumer<TicketKeySet> listener) {
        return listeners.add(listener);
    }

    @Override
    public void close() {
        listeners.clear();
        if (hz.getLifecycleService().isRunning()) {
            map.removeEntryListener(registration);
            hz.getLifecycleService().removeLifecycleListener(lifecycle);
        }
    }

    private final class Events
            implements EntryAddedListener<String, byte[]>,
                    EntryUpdatedListener<String, byte[]>,
                    EntryMergedListener<String, byte[]> {
        @Override
        public void entryAdded(EntryEvent<String, byte[]> e) {
            apply(open(e.getValue()));
        }

        @Override
        public void entryUpdated(EntryEvent<String, byte[]> e) {
            apply(open(e.getValue()));
        }

        @Override
        public void entryMerged(EntryEvent<String, byte[]> e) {
            apply(open(e.getValue()));
        }
    }
}
