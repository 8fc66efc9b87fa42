package io.flotilla.node.config;

import java.util.List;

/**
 * The fleet section. Accepted and validated now; a node runs alone until the cluster issue lands.
 *
 * @param name  fleet name; nodes join only fleets of the same name
 * @param bind  this member's cluster address
 * @param peers the members to contact first
 */
public record ClusterConfig(String name, HostPort bind, List<HostPort> peers) {
    public ClusterConfig {
        peers = List.copyOf(peers);
    }
}
