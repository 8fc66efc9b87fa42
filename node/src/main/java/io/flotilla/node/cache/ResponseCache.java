package io.flotilla.node.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.cache.StoredResponse;
import io.flotilla.node.config.CacheConfig;
import io.flotilla.node.config.RouteCacheConfig;

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
    /** Decoded heads by stored entry (identity), so a hit does not parse its head again. */
    private final Cache<StoredResponse, CachedHead> decoded = Caffeine.newBuilder()
            .weakKeys().maximumSize(100_000).executor(Runnable::run).build();
    /** What each entry's headers say under the current settings; cleared when they change. */
    private final Cache<StoredResponse, CachePolicy.Facts> facts = Caffeine.newBuilder()
            .weakKeys().maximumSize(100_000).executor(Runnable::run).build();
    private volatile CacheConfig config;

    public ResponseCache(ResponseStore store, CacheConfig config) {
        this(store, config, System::currentTimeMillis);
    }

    ResponseCache(ResponseStore store, CacheConfig config, LongSupplier clock) {
        this.store = store;
        this.config = config;
        this.clock = clock;
    }

    /** A cache for one route, under the node's current cache settings. */
    public RouteCache forRoute(RouteCacheConfig route) {
        CacheConfig c = config;
        return new RouteCache(this, route, new CachePolicy(c.targeted(), c.heuristicFraction(),
                c.heuristicMax().toMillis(), route.allowSetCookie()), c);
    }

    /** New settings for routes compiled from now on (a reload); the stored entries stay. */
    public void configure(CacheConfig config) {
        this.config = config;
        facts.invalidateAll();
    }

    /** The entry's freshness facts, worked out once per entry. */
    CachePolicy.Facts facts(StoredResponse entry, CachedHead head, CachePolicy policy) {
        CachePolicy.Facts f = facts.getIfPresent(entry);
        if (f == null) {
            f = policy.facts(head);
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

    /** The head of a stored entry, decoded once per entry; null for bytes of an unknown layout. */
    CachedHead head(StoredResponse entry) {
        CachedHead head = decoded.getIfPresent(entry);
        if (head == null) {
            head = CachedHead.decode(entry.head());
            if (head != null) {
                decoded.put(entry, head);
            }
        }
        return head;
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

    public long entries() {
        return store.entryCount();
    }

    public long bytes() {
        return store.weightedSize();
    }

    @Override
    public void close() {
        store.close();
    }
}
