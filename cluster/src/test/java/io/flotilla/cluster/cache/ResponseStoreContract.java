package io.flotilla.cluster.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every {@link ResponseStore} must do; one subclass per implementation. */
public abstract class ResponseStoreContract {

    protected ResponseStore store;

    /** A fresh, empty store able to hold at least a few MiB. */
    protected abstract ResponseStore newStore();

    @BeforeEach
    void open() {
        store = newStore();
    }

    @AfterEach
    void close() {
        store.close();
    }

    protected static StoredResponse entry(String key, String url, long ttlMillis, String body, String... tags) {
        long now = System.currentTimeMillis();
        return new StoredResponse(
                key,
                url,
                Set.of(tags),
                now,
                now + ttlMillis,
                ("head of " + key).getBytes(StandardCharsets.UTF_8),
                body.getBytes(StandardCharsets.UTF_8));
    }

    protected StoredResponse read(String key) {
        return store.get(key).toCompletableFuture().join();
    }

    @Test
    void putThenGetReturnsTheSameBytes() {
        StoredResponse e = entry("GET http://a/x", "http://a/x", 60_000, "hello", "t1");
        store.put(e);
        StoredResponse back = read("GET http://a/x");
        assertNotNull(back);
        assertEquals(e, back);
        assertArrayEquals(e.body(), back.body());
        assertEquals(Set.of("t1"), back.tags());
    }

    @Test
    void absentKeyIsNull() {
        assertNull(read("GET http://a/none"));
    }

    @Test
    void putReplaces() {
        store.put(entry("k", "http://a/x", 60_000, "one"));
        store.put(entry("k", "http://a/x", 60_000, "two"));
        assertEquals("two", new String(read("k").body(), StandardCharsets.UTF_8));
    }

    @Test
    void entryIsNotReturnedAfterRemoveAt() throws InterruptedException {
        store.put(entry("short", "http://a/s", 300, "x"));
        assertNotNull(read("short"));
        Thread.sleep(700);
        assertNull(read("short"));
        assertNull(store.getIfLocal("short"));
    }

    @Test
    void removeOneKey() {
        store.put(entry("k1", "http://a/1", 60_000, "x"));
        assertTrue(store.remove("k1"));
        assertFalse(store.remove("k1"));
        assertNull(read("k1"));
    }

    @Test
    void purgeUrlRemovesEveryVariantOfThatUrlOnly() {
        store.put(entry("GET http://a/x", "http://a/x", 60_000, "plain"));
        store.put(entry("GET http://a/x\0gzip", "http://a/x", 60_000, "gz"));
        store.put(entry("GET http://a/xy", "http://a/xy", 60_000, "other"));
        assertEquals(2, store.purgeUrl("http://a/x"));
        assertNull(read("GET http://a/x"));
        assertNull(read("GET http://a/x\0gzip"));
        assertNotNull(read("GET http://a/xy"));
    }

    @Test
    void purgePrefix() {
        store.put(entry("1", "http://a/img/1.png", 60_000, "x"));
        store.put(entry("2", "http://a/img/2.png", 60_000, "x"));
        store.put(entry("3", "http://a/css/s.css", 60_000, "x"));
        assertEquals(2, store.purgePrefix("http://a/img/"));
        assertNull(read("1"));
        assertNull(read("2"));
        assertNotNull(read("3"));
    }

    @Test
    void purgeTag() {
        store.put(entry("1", "http://a/p/1", 60_000, "x", "product-1", "all"));
        store.put(entry("2", "http://a/p/2", 60_000, "x", "product-2", "all"));
        assertEquals(1, store.purgeTag("product-1"));
        assertNull(read("1"));
        assertNotNull(read("2"));
        assertEquals(1, store.purgeTag("all"));
        assertNull(read("2"));
    }

    @Test
    void weightIsBoundedByEviction() {
        String body = "b".repeat(64 * 1024);
        for (int i = 0; i < 400; i++) { // 25 MiB offered
            store.put(entry("big" + i, "http://a/big/" + i, 60_000, body));
        }
        assertTrue(store.weightedSize() <= maxBytes(), () -> "held " + store.weightedSize());
    }

    /** The bound the store under test was built with. */
    protected abstract long maxBytes();

    @Test
    void putAsyncIsVisibleWhenItsStageCompletes() {
        StoredResponse e = entry("GET http://a/async", "http://a/async", 60_000, "later");
        store.putAsync(e).toCompletableFuture().join();
        assertEquals(e, read("GET http://a/async"));
    }

    @Test
    void anAsyncFillClaimIsExclusiveUntilReleased() {
        assertTrue(store.tryClaimFillAsync("async-fill", java.time.Duration.ofSeconds(5))
                .toCompletableFuture()
                .join());
        assertEquals(
                !claimsAreShared(),
                store.tryClaimFill("async-fill", java.time.Duration.ofSeconds(5)),
                "a second claim while the first is held");
        store.releaseFill("async-fill");
        assertTrue(store.tryClaimFillAsync("async-fill", java.time.Duration.ofSeconds(5))
                .toCompletableFuture()
                .join());
        store.releaseFill("async-fill");
    }

    /** Whether a second claim on a held key is refused (a shared store) or granted (a lone node's). */
    protected boolean claimsAreShared() {
        return true;
    }

    @Test
    void fillClaimIsGrantedToTheFirstCaller() {
        assertTrue(store.tryClaimFill("fill-key", java.time.Duration.ofSeconds(5)));
        store.releaseFill("fill-key");
        assertTrue(store.tryClaimFill("fill-key", java.time.Duration.ofSeconds(5)));
        store.releaseFill("fill-key");
    }
}
