package io.flotilla.node.upstream.balance;

import java.util.List;

/**
 * Builds the per-event-loop balancers of one upstream; a factory may be shared by all event loops, each
 * balancer it returns belongs to one.
 */
public interface BalancerFactory {
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
            default:
                throw new IllegalArgumentException(
                        "unknown balance policy '" + name + "'; valid: " + String.join(", ", names()));
        }
    }

    /** The names {@link #forName} accepts, for config validation and its suggestions. */
    static List<String> names() {
        return List.of("round_robin", "least_conn", "random");
    }
}
