package io.flotilla.node.upstream.balance;

import io.flotilla.node.upstream.UpstreamServer;
import java.util.List;

/**
 * The candidate with the lowest {@code activeRequests / effectiveWeight}; ties share by smooth weighted
 * round robin (NGINX's {@code least_conn}). The ties matter most at low load, where every server has nothing
 * in flight at each pick: a uniform tie-break would then ignore the weights.
 */
final class LeastConnectionsBalancer extends KeylessBalancer {
    private final ServerView[] servers;
    private final SmoothWeights smooth;
    /** This pick's snapshot of each view (weight 0: not a candidate), so both passes see the same state. */
    private final int[] weight;

    private final int[] active;
    private final int[] tied;

    LeastConnectionsBalancer(List<? extends ServerView> servers) {
        this(servers, true);
    }

    /** @param randomStart false starts the tie-break at the head of its cycle, for exact tests */
    LeastConnectionsBalancer(List<? extends ServerView> servers, boolean randomStart) {
        this.servers = servers.toArray(new ServerView[0]);
        this.smooth = new SmoothWeights(this.servers.length);
        this.weight = new int[this.servers.length];
        this.active = new int[this.servers.length];
        this.tied = new int[this.servers.length];
        if (randomStart) {
            for (int i = 0; i < this.servers.length; i++) {
                weight[i] = Candidates.weight(this.servers[i], null);
            }
            smooth.warmUpRandomly(weight);
        }
    }

    @Override
    ServerView choose(UpstreamServer avoid) {
        int best = -1;
        boolean tie = false;
        for (int i = 0; i < servers.length; i++) {
            int w = Candidates.weight(servers[i], avoid);
            weight[i] = w;
            if (w == 0) {
                continue;
            }
            active[i] = Math.max(0, servers[i].activeRequests());
            if (best < 0) {
                best = i;
                continue;
            }
            // a/w against best's a/w, cross-multiplied: exact, no division, no overflow in a long.
            long order = (long) active[i] * weight[best] - (long) active[best] * w;
            if (order < 0) {
                best = i;
                tie = false;
            } else if (order == 0) {
                tie = true;
            }
        }
        if (best < 0) {
            return null;
        }
        if (!tie) {
            return servers[best];
        }
        for (int i = 0; i < servers.length; i++) {
            boolean same = weight[i] != 0 && (long) active[i] * weight[best] == (long) active[best] * weight[i];
            tied[i] = same ? weight[i] : 0;
        }
        return servers[smooth.next(tied)];
    }
}
