package io.flotilla.node.upstream.balance;

import java.util.concurrent.ThreadLocalRandom;

/**
 * NGINX's smooth weighted round robin (ngx_http_upstream_get_peer), over weights given afresh at each step,
 * so a server that leaves, returns or ramps up changes the sequence from the next step on.
 */
final class SmoothWeights {
    /** Bounds the random start; enough to spread the first picks of many event loops. */
    private static final int MAX_WARM_UP = 1024;

    private final long[] current;

    SmoothWeights(int servers) {
        this.current = new long[servers];
    }

    /**
     * The index with the highest running weight after each index's weight is added, or -1 when all weights
     * are 0. Each index is chosen in proportion to its weight, and the heaviest is never chosen in a burst.
     *
     * @param weight this step's weight per index; 0 leaves an index out (its running weight is kept)
     */
    int next(int[] weight) {
        int best = -1;
        long total = 0;
        for (int i = 0; i < weight.length; i++) {
            int w = weight[i];
            if (w == 0) {
                continue;
            }
            current[i] += w;
            total += w;
            if (best < 0 || current[i] > current[best]) {
                best = i;
            }
        }
        if (best >= 0) {
            current[best] -= total;
        }
        return best;
    }

    /**
     * Advances the sequence by a random number of steps below its cycle length (capped), so balancers made
     * at once on several event loops do not all send their first requests to the same server.
     */
    void warmUpRandomly(int[] weight) {
        long total = 0;
        for (int w : weight) {
            total += w;
        }
        if (total > 1) {
            warmUp(weight, ThreadLocalRandom.current().nextInt((int) Math.min(total, MAX_WARM_UP)));
        }
    }

    void warmUp(int[] weight, int steps) {
        for (int i = 0; i < steps; i++) {
            next(weight);
        }
    }
}
