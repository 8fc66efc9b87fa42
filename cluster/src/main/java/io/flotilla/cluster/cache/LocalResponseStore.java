package io.flotilla.cluster.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/** The single-node store: a Caffeine cache bounded by weight, each entry expiring at its removeAt. */
final class LocalResponseStore implements ResponseStore {

    private final Cache<String, StoredResponse> entries;
    private final LongSupplier clock;
    /** Keys by URL, so a URL purge (an invalidation on the event loop) touches only its own entries. */
    private final ConcurrentHashMap<String, Set<String>> byUrl = new ConcurrentHashMap<>();

    LocalResponseStore(long maxBytes, LongSupplier clock) {
        this.clock = clock;
        this.entries = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((String key, StoredResponse r) -> r.weight())
                .expireAfter(new UntilRemoveAt())
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.getAsLong()))
                .executor(Runnable::run) // eviction work on the caller: no pool thread per store
                .evictionListener((String key, StoredResponse r, RemovalCause cause) -> unindex(key, r))
                .build();
    }

    @Override
    public StoredResponse getIfLocal(String key) {
        StoredResponse r = entries.getIfPresent(key);
        return r == null || r.removeAt() <= clock.getAsLong() ? null : r;
    }

    @Override
    public CompletionStage<StoredResponse> get(String key) {
        return CompletableFuture.completedFuture(getIfLocal(key));
    }

    @Override
    public void put(StoredResponse response) {
        byUrl.computeIfAbsent(response.url(), u -> ConcurrentHashMap.newKeySet())
                .add(response.key());
        StoredResponse replaced = entries.asMap().put(response.key(), response);
        if (replaced != null && !replaced.url().equals(response.url())) {
            unindex(replaced.key(), replaced);
        }
    }

    @Override
    public boolean remove(String key) {
        StoredResponse removed = entries.asMap().remove(key);
        unindex(key, removed);
        return removed != null;
    }

    private void unindex(String key, StoredResponse r) {
        if (key != null && r != null) {
            byUrl.computeIfPresent(r.url(), (u, keys) -> {
                keys.remove(key);
                return keys.isEmpty() ? null : keys;
            });
        }
    }

    @Override
    public int purgeUrl(String url) {
        Set<String> keys = byUrl.remove(url);
        if (keys == null) {
            return 0;
        }
        int removed = 0;
        for (String key : keys) {
            boolean[] hit = {false};
            entries.asMap().computeIfPresent(key, (k, r) -> {
                if (r.url().equals(url)) {
                    hit[0] = true;
                    return null;
                }
                return r;
            });
            removed += hit[0] ? 1 : 0;
        }
        return removed;
    }

    @Override
    public int purgePrefix(String prefix) {
        return removeIf(r -> r.url().startsWith(prefix));
    }

    @Override
    public int purgeTag(String tag) {
        return removeIf(r -> r.tags().contains(tag));
    }

    private int removeIf(Predicate<StoredResponse> matches) {
        int[] removed = {0};
        entries.asMap().entrySet().removeIf(e -> {
            boolean hit = matches.test(e.getValue());
            if (hit) {
                removed[0]++;
                unindex(e.getKey(), e.getValue());
            }
            return hit;
        });
        return removed[0];
    }

    @Override
    public CompletionStage<Lookup> getOrClaim(String key, Duration lease) {
        StoredResponse r = getIfLocal(key);
        return CompletableFuture.completedFuture(r == null ? Lookup.CLAIMED : Lookup.of(r));
    }

    @Override
    public boolean tryClaimFill(String key, Duration lease) {
        return true;
    }

    @Override
    public void releaseFill(String key) {}

    @Override
    public long entryCount() {
        return entries.estimatedSize();
    }

    @Override
    public long weightedSize() {
        return entries.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    @Override
    public void close() {
        entries.invalidateAll();
        byUrl.clear();
    }

    /** Each entry lives until its own removeAt; a replacement brings its own. */
    private final class UntilRemoveAt implements Expiry<String, StoredResponse> {
        @Override
        public long expireAfterCreate(String key, StoredResponse r, long now) {
            return TimeUnit.MILLISECONDS.toNanos(r.lifetimeMillis(clock.getAsLong()));
        }

        @Override
        public long expireAfterUpdate(String key, StoredResponse r, long now, long remaining) {
            return expireAfterCreate(key, r, now);
        }

        @Override
        public long expireAfterRead(String key, StoredResponse r, long now, long remaining) {
            return remaining;
        }
    }
}
