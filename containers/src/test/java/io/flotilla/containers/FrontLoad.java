package io.flotilla.containers;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests through the front one after another, each on a new connection, over a set of cached paths,
 * counting failures (an error or a status other than 200) while a test does something to the fleet.
 * Bounded: it stops by itself after 5 minutes or 50,000 requests.
 */
final class FrontLoad implements AutoCloseable {
    private static final long MAX_NANOS = TimeUnit.MINUTES.toNanos(5);
    private static final int MAX_REQUESTS = 50_000;

    /** One request through the front. */
    interface Fetch {
        RawHttp.Response get(String path) throws IOException;
    }

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger failures = new AtomicInteger();
    private final List<String> firstFailures = new ArrayList<>();
    private final Thread thread;

    FrontLoad(Fetch fetch, int keys) {
        thread = new Thread(
                () -> {
                    long end = System.nanoTime() + MAX_NANOS;
                    for (int i = 0; !stop.get() && i < MAX_REQUESTS && System.nanoTime() < end; i++) {
                        String path = "/cached/k" + (i % keys);
                        String failure = null;
                        try {
                            RawHttp.Response r = fetch.get(path);
                            if (r.status() != 200) {
                                failure = path + ": " + r.status();
                            }
                        } catch (IOException e) {
                            failure = path + ": " + e;
                        }
                        if (failure != null) {
                            failures.incrementAndGet();
                            synchronized (firstFailures) {
                                if (firstFailures.size() < 5) {
                                    firstFailures.add(failure);
                                }
                            }
                        }
                        requests.incrementAndGet();
                    }
                },
                "front-load");
        thread.setDaemon(true);
        thread.start();
    }

    int requests() {
        return requests.get();
    }

    int failures() {
        return failures.get();
    }

    /** Waits until at least {@code n} requests are done (at most a minute). */
    void awaitRequests(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (requests.get() < n && thread.isAlive()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("front load stalled: " + this);
            }
            Thread.sleep(20);
        }
    }

    void stop() throws InterruptedException {
        stop.set(true);
        thread.join(30_000);
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    @Override
    public String toString() {
        synchronized (firstFailures) {
            return requests + " requests, " + failures + " failed " + firstFailures;
        }
    }
}
