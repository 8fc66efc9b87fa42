package io.flotilla.cluster.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/** The single-node store: a Caffeine cache bounded by weight, each entry expiring at its removeAt. */
final class LocalResponseStore implements ResponseStore {

  private final Cache<String, StoredResponse> entries;
  private final LongSupplier clock;

  LocalResponseStore(long maxBytes, LongSupplier clock) {
    this.clock = clock;
    this.entries = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((String key, StoredResponse r) -> r.weight())
        .expireAfter(new UntilRemoveAt())
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.getAsLong()))
        .executor(Runnable::run) // eviction work on the caller: no pool thread per store
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
    entries.put(response.key(), response);
  }

  @Override
  public boolean remove(String key) {
    return entries.asMap().remove(key) != null;
  }

  @Override
  public int purgeUrl(String url) {
    return removeIf(r -> r.url().equals(url));
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
    entries.asMap().values().removeIf(r -> {
      boolean hit = matches.test(r);
      if (hit) {
        removed[0]++;
      }
      return hit;
    });
    return removed[0];
  }

  @Override
  public boolean tryClaimFill(String key, Duration lease) {
    return true;
  }

  @Override
  public void releaseFill(String key) {
  }

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
