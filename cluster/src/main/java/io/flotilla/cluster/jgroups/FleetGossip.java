package io.flotilla.cluster.jgroups;

import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.membership.Membership;
import io.flotilla.cluster.security.Outsiders;
import java.util.List;

/**
 * Membership by JGroups gossip: the channel's view says who is alive, and each member announces
 * its id, state and shared-state address to the others. Node code sees it only as {@link Membership}.
 */
public interface FleetGossip extends Membership {

    /**
     * Joins the channel named by {@code settings}; returns once this member is in a view. Gossip that
     * does not open with the fleet key is dropped and counted in {@code outsiders}.
     */
    static FleetGossip join(ClusterSettings settings, Outsiders outsiders) {
        return GossipChannel.join(settings, outsiders);
    }

    /** Announces where this member's shared state listens ({@code host:port}), to be found by the others. */
    void advertise(String address);

    /** This member's own gossip address, {@code host:port}, as bound (useful when the port was 0). */
    String gossipAddress();

    /**
     * Adds gossip peers at run time (a member that started alone learns where the fleet is); the next
     * merge check finds them and the views merge.
     */
    void addPeers(List<String> hostPorts);

    /**
     * Drops every gossip message in and out from now on, as a hung or cut-off member would look to
     * the others (they must detect it by its silence); for failure drills and tests. Close to end it.
     */
    void fallSilent();
}
