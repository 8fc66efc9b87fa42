package io.flotilla.cluster.cache;

import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * One stored response as the store sees it. The head (status, headers, freshness facts) is opaque
 * bytes that only the node reads; the store needs no more than the key, the URL and tags for purges,
 * and the time after which the entry is useless (freshness plus the longest stale window).
 *
 * @param key        the full cache key (primary key, plus the secondary key of a Vary variant)
 * @param url        the absolute URL the response belongs to, what URL and prefix purges match
 * @param tags       purge tags taken from the response (Surrogate-Key, Cache-Tag), possibly empty
 * @param storedAt   epoch millis when the response was received
 * @param removeAt   epoch millis after which no request may be served from this entry
 * @param head       serialized head, written and read by the node
 * @param body       the whole body
 */
public record StoredResponse(
        String key, String url, Set<String> tags, long storedAt, long removeAt, byte[] head, byte[] body) {

    public StoredResponse {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(url, "url");
        tags = Set.copyOf(tags);
        Objects.requireNonNull(head, "head");
        Objects.requireNonNull(body, "body");
    }

    /** What the entry costs the store, in bytes, for size-bounded eviction. */
    public int weight() {
        return head.length + body.length + 2 * (key.length() + url.length()) + 64;
    }

    /** Milliseconds the store should keep the entry from {@code now}; at least 1. */
    public long lifetimeMillis(long now) {
        return Math.max(1, removeAt - now);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoredResponse r
                && key.equals(r.key)
                && url.equals(r.url)
                && tags.equals(r.tags)
                && storedAt == r.storedAt
                && removeAt == r.removeAt
                && Arrays.equals(head, r.head)
                && Arrays.equals(body, r.body);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, storedAt, removeAt);
    }

    @Override
    public String toString() {
        return "StoredResponse[" + key + ", " + body.length + " body bytes, tags=" + tags + "]";
    }
}
