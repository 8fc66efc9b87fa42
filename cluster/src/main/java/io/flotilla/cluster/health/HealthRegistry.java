package io.flotilla.cluster.health;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Backend health shared by the fleet: probe results and passive failures reported by any member,
 * read locally by every member, and which members should probe which backend.
 *
 * <p>Contract: a report that changes a backend's state is seen by every member (through
 * {@link #health} and {@link #onChange}) within the implementation's propagation bound; a report
 * that repeats the current state writes nothing. A backend nobody reported on is unknown (null),
 * which the node treats as up.
 */
public interface HealthRegistry extends AutoCloseable {

    /** Default number of members probing each backend. */
    int DEFAULT_PROBE_OWNERS = 2;

    /** A registry for a lone node, which owns every probe. */
    static HealthRegistry local(String memberId) {
        return new LocalHealthRegistry(memberId);
    }

    /** The shared state of {@code backendId}, or null when nobody has reported on it. */
    BackendHealth health(String backendId);

    /** Every backend with a shared state. */
    Map<String, BackendHealth> snapshot();

    /** Records a probe result; true when it changed the shared state. */
    boolean report(String backendId, boolean up, String reason);

    /** Records a passive failure (the node saw requests fail): marks the backend down until a probe succeeds. */
    default boolean reportFailure(String backendId, String reason) {
        return report(backendId, false, "passive: " + reason);
    }

    /** Calls {@code listener} for every change of any backend's state; returns what cancels it. */
    Runnable onChange(Consumer<BackendHealth> listener);

    /** The {@code k} live members that should probe {@code backendId} (rendezvous hashing), best first. */
    List<String> probeOwners(String backendId, int k);

    /** Whether this member is one of the configured number of probers for {@code backendId}. */
    boolean isProbeOwner(String backendId);

    @Override
    void close();
}
