package io.flotilla.node.upstream.balance;

import io.flotilla.node.upstream.UpstreamServer;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/** A candidate drawn with probability proportional to its effective weight. */
final class WeightedRandomBalancer extends KeylessBalancer {
    private final ServerView[] servers;
    /** This pick's weights, so the draw and the walk see the same state. */
    private final int[] weight;

    private final RandomGenerator random;

    WeightedRandomBalancer(List<? extends ServerView> servers) {
        // One generator per balancer, used by one thread: SplittableRandom needs no atomics, and each
        // instance gets its own seed.
        this(servers, new SplittableRandom());
    }

    WeightedRandomBalancer(List<? extends ServerView> servers, RandomGenerator random) {
        this.servers = servers.toArray(new ServerView[0]);
        this.weight = new int[this.servers.length];
        this.random = random;
    }

    @Override
    ServerView choose(UpstreamServer avoid) {
        long total = 0;
        for (int i = 0; i < servers.length; i++) {
            weight[i] = Candidates.weight(servers[i], avoid);
            total += weight[i];
        }
        if (total == 0) {
            return null;
        }
        long r = random.nextLong(total);
        for (int i = 0; i < servers.length; i++) {
            r -= weight[i];
            if (r < 0) {
                return servers[i];
            }
        }
        throw new AssertionError("the draw is below the total of the weights");
    }
}
