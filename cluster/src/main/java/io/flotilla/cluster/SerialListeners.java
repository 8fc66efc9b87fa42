package io.flotilla.cluster;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Listeners told on one thread of their own, in the order the changes were handed over, never on
 * the thread that made the change. That thread may hold a lock a listener takes (a node publishing
 * its config under its reload lock, whose listener applies versions under the same lock): told on
 * the publisher's thread, or under a lock the publisher also needs, the two wait for each other.
 * The thread exists only while changes are pending.
 */
public final class SerialListeners<T> {

    private final Listeners<T> listeners;
    private final ThreadPoolExecutor thread;

    /** {@code what} names the change in the thread's name and in a failing listener's log line. */
    public SerialListeners(String what) {
        this.listeners = new Listeners<>(what);
        this.thread = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "flotilla-" + what + "-listeners");
            t.setDaemon(true);
            return t;
        });
        thread.allowCoreThreadTimeOut(true);
    }

    /** Adds {@code listener}; returns what removes it. */
    public Runnable add(Consumer<T> listener) {
        return listeners.add(listener);
    }

    /**
     * Queues {@code change} for the listeners. Callers that need the order of their changes kept
     * call this where the order is decided (under the lock that made the change).
     */
    public void fireLater(T change) {
        try {
            thread.execute(() -> listeners.fire(change));
        } catch (RejectedExecutionException e) {
            // closed: nobody listens any more
        }
    }

    /** Removes every listener and lets the thread end; changes still queued are dropped. */
    public void close() {
        listeners.clear();
        thread.shutdownNow();
    }
}
