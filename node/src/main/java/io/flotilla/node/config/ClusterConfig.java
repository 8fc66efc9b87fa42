package io.flotilla.node.config;

import java.util.List;

/**
 * The fleet section: how this node joins the others. Absent, the node runs alone with in-process
 * state and nothing on the network.
 *
 * @param name         fleet name; nodes join only fleets of the same name
 * @param bind         this member's shared-state (Hazelcast) address
 * @param gossipPort   this member's gossip (JGroups) port, on the bind host
 * @param peers        gossip addresses of other members to contact first ({@code discovery: static})
 * @param discovery    {@code static} (the peer list), {@code dns} or {@code multicast}
 * @param dns          the DNS name listing the members, for {@code discovery: dns}
 * @param expectedSize members the fleet should have: a node seeing fewer enforces only its share of
 *                     every rate limit
 * @param nearCache    bytes of remote cache entries kept on this node
 * @param probeOwners  members that actively probe each backend
 */
public record ClusterConfig(String name, HostPort bind, int gossipPort, List<HostPort> peers, String discovery,
                            String dns, int expectedSize, long nearCache, int probeOwners) {
    public static final int DEFAULT_GOSSIP_PORT = 7800;
    public static final long DEFAULT_NEAR_CACHE = 32L << 20;
    public static final int DEFAULT_PROBE_OWNERS = 2;

    public ClusterConfig {
        peers = List.copyOf(peers);
    }
}
