package io.flotilla.cluster.rate;

/**
 * The answer for one request: allowed or not, and what the RateLimit headers should say.
 *
 * @param allowed     whether the request is within the limit
 * @param limit       the limit this node enforced (lower than the configured one when degraded)
 * @param remaining   requests left in the window by this node's estimate, at least 0
 * @param resetMillis milliseconds until the window ends (Retry-After when refused)
 */
public record RateDecision(boolean allowed, long limit, long remaining, long resetMillis) {}
