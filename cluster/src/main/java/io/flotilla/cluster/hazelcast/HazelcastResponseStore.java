package io.flotilla.cluster.hazelcast;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
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
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The fleet's response cache: a partitioned map with one backup, in front of it a near cache of
 * this member's own (a weight-bounded Caffeine store) so {@link #getIfLocal} never waits on the
 * network. Hazelcast's own near cache has no local-only read, which the hot path needs, hence ours;
 * it is kept coherent by the map's entry events (every put, update, removal, eviction, expiry) and
 * by the purge log, whose records every member applies to its near cache as they arrive.
 */
final class HazelcastResponseStore implements ResponseStore {

  private static final Logger LOG = Logger.getLogger(HazelcastResponseStore.class.getName());
  private static final int STRIPES = 64;

  private final IMap<String, StoredResponse> map;
  private final IMap<String, String> fills;
  /** Keys this member just wrote, so its own add/update event does not drop what it put in its near cache. */
  private final java.util.concurrent.ConcurrentHashMap<String, Boolean> ownWrites = new java.util.concurrent.ConcurrentHashMap<>();
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

  HazelcastResponseStore(HazelcastInstance hz, String memberId, long entryMaxBytes, long nearCacheMaxBytes,
                         Duration purgeRetention, ScheduledExecutorService background) {
    this.hz = hz;
    this.map = hz.getMap(MemberConfig.RESPONSES);
    this.fills = hz.getMap(MemberConfig.FILLS);
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
    return map.getAsync(key).thenApply(r -> {
      if (r == null || r.removeAt() <= System.currentTimeMillis()) {
        return null;
      }
      if (invalidations.get(stripe) == before) {
        near.put(r);
      }
      return r;
    });
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
    if (ownWrites.size() < 10_000) {
      ownWrites.put(r.key(), Boolean.TRUE);
    }
    // Hazelcast keeps expiry times in whole seconds, so a short TTL could round to "already gone":
    // keep it up to a second longer there; get() never returns an entry past its removeAt.
    return map.setAsync(r.key(), r, (ttl / 1000 + 1) * 1000, TimeUnit.MILLISECONDS).thenRun(() -> {
      // The node that stored it reads it next without a network get (its own add event is ignored
      // below); a write of the same key by anyone meanwhile leaves it out.
      if (invalidations.get(stripe) == before) {
        near.put(r);
      }
    });
  }

  @Override
  public boolean remove(String key) {
    invalidate(key);
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
    // Not on the shared background thread: a burst of misses would queue their releases behind each
    // other (and behind rate-counter syncs). Check, then remove: the window in which our expired
    // claim could be someone else's is one round trip, and costs at most one extra origin fetch.
    fills.getAsync(key).thenAccept(holder -> {
      if (memberId.equals(holder)) {
        fills.removeAsync(key);
      }
    });
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
    PurgeRecord record = new PurgeRecord(UUID.randomUUID().toString(), kind, value, now, memberId);
    purges.set(record.id(), record, purgeRetentionMillis, TimeUnit.MILLISECONDS);
    kind.applyTo(near, value);
    return apply(kind, value, Long.MAX_VALUE);
  }

  private int apply(PurgeKind kind, String value, long storedBefore) {
    int removed = 0;
    for (Object done : map.executeOnEntries(new PurgeProcessor(kind, value, storedBefore),
        kind.predicate(value)).values()) {
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
    return fills.submitToKey(key, new ClaimFill(memberId, Math.max(1, lease.toMillis())));
  }

  @Override
  public void releaseFill(String key) {
    fills.remove(key, memberId); // only our own claim: a late release must not free someone else's
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

  /** Drops a key from the near cache on every change of it anywhere in the fleet. */
  private final class Invalidator implements EntryAddedListener<String, StoredResponse>,
      EntryUpdatedListener<String, StoredResponse>, EntryRemovedListener<String, StoredResponse>,
      EntryEvictedListener<String, StoredResponse>, EntryExpiredListener<String, StoredResponse>,
      EntryMergedListener<String, StoredResponse>, MapClearedListener {

    @Override
    public void entryAdded(EntryEvent<String, StoredResponse> e) {
      if (!mine(e)) {
        invalidate(e.getKey());
      }
    }

    @Override
    public void entryUpdated(EntryEvent<String, StoredResponse> e) {
      if (!mine(e)) {
        invalidate(e.getKey());
      }
    }

    /**
     * The event of a write this member made, whose value its near cache holds already (putAsync).
     * Events of one key come in the order of its partition, so consuming the mark on the first event
     * after our write is safe: a write by another member before ours would only cost our near copy,
     * one after ours comes later and invalidates it.
     */
    private boolean mine(EntryEvent<String, StoredResponse> e) {
      return ownWrites.remove(e.getKey()) != null;
    }

    @Override
    public void entryRemoved(EntryEvent<String, StoredResponse> e) {
      invalidate(e.getKey());
    }

    @Override
    public void entryEvicted(EntryEvent<String, StoredResponse> e) {
      invalidate(e.getKey());
    }

    @Override
    public void entryExpired(EntryEvent<String, StoredResponse> e) {
      invalidate(e.getKey());
    }

    @Override
    public void entryMerged(EntryEvent<String, StoredResponse> e) {
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
  private final class NearPurger implements EntryAddedListener<String, PurgeRecord>,
      EntryMergedListener<String, PurgeRecord> {

    @Override
    public void entryAdded(EntryEvent<String, PurgeRecord> e) {
      e.getValue().kind().applyTo(near, e.getValue().value());
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
      if (p != null) {
        background.execute(() -> apply(p.kind(), p.value(), p.issuedAt()));
      }
    }
  }
}
