package io.flotilla.cluster.health;

import io.flotilla.cluster.Listeners;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** A lone node's registry: a map, and every probe is its own. */
final class LocalHealthRegistry implements HealthRegistry {

    private final String memberId;
    private final ConcurrentHashMap<String, BackendHealth> states = new ConcurrentHashMap<>();
    private final Listeners<BackendHealth> listeners = new Listeners<>("health");

    LocalHealthRegistry(String memberId) {
        this.memberId = memberId;
    }

    @Override
    public BackendHealth health(String backendId) {
        return states.get(backendId);
    }

    @Override
    public Map<String, BackendHealth> snapshot() {
        return Map.copyOf(states);
    }

    @Override
    public boolean report(String backendId, boolean up, String reason) {
        BackendHealth next = new BackendHealth(backendId, up, System.currentTimeMillis(), memberId, reason);
        boolean[] changed = {false};
        states.compute(backendId, (id, old) -> {
            if (old != null && old.up() == up) {
                return old;
            }
            changed[0] = true;
            return next;
        });
        if (changed[0]) {
            listeners.fire(next);
        }
        return changed[0];
    }

    @Override
    public Runnable onChange(Consumer<BackendHealth> listener) {
        return listeners.add(listener);
    }

    @Override
    public List<String> probeOwners(String backendId, int k) {
        return ProbeOwners.choose(backendId, List.of(memberId), k);
    }

    @Override
    public boolean isProbeOwner(String backendId) {
        return true;
    }

    @Override
    public void close() {
        listeners.clear();
    }
}
