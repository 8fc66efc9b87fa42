package io.flotilla.node.upstream.balance;

/**
 * Chooses a server for one request; one instance per event loop, so not thread-safe by design.
 *
 * <p>A server is a candidate only while {@link ServerView#available()} is true and its
 * {@link ServerView#effectiveWeight()} is above 0; both are read at every pick, so a server that goes away
 * is skipped by the very next pick and one that comes back is chosen again, with no rebuild.
 */
public interface Balancer {
    /**
     * @param hashKey the request's key for the consistent-hash policies (client address, a header or cookie
     *                value); ignored by the others. Null or empty means the request has no key: the hash
     *                policies then fall back to smooth weighted round robin, because there is no affinity to
     *                keep and hashing a missing key would send every such request to one server.
     * @return the chosen server, or null when no server is a candidate
     */
    ServerView pick(CharSequence hashKey);

    /**
     * The choice for a retry: the same policy, with {@code avoid}'s server (compared by
     * {@link ServerView#server()}) treated as unavailable for this one pick. For the hash policies that is the
     * server the key would move to if {@code avoid} went away, so retries of one key agree too.
     *
     * @param avoid the server that just failed; null makes this {@link #pick(CharSequence)}
     * @return another candidate, or null when there is none (never {@code avoid})
     */
    ServerView pickOther(ServerView avoid, CharSequence hashKey);
}
