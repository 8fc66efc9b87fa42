package io.flotilla.node.upstream.balance;

import io.flotilla.node.upstream.UpstreamServer;

/** The one rule for whether a server may be chosen, shared by every policy. */
final class Candidates {
    private Candidates() {}

    /**
     * The server's effective weight if it may be chosen now, else 0. Both {@code available()} and the
     * weight are checked, so a view that is briefly inconsistent never yields a weight-0 choice.
     *
     * @param avoid a server to leave out of this pick (a retry), or null
     */
    static int weight(ServerView view, UpstreamServer avoid) {
        if (avoid != null && view.server() == avoid) {
            return 0;
        }
        if (!view.available()) {
            return 0;
        }
        return Math.max(0, view.effectiveWeight());
    }

    static UpstreamServer serverOf(ServerView view) {
        return view == null ? null : view.server();
    }
}
