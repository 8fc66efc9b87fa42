package io.flotilla.node.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

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
 * @param keyFile      the fleet secret's key file (one base64 key per line, first seals, all open)
 * @param keys         the fleet secret inline, when there is no key file
 * @param insecure     a fleet bound beyond loopback may run without a secret
 */
public record ClusterConfig(
        String name,
        HostPort bind,
        int gossipPort,
        List<HostPort> peers,
        String discovery,
        String dns,
        int expectedSize,
        long nearCache,
        int probeOwners,
        Optional<Path> keyFile,
        List<String> keys,
        boolean insecure) {
    public static final int DEFAULT_GOSSIP_PORT = 7800;
    public static final long DEFAULT_NEAR_CACHE = 32L << 20;
    public static final int DEFAULT_PROBE_OWNERS = 2;

    public ClusterConfig {
        peers = List.copyOf(peers);
        keys = List.copyOf(keys);
    }

    /** The keys in force: the key file's as it reads now, else the inline ones; empty for no secret. */
    public List<String> keysNow() {
        return keyFile.isPresent() ? io.flotilla.cluster.security.FleetKeys.lines(keyFile.get()) : keys;
    }
}
