package io.flotilla.node.cache;

import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One origin fetch for a key that other requests on this node may wait for (RFC 9111 §4 allows a
 * cache to collapse requests). Waiters are resumed on their own event loop with whether the fetch
 * ended in a stored response; a waiter whose wait runs out goes upstream on its own.
 */
final class Fill {
    private List<Waiter> waiters = new ArrayList<>(2);
    private boolean done;

    private record Waiter(EventExecutor loop, Consumer<Boolean> resume) {}

    /** Adds a waiter; false when the fill has already ended (the caller looks up again instead). */
    synchronized boolean join(EventExecutor loop, Consumer<Boolean> resume) {
        if (done) {
            return false;
        }
        waiters.add(new Waiter(loop, resume));
        return true;
    }

    /** Ends the fill; every waiter is resumed once, on its loop. Later calls do nothing. */
    void complete(boolean stored) {
        List<Waiter> resumed;
        synchronized (this) {
            if (done) {
                return;
            }
            done = true;
            resumed = waiters;
            waiters = List.of();
        }
        for (Waiter w : resumed) {
            w.loop().execute(() -> w.resume().accept(stored));
        }
    }
}
