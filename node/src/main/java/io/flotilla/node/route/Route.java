package io.flotilla.node.route;

import io.flotilla.node.cache.RouteCache;
import io.flotilla.node.compress.ResponseCompression;
import io.flotilla.node.ratelimit.RouteRateLimit;
import io.flotilla.node.statics.StaticFileResponder;
import io.flotilla.node.upstream.Upstream;

/**
 * One compiled route: where matching requests go and how their path is rewritten.
 * Exactly one of {@link #upstream()} and {@link #statics()} is non-null.
 */
public final class Route {
    private final String host;
    private final String prefix;
    private final String rewrite;
    private final Upstream upstream;
    private final StaticFileResponder statics;
    private final RouteCache cache;
    private final RouteRateLimit rateLimit;
    private final ResponseCompression compression;
    private final int index;
    private final boolean websocket;

    Route(
            int index,
            String host,
            String prefix,
            String rewrite,
            Upstream upstream,
            StaticFileResponder statics,
            RouteCache cache,
            RouteRateLimit rateLimit,
            boolean websocket,
            ResponseCompression compression) {
        this.websocket = websocket;
        this.index = index;
        this.host = host;
        this.prefix = prefix;
        this.rewrite = rewrite;
        this.upstream = upstream;
        this.statics = statics;
        this.cache = cache;
        this.rateLimit = rateLimit;
        this.compression = compression;
    }

    /** Its position in the config's list of routes: what the compiled request path is indexed by. */
    public int index() {
        return index;
    }

    /** The host pattern, or null for any host. */
    public String host() {
        return host;
    }

    public String prefix() {
        return prefix;
    }

    public Upstream upstream() {
        return upstream;
    }

    /** The route's cache, or null when it does not cache. */
    public RouteCache cache() {
        return cache;
    }

    /** The route's rate limit, or null. */
    public RouteRateLimit rateLimit() {
        return rateLimit;
    }

    /** Whether {@code Upgrade: websocket} requests are tunnelled to the upstream (else Upgrade is stripped). */
    public boolean websocket() {
        return websocket;
    }

    /** How the route compresses responses, or null when it does not. */
    public ResponseCompression compression() {
        return compression;
    }

    public StaticFileResponder statics() {
        return statics;
    }

    /** The path after the matched prefix, as a static route serves it (always starting with '/'). */
    public String remainder(String path) {
        String rest = path.substring(prefix.length());
        return rest.startsWith("/") ? rest : "/" + rest;
    }

    /** The path to forward: the matched prefix replaced by the rewrite, if the route has one. */
    public String rewrite(String path) {
        if (rewrite == null) {
            return path;
        }
        String rest = path.substring(prefix.length());
        if (rewrite.endsWith("/") && rest.startsWith("/")) {
            return rewrite + rest.substring(1);
        }
        if (!rewrite.endsWith("/") && !rest.isEmpty() && !rest.startsWith("/")) {
            return rewrite + "/" + rest;
        }
        return rewrite + rest;
    }

    @Override
    public String toString() {
        return (host == null ? "*" : host) + prefix;
    }
}
