package io.flotilla.node.upstream.balance;

import io.flotilla.node.upstream.UpstreamServer;

/**
 * What a balancer may know of one server right now; implemented by the data plane, read by the balancer of
 * one event loop, and free to change between two calls (health, ejection, draining, slow start).
 */
public interface ServerView {
    UpstreamServer server();

    /**
     * The configured weight, 0 when drained by config. The consistent-hash policies place a server by this
     * weight when their table is built; the other policies use {@link #effectiveWeight()} only.
     */
    int weight();

    /** The weight now: below {@link #weight()} while slow-starting, 0 when not available. */
    int effectiveWeight();

    /** Healthy, not ejected, not draining, and {@link #effectiveWeight()} above 0. */
    boolean available();

    /** Requests in flight to this server from this event loop (for least connections). */
    int activeRequests();
}
