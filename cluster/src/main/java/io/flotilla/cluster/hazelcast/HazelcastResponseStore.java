package io.flotilla.cluster.hazelcast;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.internal.util.ConcurrencyUtil;
import com.hazelcast.map.IMap;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryMergedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.map.listener.MapClearedListener;
import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.cache.StoredResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The fleet's response cache: a partitioned map with one backup, in front of it a near cache of
 * this member's own (a weight-bounded Caffeine store) so {@link #getIfLocal} never waits on the
 * network. Hazelcast's own near cache has no local-only read, which the hot path needs, hence ours;
 * it is kept coherent by the map's entry events (every put, update, removal, eviction, expiry) and
 * by the purge log, whose records every member applies to its near cache as they arrive.
 *
 * <p>A miss is two round trips: {@link GetOrClaim} (the entry, or the fill claim) and the put of
 * the response, which replaces the claim (see {@link CacheSlot}). Completions run on the thread
 * that completes Hazelcast's future and hand the result to a plain CompletableFuture, so the
 * caller's own continuation (the node hops to its event loop) is the only hand-off.
 */
final class HazelcastResponseStore implements ResponseStore {

    private static final Logger LOG = Logger.getLogger(HazelcastResponseStore.class.getName());
    private static final int STRIPES = 64;
    private static final byte[] NO_BYTES = new byte[0];

    private final IMap<String, CacheSlot> map;
    private final IMap<String, PurgeRecord> purges;
    private final ResponseStore near;
    private final String memberId;
    private final long entryMaxBytes;
    private final long purgeRetentionMillis;
    private final ScheduledExecutorService background;
    /**
     * Invalidations seen per key stripe. A remote read fills the near cache only when no invalidation
     * of its stripe arrived while it was in flight: otherwise an old value read before an update could
     * land after the update's event and stay.
     */
    private final AtomicLongArray invalidations = new AtomicLongArray(STRIPES);

    private final UUID mapListener;
    private final UUID purgeListener;
    private final UUID purgeMergeListener;
    private final UUID lifecycleListener;
    private final HazelcastInstance hz;
    private final ValueSeal seal;
    private final Map<String, LongAdder> operations = new LinkedHashMap<>();
    private final LongAdder getOrClaims = op("get_or_claim");
    private final LongAdder gets = op("get");
    private final LongAdder stores = op("store");
    private final LongAdder claims = op("claim");
    private final LongAdder releases = op("release");
    private final LongAdder purgeOps = op("purge");

