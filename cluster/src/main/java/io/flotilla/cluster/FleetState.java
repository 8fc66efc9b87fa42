package io.flotilla.cluster;

import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.config.ConfigStore;
import io.flotilla.cluster.health.HealthRegistry;
import io.flotilla.cluster.membership.Membership;
import io.flotilla.cluster.rate.RateCounters;
import io.flotilla.cluster.security.Outsiders;
import io.flotilla.cluster.tickets.TicketKeyRing;

/**
 * Everything a node shares with the fleet, opened and closed together: {@link #local} for a lone
 * node (nothing on the network); a member of a fleet is started by an implementation
 * ({@code hazelcast.HazelcastFleet.start}), which the node's fleet wiring picks, so this API names none.
 */
public interface FleetState extends AutoCloseable {

    /** A lone node with default settings. */
    static FleetState local() {
        return local(ClusterSettings.defaults());
    }

    /** A lone node: in-process state only, bounded by {@code settings}; nothing touches the network. */
    static FleetState local(ClusterSettings settings) {
        return new LocalFleetState(settings);
    }

    /** The settings this state was opened with. */
    ClusterSettings settings();

    /** The shared response cache. */
    ResponseStore responses();

    /** Backend health and probe ownership. */
    HealthRegistry health();

    /** Rate-limit counters. */
    RateCounters rates();

    /** Live config documents. */
    ConfigStore config();

    /** The TLS session-ticket keys every member's listeners share. */
    TicketKeyRing tickets();

    /** The live view of the fleet. */
    Membership membership();

    /**
     * Who tried to take part without proving the fleet secret (gossip, member connections, shared
     * values), counted and listed; a lone node has none.
     */
    default Outsiders outsiders() {
        return NO_OUTSIDERS;
    }

    /** What the node's metrics read about the fleet (issue 17); a lone node's are fixed. */
    default FleetStatistics statistics() {
        return FleetStatistics.LONE;
    }

    /** Tells {@code observer} of the round trips the fleet state makes on its own (rate syncs). */
    default void observe(FleetStatistics.Observer observer) {}

    /** What a lone node reports: nothing ever counted. */
    Outsiders NO_OUTSIDERS = new Outsiders();

    /** Leaves the fleet and releases everything; idempotent. */
    @Override
    void close();
}
