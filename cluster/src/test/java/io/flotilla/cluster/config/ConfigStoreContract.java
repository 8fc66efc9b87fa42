package io.flotilla.cluster.config;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every {@link ConfigStore} must do; one subclass per implementation. */
public abstract class ConfigStoreContract {

    protected ConfigStore store;

    /** A store over an empty history. */
    protected abstract ConfigStore newStore();

    /** Where a publish through {@link #store} is read back: the same or another member. */
    protected abstract ConfigStore reader();

    @BeforeEach
    void open() {
        store = newStore();
    }

    @AfterEach
    void close() {
        store.close();
    }

    private void readerSees(long version) {
        eventually(
                Duration.ofSeconds(5),
                () -> assertEquals(version, reader().history().currentVersion()));
    }

    @Test
    void firstPublishIsVersionOne() {
        assertEquals(0, store.history().currentVersion());
        ConfigVersion v = store.publish(0, "routes: []").orElseThrow();
        assertEquals(1, v.version());
        assertEquals("routes: []", v.document());
        assertEquals(v, store.current());
        readerSees(1);
        assertEquals("routes: []", reader().current().document());
    }

    @Test
    void aStalePublishIsRefused() {
        store.publish(0, "one").orElseThrow();
        assertTrue(store.publish(0, "two").isEmpty());
        assertEquals("one", store.current().document());
        assertEquals(2, store.publish(1, "two").orElseThrow().version());
    }

    @Test
    void rollbackPublishesThePreviousDocumentAsTheNextVersion() {
        assertTrue(store.rollback(0).isEmpty(), "nothing to roll back to");
        store.publish(0, "good");
        store.publish(1, "bad");
        assertTrue(store.rollback(1).isEmpty(), "stale");
        ConfigVersion back = store.rollback(2).orElseThrow();
        assertEquals(3, back.version());
        assertEquals("good", back.document());
        readerSees(3);
        assertEquals(
                List.of(3L, 2L, 1L),
                reader().versions().stream().map(ConfigVersion::version).toList());
    }

    @Test
    void everyVersionRecordsItsSourcePublisherAndDigest() {
        store.publish(0, "from: file", "file", "node-a").orElseThrow();
        store.publish(1, "from: sighup", "sighup", "node-a (signal)").orElseThrow();
        ConfigVersion back = store.rollback(2, "node-b (admin from 127.0.0.9)").orElseThrow();
        assertEquals("rollback to v1", back.source());
        readerSees(3);
        List<ConfigVersion> seen = reader().versions();
        assertEquals(
                List.of("rollback to v1", "sighup", "file"),
                seen.stream().map(ConfigVersion::source).toList());
        assertEquals(
                List.of("node-b (admin from 127.0.0.9)", "node-a (signal)", "node-a"),
                seen.stream().map(ConfigVersion::publisher).toList());
        assertEquals("from: file", seen.get(0).document(), "a rollback runs the version before the current one");
        assertEquals(seen.get(2).digest(), seen.get(0).digest());
        assertTrue(!seen.get(1).digest().equals(seen.get(0).digest())
                && seen.get(0).digest().length() == 12);
    }

    @Test
    void historyKeepsTheLastFew() {
        for (int i = 0; i < ConfigHistory.KEPT + 3; i++) {
            store.publish(i, "v" + (i + 1)).orElseThrow();
        }
        assertEquals(ConfigHistory.KEPT, store.versions().size());
        assertEquals(ConfigHistory.KEPT + 3, store.current().version());
    }

    @Test
    void listenersHearEachNewVersionOnce() {
        List<Long> heard = new CopyOnWriteArrayList<>();
        Runnable cancel = reader().onChange(v -> heard.add(v.version()));
        try {
            store.publish(0, "a");
            store.publish(1, "b");
            eventually(Duration.ofSeconds(5), () -> assertEquals(List.of(1L, 2L), heard));
        } finally {
            cancel.run();
        }
    }

    /**
     * A node applies fleet versions under its reload lock and publishes its own under the same lock:
     * a version from elsewhere arriving meanwhile must wait for the lock, not hold up the publish.
     */
    @Test
    void aListenerMayWaitForALockThePublisherHolds() throws Exception {
        Object reloadLock = new Object();
        CountDownLatch waiting = new CountDownLatch(1);
        List<Long> applied = new CopyOnWriteArrayList<>();
        Runnable cancel = store.onChange(v -> {
            waiting.countDown();
            synchronized (reloadLock) {
                applied.add(v.version());
            }
        });
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<Optional<ConfigVersion>> mine = threads.submit(() -> {
                synchronized (reloadLock) {
                    threads.submit(() -> reader().publish(0, "from elsewhere")); // another node's version
                    assertTrue(waiting.await(5, TimeUnit.SECONDS), "the other version reached the listener");
                    return store.publish(1, "mine");
                }
            });
            assertEquals(2, mine.get(10, TimeUnit.SECONDS).orElseThrow().version(), "published under the lock");
            eventually(Duration.ofSeconds(5), () -> assertEquals(List.of(1L, 2L), applied));
        } finally {
            cancel.run();
            threads.shutdownNow();
        }
    }
}