    HazelcastResponseStore(
            HazelcastInstance hz,
            String memberId,
            long entryMaxBytes,
            long nearCacheMaxBytes,
            Duration purgeRetention,
            ScheduledExecutorService background,
            ValueSeal seal) {
        this.hz = hz;
        this.seal = seal;
        this.map = hz.getMap(MemberConfig.RESPONSES);
        PacedEviction.install(hz, MemberConfig.RESPONSES);
        this.purges = hz.getMap(MemberConfig.PURGES);
        this.near = ResponseStore.local(Math.max(1, nearCacheMaxBytes));
        this.memberId = memberId;
        this.entryMaxBytes = entryMaxBytes;
        this.purgeRetentionMillis = purgeRetention.toMillis();
        this.background = background;
        this.mapListener = map.addEntryListener(new Invalidator(), false);
        this.purgeListener = purges.addEntryListener(new NearPurger(), true);
        this.purgeMergeListener = purges.addLocalEntryListener(new MergedPurgeReplayer());
        this.lifecycleListener = hz.getLifecycleService().addLifecycleListener(e -> {
            if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
                background.execute(this::replayPurgeLog); // not on Hazelcast's event thread: it runs queries
            }
        });
    }

    @Override
    public StoredResponse getIfLocal(String key) {
        return near.getIfLocal(key);
    }

    @Override
    public CompletionStage<StoredResponse> get(String key) {
        StoredResponse local = near.getIfLocal(key);
        if (local != null) {
            return CompletableFuture.completedFuture(local);
        }
        int stripe = stripe(key);
        long before = invalidations.get(stripe);
        gets.increment();
        CompletableFuture<StoredResponse> out = new CompletableFuture<>();
        map.getAsync(key)
                .whenCompleteAsync(
                        (slot, error) -> {
                            if (error != null) {
                                out.completeExceptionally(error);
                            } else {
                                out.complete(keepNear(
                                        opened(slot == null ? null : slot.live(System.currentTimeMillis())),
                                        stripe,
                                        before));
                            }
                        },
                        ConcurrencyUtil.CALLER_RUNS);
        return out;
    }

    @Override
    public CompletionStage<Lookup> getOrClaim(String key, Duration lease) {
        StoredResponse local = near.getIfLocal(key);
        if (local != null) {
            return CompletableFuture.completedFuture(Lookup.of(local));
        }
        int stripe = stripe(key);
        long before = invalidations.get(stripe);
        getOrClaims.increment();
        CompletableFuture<Lookup> out = new CompletableFuture<>();
        map.submitToKey(key, new GetOrClaim(memberId, Math.max(1, lease.toMillis())))
                .whenCompleteAsync(
                        (found, error) -> {
                            if (error != null) {
                                out.completeExceptionally(error);
                            } else if (found instanceof StoredResponse || found instanceof CacheSlot) {
                                // The owner answers with the slot as it rests (or, from an older member, the response).
                                StoredResponse plain =
                                        opened(found instanceof CacheSlot s ? s.response() : (StoredResponse) found);
                                // A value that does not open is no entry, and no claim was taken: the caller claims
                                // apart.
                                out.complete(
                                        plain == null
                                                ? new Lookup(null, Claim.NONE)
                                                : Lookup.of(keepNear(plain, stripe, before)));
                            } else {
                                out.complete(Boolean.TRUE.equals(found) ? Lookup.CLAIMED : Lookup.BUSY);
                            }
                        },
                        ConcurrencyUtil.CALLER_RUNS);
        return out;
    }

    /**
     * Keeps a remote read in the near cache unless an invalidation of its stripe arrived while it was
     * in flight: an old value read before an update could otherwise land after the update's event.
     */
    /**
     * The response as it travels and rests in the fleet: head and body sealed together with the fleet
     * key, bound to the map, the key and the fields the owner reads in the clear (URL and tags for
     * purges, times for expiry), so none of them can be altered or moved to another key. Member
     * connections are encrypted already; this is what keeps a writer without the key from planting a
     * response every node would serve. Without a secret, the response itself.
     */
    private StoredResponse sealed(StoredResponse r) {
        if (!seal.enabled()) {
            return r;
        }
        byte[] plain = ByteBuffer.allocate(4 + r.head().length + r.body().length)
                .putInt(r.head().length)
                .put(r.head())
                .put(r.body())
                .array();
        return new StoredResponse(
                r.key(),
                r.url(),
                r.tags(),
                r.storedAt(),
                r.removeAt(),
                seal.seal(plain, MemberConfig.RESPONSES, boundFields(r)),
                NO_BYTES);
    }

    /** The plain response, or null (counted and logged as a forged value) if it does not open. */
    private StoredResponse opened(StoredResponse r) {
        if (r == null || !seal.enabled()) {
            return r;
        }
        byte[] plain = seal.open(r.head(), MemberConfig.RESPONSES, boundFields(r));
        if (plain == null || plain.length < 4) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(plain);
        int headLength = b.getInt();
        if (headLength < 0 || headLength > b.remaining()) {
            return null;
        }
        byte[] head = new byte[headLength];
        b.get(head);
        byte[] body = new byte[b.remaining()];
        b.get(body);
        return new StoredResponse(r.key(), r.url(), r.tags(), r.storedAt(), r.removeAt(), head, body);
    }

    /** Whether a purge record was written by a member with the fleet key (a forged one is counted and logged). */
    private boolean genuine(PurgeRecord p) {
        return p != null && p.proof() != null && seal.open(p.proof(), MemberConfig.PURGES, p.boundFields()) != null;
    }

    /** What a cached response's seal is bound to besides the map: its key and every field read in the clear. */
    static String boundFields(StoredResponse r) {
        return r.key()
                + '\n'
                + r.url()
                + '\n'
                + new java.util.TreeSet<>(r.tags())
                + '\n'
                + r.storedAt()
                + '\n'
                + r.removeAt();
    }

    private StoredResponse keepNear(StoredResponse r, int stripe, long before) {
        if (r != null && invalidations.get(stripe) == before) {
            near.put(r);
        }
        return r;
    }

    @Override
    public void put(StoredResponse r) {
        putAsync(r).toCompletableFuture().join();
    }

    @Override
    public CompletionStage<Void> putAsync(StoredResponse r) {
        long ttl = r.removeAt() - System.currentTimeMillis();
        if (ttl <= 0 || r.weight() > entryMaxBytes) {
            // Expired already, or over the per-entry limit: not worth a fleet-wide copy.
            return CompletableFuture.completedFuture(null);
        }
        invalidate(r.key());
        int stripe = stripe(r.key());
        long before = invalidations.get(stripe);
        // Hazelcast keeps expiry times in whole seconds, so a short TTL could round to "already gone":
        // keep it up to a second longer there; get() never returns an entry past its removeAt.
        stores.increment();
        CompletableFuture<Void> out = new CompletableFuture<>();
        // The put replaces the slot, so it releases this node's fill claim on the key too.
        map.setAsync(r.key(), CacheSlot.of(sealed(r)), (ttl / 1000 + 1) * 1000, TimeUnit.MILLISECONDS)
                .whenCompleteAsync(
                        (v, error) -> {
                            if (error != null) {
                                out.completeExceptionally(error);
                                return;
                            }
                            // The node that stored it reads it next without a network get (its own event is ignored
                            // below); a write of the same key by anyone meanwhile leaves it out.
                            keepNear(r, stripe, before);
                            out.complete(null);
                        },
                        ConcurrencyUtil.CALLER_RUNS);
        return out;
    }

    @Override
    public boolean remove(String key) {
        invalidate(key);
        purgeOps.increment();
        return Boolean.TRUE.equals(map.executeOnKey(key, new PurgeProcessor(PurgeKind.KEY, key, Long.MAX_VALUE)));
    }

    @Override
    public int purgeUrl(String url) {
        return purge(PurgeKind.URL, url);
    }

    @Override
    public CompletionStage<Integer> purgeUrlAsync(String url) {
        return CompletableFuture.supplyAsync(() -> purgeUrl(url), background);
    }

    @Override
    public void releaseFillAsync(String key) {
        releases.increment();
        map.submitToKey(key, new ReleaseClaim(memberId));
    }

    @Override
    public int purgePrefix(String prefix) {
        return purge(PurgeKind.PREFIX, prefix);
    }

    @Override
    public int purgeTag(String tag) {
        return purge(PurgeKind.TAG, tag);
    }

    /**
     * Logs the purge (so it reaches every near cache now and is re-applied after a partition heals),
     * then removes the matching entries where they live.
     */
    private int purge(PurgeKind kind, String value) {
        long now = System.currentTimeMillis();
        PurgeRecord unproven = new PurgeRecord(UUID.randomUUID().toString(), kind, value, now, memberId, NO_BYTES);
        PurgeRecord record = new PurgeRecord(
                unproven.id(),
                kind,
                value,
                now,
                memberId,
                seal.seal(NO_BYTES, MemberConfig.PURGES, unproven.boundFields()));
        purgeOps.increment();
        purges.set(record.id(), record, purgeRetentionMillis, TimeUnit.MILLISECONDS);
        kind.applyTo(near, value);
        return apply(kind, value, Long.MAX_VALUE);
    }

    private int apply(PurgeKind kind, String value, long storedBefore) {
        int removed = 0;
        for (Object done : map.executeOnEntries(new PurgeProcessor(kind, value, storedBefore), kind.predicate(value))
                .values()) {
            if (Boolean.TRUE.equals(done)) {
                removed++;
            }
        }
        return removed;
    }

    /** Re-applies every logged purge to entries stored before it; run after this member merged. */
    void replayPurgeLog() {
        try {
            for (PurgeRecord p : purges.values()) {
                if (!genuine(p)) {
                    continue;
                }
                p.kind().applyTo(near, p.value());
                apply(p.kind(), p.value(), p.issuedAt());
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "purge log not replayed after merge", e);
        }
    }

    @Override
    public boolean tryClaimFill(String key, Duration lease) {
        return tryClaimFillAsync(key, lease).toCompletableFuture().join();
    }

    @Override
    public CompletionStage<Boolean> tryClaimFillAsync(String key, Duration lease) {
        claims.increment();
        CompletableFuture<Boolean> out = new CompletableFuture<>();
        map.submitToKey(key, new ClaimFill(memberId, Math.max(1, lease.toMillis())))
                .whenCompleteAsync(
                        (granted, error) -> {
                            if (error != null) {
                                out.completeExceptionally(error);
                            } else {
                                out.complete(granted);
                            }
                        },
                        ConcurrencyUtil.CALLER_RUNS);
        return out;
    }

    @Override
    public void releaseFill(String key) {
        releases.increment();
        map.executeOnKey(
                key, new ReleaseClaim(memberId)); // only our own claim: a late release must not free someone else's
    }

    @Override
    public Map<String, Long> fleetOperations() {
        Map<String, Long> counts = new LinkedHashMap<>();
        operations.forEach((kind, n) -> counts.put(kind, n.sum()));
        return counts;
    }

    private LongAdder op(String kind) {
        LongAdder n = new LongAdder();
        operations.put(kind, n);
        return n;
    }

    @Override
    public long entryCount() {
        return map.getLocalMapStats().getOwnedEntryCount() + near.entryCount();
    }

    @Override
    public long weightedSize() {
        return map.getLocalMapStats().getOwnedEntryMemoryCost() + near.weightedSize();
    }

    @Override
    public void close() {
        if (hz.getLifecycleService().isRunning()) {
            map.removeEntryListener(mapListener);
            purges.removeEntryListener(purgeListener);
            purges.removeEntryListener(purgeMergeListener);
            hz.getLifecycleService().removeLifecycleListener(lifecycleListener);
        }
        near.close();
    }

    private static int stripe(String key) {
        return (key.hashCode() & 0x7fffffff) % STRIPES;
    }

    private void invalidate(String key) {
        invalidations.incrementAndGet(stripe(key));
        near.remove(key);
    }

    /**
     * Drops a key from the near cache on every change of it anywhere in the fleet. Additions are not
     * listened to (a key no member holds cannot be in a near cache: its removal, expiry or eviction
     * invalidated it), which spares every member an event per fill claim and per first store; and
     * this member's own updates are skipped (its near cache holds what it wrote).
     */
    private final class Invalidator
            implements EntryUpdatedListener<String, CacheSlot>,
                    EntryRemovedListener<String, CacheSlot>,
                    EntryEvictedListener<String, CacheSlot>,
                    EntryExpiredListener<String, CacheSlot>,
                    EntryMergedListener<String, CacheSlot>,
                    MapClearedListener {

        @Override
        public void entryUpdated(EntryEvent<String, CacheSlot> e) {
            // The event names the member whose operation caused it. Events of one key arrive in its
            // partition's order, so a later write by another member still invalidates our copy.
            if (e.getMember() == null || !e.getMember().localMember()) {
                invalidate(e.getKey());
            }
        }

        @Override
        public void entryRemoved(EntryEvent<String, CacheSlot> e) {
            invalidate(e.getKey());
        }

        @Override
        public void entryEvicted(EntryEvent<String, CacheSlot> e) {
            invalidate(e.getKey());
        }

        @Override
        public void entryExpired(EntryEvent<String, CacheSlot> e) {
            invalidate(e.getKey());
        }

        @Override
        public void entryMerged(EntryEvent<String, CacheSlot> e) {
            invalidate(e.getKey());
        }

        @Override
        public void mapCleared(MapEvent e) {
            for (int i = 0; i < STRIPES; i++) {
                invalidations.incrementAndGet(i);
            }
            near.purgePrefix("");
        }
    }

    /** Applies every purge logged anywhere to this member's near cache. */
    private final class NearPurger
            implements EntryAddedListener<String, PurgeRecord>, EntryMergedListener<String, PurgeRecord> {

        @Override
        public void entryAdded(EntryEvent<String, PurgeRecord> e) {
            if (genuine(e.getValue())) {
                e.getValue().kind().applyTo(near, e.getValue().value());
            }
        }

        @Override
        public void entryMerged(EntryEvent<String, PurgeRecord> e) {
            entryAdded(e);
        }
    }

    /**
     * On the member owning a purge record that arrived by a split-brain merge (issued in the other
     * half), re-applies it to the whole map: entries the other half stored before it go.
     */
    private final class MergedPurgeReplayer implements EntryMergedListener<String, PurgeRecord> {
        @Override
        public void entryMerged(EntryEvent<String, PurgeRecord> e) {
            PurgeRecord p = e.getValue();
            if (p != null && genuine(p)) {
                background.execute(() -> apply(p.kind(), p.value(), p.issuedAt()));
            }
        }
    }
}
