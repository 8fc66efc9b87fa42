package io.flotilla.node.upstream.balance;

import io.flotilla.node.upstream.UpstreamServer;

/** A policy that ignores the request's key: a pick is a choice among all candidates, a retry the same minus one. */
abstract class KeylessBalancer implements Balancer {
    @Override
    public final ServerView pick(CharSequence hashKey) {
        return choose(null);
    }

    @Override
    public final ServerView pickOther(ServerView avoid, CharSequence hashKey) {
        return choose(Candidates.serverOf(avoid));
    }

    /** The choice among the candidates, leaving out {@code avoid} (null for none); null when none is left. */
    abstract ServerView choose(UpstreamServer avoid);
}
