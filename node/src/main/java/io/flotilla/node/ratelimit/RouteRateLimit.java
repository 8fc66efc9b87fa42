package io.flotilla.node.ratelimit;

import io.flotilla.cluster.rate.RateCounters;
import io.flotilla.cluster.rate.RateDecision;
import io.flotilla.node.config.RateLimitConfig;
import io.flotilla.node.http.ErrorResponses;
import io.flotilla.node.http.ForwardingHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * One route's limit, decided on the event loop from the fleet's counters without waiting on the
 * network ({@link RateCounters#tryAcquire} is local by contract). Answers with the RateLimit fields
 * of draft-ietf-httpapi-ratelimit-headers and, when over, 429 with {@code Retry-After} (RFC 6585 §4).
 */
public final class RouteRateLimit {
    private final String name;
    private final long limit;
    private final Duration period;
    private final String key;
    private final String header;
    private final RateCounters counters;
    private final String policy;

    /**
     * @param name     the route, as {@code host/prefix}; counters are per route, so two routes never share a budget
     * @param counters the fleet's counters (or this node's alone)
     */
    public RouteRateLimit(String name, RateLimitConfig config, RateCounters counters) {
        this.name = name;
        this.limit = config.requests();
        this.period = config.per();
        this.key = config.key();
        this.header = key.startsWith("header:") ? key.substring(7) : null;
        this.counters = counters;
        this.policy = limit + ";w=" + Math.max(1, period.toSeconds());
    }

    /** Counts the request; null when it is not subject to the limit (its key header is absent). */
    public RateDecision decide(HttpRequest request, InetSocketAddress client) {
        String value;
        if (header != null) {
            value = request.headers().get(header);
            if (value == null) {
                return null;
            }
        } else if (RateLimitConfig.ROUTE.equals(key)) {
            value = "";
        } else {
            value = ForwardingHeaders.clientIp(client);
        }
        return counters.tryAcquire(name + '\u0000' + value, limit, period);
    }

    /** Adds what the client may do next to any response of a limited route. */
    public void describe(HttpHeaders headers, RateDecision decision) {
        long resetSeconds = Math.max(1, (decision.resetMillis() + 999) / 1000);
        headers.set("RateLimit-Limit", decision.limit());
        headers.set("RateLimit-Remaining", decision.remaining());
        headers.set("RateLimit-Reset", resetSeconds);
        headers.set("RateLimit-Policy", policy);
    }

    /** The answer for a request over the limit; the RateLimit fields are the response pass's ({@link #describe}). */
    public FullHttpResponse tooMany(RateDecision decision) {
        FullHttpResponse response = ErrorResponses.of(HttpResponseStatus.TOO_MANY_REQUESTS, false);
        response.headers().set(HttpHeaderNames.RETRY_AFTER, Math.max(1, (decision.resetMillis() + 999) / 1000));
        return response;
    }
}
