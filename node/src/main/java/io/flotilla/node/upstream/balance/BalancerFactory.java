package io.flotilla.node.upstream.balance;

import java.util.List;

/**
 * Builds the per-event-loop balancers of one upstream; a factory may be shared by all event loops, each
 * balancer it returns belongs to one.
 *
 * <p>Make one factory per upstream and call {@link #newBalancer} once per event loop: the consistent-hash
 * factories build their ring or table once per set of servers and weights and share it, read-only, with
 * every balancer over that set.
 */
public interface BalancerFactory {
    /**
     * Ring points per unit of weight for {@code ring_hash}: a server's share of the keys is then within about
     * 3% of its weight's share (one standard deviation), at 8 bytes per point.
     */
    int DEFAULT_VIRTUAL_NODES = 1000;
    /** Maglev table size for {@code maglev}: the paper's and Envoy's default, a prime well above 100 per server. */
    int DEFAULT_MAGLEV_TABLE_SIZE = 65_537;

    /**
     * A balancer for one event loop over {@code servers}. The list is fixed for the balancer's life: a change
     * of membership, or of a configured {@link ServerView#weight()} for the hash policies, means a new
     * balancer; everything else about a server is read from its view at each pick.
     */
    Balancer newBalancer(List<? extends ServerView> servers);

    /** NGINX's smooth weighted round robin on the effective weights: weights 5,1,1 give a a b a c a a. */
    static BalancerFactory roundRobin() {
        return SmoothRoundRobinBalancer::new;
    }

    /**
     * The server with the fewest requests in flight from this event loop relative to its effective weight;
     * servers tied on that ratio share by smooth weighted round robin, as NGINX's {@code least_conn} does.
     */
    static BalancerFactory leastConnections() {
        return LeastConnectionsBalancer::new;
    }

    /** A server drawn at random with probability proportional to its effective weight. */
    static BalancerFactory random() {
        return WeightedRandomBalancer::new;
    }

    /**
     * A consistent-hash ring (ketama style, 64-bit xxHash): {@code weight * virtualNodesPerWeight} points per
     * server, placed by the server's address, so every node of the fleet maps a key to the same server. Up to
     * 2^20 points in all; past that every server's count is scaled down alike.
     */
    static BalancerFactory ringHash(int virtualNodesPerWeight) {
        if (virtualNodesPerWeight < 1) {
            throw new IllegalArgumentException(
                    "virtual nodes per weight must be at least 1, got " + virtualNodesPerWeight);
        }
        return new ConsistentHashFactory((names, weights) -> HashRing.build(names, weights, virtualNodesPerWeight));
    }

    /**
     * A Maglev lookup table (Eisenbud et al., NSDI 2016) of {@code tableSize} entries, weighted, built from
     * the servers' addresses so every node of the fleet builds the same table.
     *
     * @param tableSize a prime, at least the number of servers (about 100 times it for an even spread)
     */
    static BalancerFactory maglev(int tableSize) {
        if (!MaglevTable.isPrime(tableSize)) {
            throw new IllegalArgumentException("the Maglev table size must be a prime, got " + tableSize);
        }
        return new ConsistentHashFactory((names, weights) -> MaglevTable.build(names, weights, tableSize));
    }

    /**
     * The factory for a {@code balance:} name from the config, with the default parameters.
     *
     * @throws IllegalArgumentException for any other name; the message lists the valid ones
     */
    static BalancerFactory forName(String name) {
        switch (String.valueOf(name)) {
            case "round_robin":
                return roundRobin();
            case "least_conn":
                return leastConnections();
            case "random":
                return random();
            case "ring_hash":
                return ringHash(DEFAULT_VIRTUAL_NODES);
            case "maglev":
                return maglev(DEFAULT_MAGLEV_TABLE_SIZE);
            default:
                throw new IllegalArgumentException(
                        "unknown balance policy '" + name + "'; valid: " + String.join(", ", names()));
        }
    }

    /** The names {@link #forName} accepts, for config validation and its suggestions. */
    static List<String> names() {
        return List.of("round_robin", "least_conn", "random", "ring_hash", "maglev");
    }
}
