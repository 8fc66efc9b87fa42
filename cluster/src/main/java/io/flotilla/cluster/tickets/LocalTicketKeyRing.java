package io.flotilla.cluster.tickets;

import io.flotilla.cluster.Listeners;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/** A lone node's ring: the generation in memory, listeners told on the rotating thread. */
final class LocalTicketKeyRing implements TicketKeyRing {

    private final LongSupplier clock;
    private final Listeners<TicketKeySet> listeners = new Listeners<>("ticket keys");
    private TicketKeySet current;

    LocalTicketKeyRing(LongSupplier clock) {
        this.clock = clock;
        this.current = TicketKeySet.first(clock.getAsLong());
    }

    @Override
    public synchronized TicketKeySet current() {
        return current;
    }

    @Override
    public Optional<TicketKeySet> rotate(long expectedVersion) {
        TicketKeySet next;
        synchronized (this) {
            if (current.version() != expectedVersion) {
                return Optional.empty();
            }
            next = current.next(clock.getAsLong());
            current = next;
        }
        listeners.fire(next);
        return Optional.of(next);
    }

    @Override
    public Runnable onChange(Consumer<TicketKeySet> listener) {
        return listeners.add(listener);
    }

    @Override
    public void close() {
        listeners.clear();
    }
}
