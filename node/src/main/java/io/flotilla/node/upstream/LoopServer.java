package io.flotilla.node.upstream;

import io.flotilla.node.upstream.balance.ServerView;

/**
 * One server as one event loop's balancer sees it: shared state (weight, availability) read from the
 * server, requests in flight counted for this loop only, so nothing here is shared between threads.
 */
public final class LoopServer implements ServerView {
    private final UpstreamServer server;
    private final long slowStartNanos;
    private int active;

    LoopServer(UpstreamServer server, long slowStartNanos) {
        this.server = server;
        this.slowStartNanos = slowStartNanos;
    }

    @Override
    public UpstreamServer server() {
        return server;
    }

    @Override
    public int weight() {
        return server.weight();
    }

    @Override
    public int effectiveWeight() {
        return server.effectiveWeight(slowStartNanos);
    }

    @Override
    public boolean available() {
        return server.weight() > 0 && server.available();
    }

    @Override
    public int activeRequests() {
        return active;
    }

    /** A request to this server started (on this loop). */
    public void begin() {
        active++;
        server.started();
    }

    /** ...and ended, however it ended. */
    public void end() {
        active--;
        server.ended();
    }
}
