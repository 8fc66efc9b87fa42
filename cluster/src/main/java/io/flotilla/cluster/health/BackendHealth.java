package io.flotilla.cluster.health;

import java.util.Objects;

/**
 * The fleet's shared verdict on one backend.
 *
 * @param backendId the backend's stable id (the node uses {@code upstream/host:port})
 * @param up        whether it may take traffic
 * @param since     epoch millis of the report that put it in this state
 * @param reporter  id of the member that reported it
 * @param reason    why, for people: a probe result or a passive failure
 */
public record BackendHealth(String backendId, boolean up, long since, String reporter, String reason) {

    public BackendHealth {
        Objects.requireNonNull(backendId, "backendId");
        Objects.requireNonNull(reporter, "reporter");
        Objects.requireNonNull(reason, "reason");
    }
}
