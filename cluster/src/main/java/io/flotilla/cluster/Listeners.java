package io.flotilla.cluster;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The listeners of one kind of change, as every part of the fleet state keeps them: added from any
 * thread, cancelled by running what {@link #add} returned, and told in turn so that one failing
 * listener neither stops the others nor the thread that delivers the change.
 */
public final class Listeners<T> {

    private static final Logger LOG = Logger.getLogger(Listeners.class.getName());

    private final CopyOnWriteArrayList<Consumer<T>> listeners = new CopyOnWriteArrayList<>();
    private final String what;

    /** {@code what} names the change in the log line of a failing listener. */
    public Listeners(String what) {
        this.what = what;
    }

    /** Adds {@code listener}; returns what removes it. */
    public Runnable add(Consumer<T> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Tells every listener about {@code change}. */
    public void fire(T change) {
        for (Consumer<T> l : listeners) {
            try {
                l.accept(change);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, what + " listener failed", e);
            }
        }
    }

    /** Removes every listener. */
    public void clear() {
        listeners.clear();
    }
}
