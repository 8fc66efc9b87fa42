package io.flotilla.node.cache;

import io.flotilla.node.config.CacheConfig;
import io.flotilla.node.config.RouteCacheConfig;
import io.flotilla.node.http.Cookies;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.time.Duration;
import java.util.Locale;

/** One route's view of the node's cache: its key, bypass conditions and storing rules. */
public final class RouteCache {
    final ResponseCache cache;
    final RouteCacheConfig route;
    final CachePolicy policy;
    final CacheConfig config;
    /** How long a fill claim holds: twice the wait of the requests collapsed on it, and a second. */
    final Duration fillLease;
    /** The route's bypass conditions, parsed once. */
    private final BypassCondition[] bypass;

    RouteCache(ResponseCache cache, RouteCacheConfig route, CachePolicy policy, CacheConfig config) {
        this.cache = cache;
        this.route = route;
        this.policy = policy;
        this.config = config;
        this.fillLease = config.collapseWait().multipliedBy(2).plusSeconds(1);
        this.bypass = route.bypass().stream().map(BypassCondition::parse).toArray(BypassCondition[]::new);
    }

    /**
     * Starts the cache's part in one request, before it is forwarded; never null.
     *
     * @param scheme {@code http} or {@code https}, as the client reached the node
     * @param path   the normalized path the route matched
     * @param query  the query string with its '?', or empty
     * @param hasBody whether the request has content: a GET with a body goes past the cache, and
     *                what it gets back is never stored under the body-less request's key
     */
    public CacheFlow begin(HttpRequest request, String scheme, String path, String query, boolean hasBody) {
        HttpHeaders h = request.headers();
        String host = h.get(HttpHeaderNames.HOST);
        String url = scheme + "://" + (host == null ? "" : host.toLowerCase(Locale.ROOT)) + path
                + (route.keyQuery() ? query : "");
        HttpMethod method = request.method();
        CacheFlow.Mode mode;
        if (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)) {
            mode = hasBody || bypassed(h, query) ? CacheFlow.Mode.BYPASS : CacheFlow.Mode.LOOKUP;
        } else if (method.equals(HttpMethod.OPTIONS) || method.equals(HttpMethod.TRACE)) {
            mode = CacheFlow.Mode.PASS;
        } else {
            mode = CacheFlow.Mode.INVALIDATE; // §4.4: unsafe methods invalidate what they change
        }
        return new CacheFlow(this, request, mode, url, mode == CacheFlow.Mode.LOOKUP ? key(url, h) : url);
    }

    /** The primary cache key: the URL (method-aware: GET and HEAD share it) plus configured parts. */
    private String key(String url, HttpHeaders h) {
        if (route.keyHeaders().isEmpty() && route.keyCookies().isEmpty()) {
            return url;
        }
        StringBuilder key = new StringBuilder(url);
        for (String name : route.keyHeaders()) {
            key.append("\u0001h:").append(name).append('=').append(String.join(",", h.getAll(name)));
        }
        for (String name : route.keyCookies()) {
            String value = Cookies.value(h, name);
            key.append("\u0001c:").append(name).append('=').append(value == null ? "" : value);
        }
        return key.toString();
    }

    private boolean bypassed(HttpHeaders h, String query) {
        for (BypassCondition condition : bypass) {
            if (condition.matches(h, query)) {
                return true;
            }
        }
        return false;
    }
}
