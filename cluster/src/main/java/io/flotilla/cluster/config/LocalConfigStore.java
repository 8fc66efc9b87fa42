package io.flotilla.cluster.config;

import io.flotilla.cluster.SerialListeners;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/** A lone node's config store: one history under a lock. */
final class LocalConfigStore implements ConfigStore {

    private final String memberId;
    private final SerialListeners<ConfigVersion> listeners = new SerialListeners<>("config");
    private ConfigHistory history = ConfigHistory.EMPTY;

    LocalConfigStore(String memberId) {
        this.memberId = memberId;
    }

    @Override
    public synchronized ConfigHistory history() {
        return history;
    }

    @Override
    public Optional<ConfigVersion> publish(long expectedVersion, String document, String source, String publisher) {
        String who = publisher == null ? memberId : publisher;
        return change(h -> h.publish(expectedVersion, document, who, System.currentTimeMillis(), source));
    }

    @Override
    public Optional<ConfigVersion> rollback(long expectedVersion, String publisher) {
        String who = publisher == null ? memberId : publisher;
        return change(h -> h.rollback(expectedVersion, who, System.currentTimeMillis()));
    }

    private Optional<ConfigVersion> change(UnaryOperator<ConfigHistory> step) {
        synchronized (this) {
            ConfigHistory next = step.apply(history);
            if (next == null) {
                return Optional.empty();
            }
            history = next;
            listeners.fireLater(next.current()); // on the listeners' thread, in this order
            return Optional.of(next.current());
        }
    }

    @Override
    public Runnable onChange(Consumer<ConfigVersion> listener) {
        return listeners.add(listener);
    }

    @Override
    public void close() {
        listeners.close();
    }
}
