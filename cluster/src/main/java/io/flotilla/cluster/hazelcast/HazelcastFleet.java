package io.flotilla.cluster.hazelcast;

import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.FleetState;

/** Starts a member of a Hazelcast-backed fleet: the {@link FleetState} of a node in a fleet. */
public final class HazelcastFleet {

    private HazelcastFleet() {}

    /** Joins the gossip channel, then starts the embedded Hazelcast member found through it. */
    public static FleetState start(ClusterSettings settings) {
        return HazelcastFleetState.start(settings);
    }
}
