package io.flotilla.node.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.cache.StoredResponse;
import io.flotilla.node.config.CacheConfig;
import io.flotilla.node.config.RouteCacheConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The node's HTTP cache: RFC 9111 semantics ({@link CachePolicy}) over a {@link ResponseStore}
 * (this process's memory, or the fleet's). One per node, shared by every event loop; it outlives
 * reloads, which only replace its settings. Requests use it through a {@link RouteCache}.
 */
public final class ResponseCache implements AutoCloseable {
    private final ResponseStore store;
    private final CacheStats stats = new CacheStats();
    private final LongSupplier clock;
    /** Fills in flight on this node, by primary key: how concurrent misses wait for one fetch. */
    final ConcurrentHashMap<String, Fill> fills = new ConcurrentHashMap<>();
    /**
     * Each stored entry's decoded head and what its headers say under the current settings, by entry
     * (identity): a hit does one lookup here instead of parsing. Cleared when the settings change.
     */
    private final Cache<StoredResponse, CachePolicy.Facts> facts = Caffeine.newBuilder()
            .weakKeys()
            .maximumSize(100_000)
            .executor(Runnable::run)
            .build();
    /**
     * Bodies of hot entries copied once to direct memory: a socket write of a heap array costs a copy
     * to direct memory every time, which for 64 KiB is a good share of a hit. Bounded by bytes; a
     * body leaves (and is released) when evicted, when its entry is gone, or at close.
     */
    private final Cache<StoredResponse, ByteBuf> directBodies = Caffeine.newBuilder()
            .weakKeys()
            .maximumWeight(64L << 20)
            .weigher((StoredResponse k, ByteBuf v) -> v.capacity())
            .removalListener((StoredResponse k, ByteBuf v, RemovalCause cause) -> {
                if (v != null) {
                    synchronized (v) {
                        v.release();
                    }
                }
            })
            .executor(Runnable::run)
            .build();
    /** Bodies smaller than this are written from the heap array: the copy is cheaper than the lookup. */
    private static final int DIRECT_MIN = 8 * 1024;

    private volatile CacheConfig config;
    /** Bodies being copied aside for the store, over every fill (a reload with a new limit starts a new count). */
    private volatile FillMemory fillMemory;

    public ResponseCache(ResponseStore store, CacheConfig config) {
        this(store, config, System::currentTimeMillis);
    }

    /** As {@link #ResponseCache(ResponseStore, CacheConfig)}, with the clock (epoch millis) it judges by. */
    public ResponseCache(ResponseStore store, CacheConfig config, LongSupplier clock) {
        this.store = store;
        this.config = config;
        this.clock = clock;
        this.entryPolicy = policy(config, false);
        this.fillMemory = new FillMemory(config.fillMemoryBytes());
    }

    /** What entries' freshness is judged by: everything in it but allowSetCookie is node-wide. */
    private volatile CachePolicy entryPolicy;

    private static CachePolicy policy(CacheConfig c, boolean allowSetCookie) {
        return new CachePolicy(
                c.targeted(), c.heuristicFraction(), c.heuristicMax().toMillis(), allowSetCookie);
    }

    /** A cache for one route, under the node's current cache settings. */
    public RouteCache forRoute(RouteCacheConfig route) {
        CacheConfig c = config;
        return new RouteCache(this, route, policy(c, route.allowSetCookie()), c);
    }

    /** New settings for routes compiled from now on (a reload); the stored entries stay. */
    public void configure(CacheConfig config) {
        this.config = config;
        this.entryPolicy = policy(config, false);
        if (config.fillMemoryBytes() != fillMemory.limit()) {
            fillMemory =
                    new FillMemory(config.fillMemoryBytes()); // fills under way give back to the one they took from
        }
        facts.invalidateAll();
    }

    FillMemory fillMemory() {
        return fillMemory;
    }

    /** Bytes of response bodies held by fills now, and the most they may hold. */
    public long fillMemoryInUse() {
        return fillMemory.inUse();
    }

    public long fillMemoryLimit() {
        return fillMemory.limit();
    }

    /**
     * The entry's head and freshness facts, worked out once per entry; null for head bytes of a
     * layout this build does not know (a miss, not a crash).
     */
    CachePolicy.Facts facts(StoredResponse entry) {
        CachePolicy.Facts f = facts.getIfPresent(entry);
        if (f == null) {
            CachedHead head = CachedHead.decode(entry.head());
            if (head == null) {
                return null;
            }
            f = entryPolicy.facts(head);
            facts.put(entry, f);
        }
        return f;
    }

    public CacheStats stats() {
        return stats;
    }

    ResponseStore store() {
        return store;
    }

    long now() {
        return clock.getAsLong();
    }

    /** The entry's body as a buffer to write: a retained duplicate of a direct copy for large bodies. */
    ByteBuf body(StoredResponse entry, int offset, int length) {
        byte[] bytes = entry.body();
        if (bytes.length < DIRECT_MIN) {
            return Unpooled.wrappedBuffer(bytes, offset, length);
        }
        ByteBuf direct = directBodies.get(entry, e -> {
            ByteBuf copy = Unpooled.directBuffer(bytes.length, bytes.length);
            copy.writeBytes(bytes);
            return copy.asReadOnly();
        });
        // retainedSlice is taken while the cache still holds its reference (a concurrent eviction
        // releases only the cache's own).
        synchronized (direct) {
            if (direct.refCnt() > 0) {
                return direct.retainedSlice(offset, length);
            }
        }
        return Unpooled.wrappedBuffer(bytes, offset, length);
    }

    public int purgeUrl(String url) {
        return counted(store.purgeUrl(url));
    }

    public int purgePrefix(String prefix) {
        return counted(store.purgePrefix(prefix));
    }

    public int purgeTag(String tag) {
        return counted(store.purgeTag(tag));
    }

    private int counted(int purged) {
        stats.count(CacheStats.Event.PURGED, purged);
        return purged;
    }

    /** Round trips this node has sent to the fleet's store, by kind (empty for a lone node). */
    public java.util.Map<String, Long> fleetOperations() {
        return store.fleetOperations();
    }

    public long entries() {
        return store.entryCount();
    }

    public long bytes() {
        return store.weightedSize();
    }

    /**
     * Releases what this cache holds itself (the direct copies of bodies); the store is the fleet's
     * and closes with it.
     */
    @Override
    public void close() {
        directBodies.invalidateAll();
        directBodies.cleanUp();
        facts.invalidateAll();
    }
}
