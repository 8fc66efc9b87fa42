package io.flotilla.node.proxy;

import io.flotilla.cluster.rate.RateDecision;
import io.flotilla.node.compress.ResponseCompression;
import io.flotilla.node.ratelimit.RouteRateLimit;
import io.flotilla.node.route.Route;
import java.util.ArrayList;
import java.util.List;

/**
 * A route's request path as one ordered list of stages, compiled once when the config is loaded
 * ({@link ProxyRuntime#compile}). The whole path of a request, in order:
 *
 * <ol>
 *   <li><b>guard</b> ({@link RequestGuard}, before routing): framing and smuggling checks, body
 *       limit, Expect, path normalization; refused with 400/413/417</li>
 *   <li><b>redirect</b> (a listener with {@code redirect_https}, before routing): 301/308 to https</li>
 *   <li><b>route</b>: host and path to a route, or 404; then this route's chain:</li>
 *   <li><b>rate limit</b> ({@link RateLimited}): counts the request; 429 when over</li>
 *   <li><b>content coding</b> ({@link NegotiateEncoding}, on a compressing route): Accept-Encoding
 *       decided, so the cache looks up the variant the response will be</li>
 *   <li><b>static</b> ({@link ServeStatic}): answers from files, or <b>cache</b> ({@link LookUpCache}):
 *       answers from the store or proceeds (a miss, a revalidation)</li>
 *   <li><b>forward</b> ({@link Forward}): picks a server ({@link ServerSelection}) and relays both
 *       bodies ({@link Exchange}); on its way back the response is encoded and the cache copies it
 *       ({@link RequestContext#wrapHead}), or the cache answers instead ({@link CacheHandoff})</li>
 * </ol>
 *
 * Every response, whichever stage made it, is finished by {@link ResponseFinisher}.
 */
final class RouteChain {
    private final Stage[] stages;

    private RouteChain(Stage[] stages) {
        this.stages = stages;
    }

    static RouteChain compile(Route route) {
        List<Stage> stages = new ArrayList<>(3);
        if (route.rateLimit() != null) {
            stages.add(new RateLimited(route.rateLimit()));
        }
        if (route.compression() != null) {
            stages.add(new NegotiateEncoding(route.compression()));
        }
        if (route.statics() != null) {
            stages.add(ServeStatic.INSTANCE);
        } else {
            if (route.cache() != null) {
                stages.add(LookUpCache.INSTANCE);
            }
            stages.add(Forward.INSTANCE);
        }
        return new RouteChain(stages.toArray(new Stage[0]));
    }

    /** The stage at {@code index}, or null past the end. */
    Stage stage(int index) {
        return index < stages.length ? stages[index] : null;
    }

    /** Counts the request against the route's limit: continues within it, answers 429 over it. */
    static final class RateLimited implements Stage {
        private final RouteRateLimit limit;

        RateLimited(RouteRateLimit limit) {
            this.limit = limit;
        }

        @Override
        public Outcome handle(Context request) {
            RateDecision decision = limit.decide(request.request(), request.client());
            request.rateDecision(decision);
            if (decision == null || decision.allowed()) {
                return Outcome.CONTINUE;
            }
            request.respond(limit.tooMany(decision));
            return Outcome.TAKEN;
        }
    }

    /**
     * Chooses the response's content coding from Accept-Encoding before the cache is asked, which
     * then keys its variants by the coding ({@link ResponseCompression#negotiate}).
     */
    static final class NegotiateEncoding implements Stage {
        private final ResponseCompression compression;

        NegotiateEncoding(ResponseCompression compression) {
            this.compression = compression;
        }

        @Override
        public Outcome handle(Context request) {
            request.encoding(compression.negotiate(request.request()));
            return Outcome.CONTINUE;
        }
    }

    /** Answers from the route's directory. */
    static final class ServeStatic implements Stage {
        static final ServeStatic INSTANCE = new ServeStatic();

        @Override
        public Outcome handle(Context request) {
            request.serveStatic();
            return Outcome.TAKEN;
        }
    }

    /** Looks up the cache, which answers or proceeds to {@link Forward}; may wait on the fleet. */
    static final class LookUpCache implements Stage {
        static final LookUpCache INSTANCE = new LookUpCache();

        @Override
        public Outcome handle(Context request) {
            request.lookUpCache();
            return Outcome.TAKEN;
        }
    }

    /** Forwards upstream and relays the response. */
    static final class Forward implements Stage {
        static final Forward INSTANCE = new Forward();

        @Override
        public Outcome handle(Context request) {
            request.forward();
            return Outcome.TAKEN;
        }
    }
}
