package io.flotilla.node.upstream.balance;

import io.flotilla.node.upstream.UpstreamServer;
import java.util.List;

/** Smooth weighted round robin over the effective weights of the servers that are candidates now. */
final class SmoothRoundRobinBalancer extends KeylessBalancer {
    private final ServerView[] servers;
    private final SmoothWeights smooth;
    /** This pick's weights; a field so a pick allocates nothing. */
    private final int[] weight;

    SmoothRoundRobinBalancer(List<? extends ServerView> servers) {
        this(servers, true);
    }

    /** @param randomStart false starts at the head of the cycle, for tests that check the exact sequence */
    SmoothRoundRobinBalancer(List<? extends ServerView> servers, boolean randomStart) {
        this.servers = servers.toArray(new ServerView[0]);
        this.smooth = new SmoothWeights(this.servers.length);
        this.weight = new int[this.servers.length];
        if (randomStart) {
            snapshot(null);
            smooth.warmUpRandomly(weight);
        }
    }

    @Override
    ServerView choose(UpstreamServer avoid) {
        snapshot(avoid);
        int i = smooth.next(weight);
        return i < 0 ? null : servers[i];
    }

    private void snapshot(UpstreamServer avoid) {
        for (int i = 0; i < servers.length; i++) {
            weight[i] = Candidates.weight(servers[i], avoid);
        }
    }
}
