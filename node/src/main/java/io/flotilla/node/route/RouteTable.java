package io.flotilla.node.route;

import io.flotilla.cluster.rate.RateCounters;
import io.flotilla.node.cache.ResponseCache;
import io.flotilla.node.cache.RouteCache;
import io.flotilla.node.compress.ResponseCompression;
import io.flotilla.node.config.CompressionConfig;
import io.flotilla.node.config.RouteConfig;
import io.flotilla.node.ratelimit.RouteRateLimit;
import io.flotilla.node.statics.StaticFileResponder;
import io.flotilla.node.upstream.Upstream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Immutable routing table: host first, then path. Hosts are tried from most to least specific (exact
 * name, then wildcards by length, then routes for any host); within a host the longest matching path
 * prefix wins. A host whose routes have no matching prefix falls through to less specific hosts, so a
 * catch-all {@code path: /} serves what host-specific routes leave.
 */
public final class RouteTable {
    private final Map<String, List<Route>> exact;
    /** Wildcard suffixes (".example.com") with their routes, longest suffix first. */
    private final List<Map.Entry<String, List<Route>>> wildcards;

    private final List<Route> anyHost;
    private final List<Route> all;

    private RouteTable(
            Map<String, List<Route>> exact,
            List<Map.Entry<String, List<Route>>> wildcards,
            List<Route> anyHost,
            List<Route> all) {
        this.exact = exact;
        this.wildcards = wildcards;
        this.anyHost = anyHost;
        this.all = all;
    }

    /** Builds the table; every route's upstream must be in {@code upstreams} (the config was validated). */
    public static RouteTable compile(List<RouteConfig> routes, Map<String, Upstream> upstreams) {
        return compile(routes, upstreams, null, null);
    }

    /** As {@link #compile(List, Map)}, with the cache that routes enabling it use (null: none). */
    public static RouteTable compile(
            List<RouteConfig> routes, Map<String, Upstream> upstreams, ResponseCache cache, RateCounters rates) {
        return compile(routes, upstreams, cache, rates, CompressionConfig.DEFAULT);
    }

    /** As {@link #compile(List, Map, ResponseCache, RateCounters)}, with the {@code compression} section. */
    public static RouteTable compile(
            List<RouteConfig> routes,
            Map<String, Upstream> upstreams,
            ResponseCache cache,
            RateCounters rates,
            CompressionConfig compression) {
        Map<String, List<Route>> exact = new HashMap<>();
        Map<String, List<Route>> wildcard = new HashMap<>();
        List<Route> any = new ArrayList<>();
        List<Route> all = new ArrayList<>(routes.size());
        for (RouteConfig config : routes) {
            Upstream upstream = config.upstream().map(upstreams::get).orElse(null);
            StaticFileResponder statics =
                    config.staticRoot().map(StaticFileResponder::new).orElse(null);
            String host = config.host().map(String::toLowerCase).orElse(null);
            RouteCache routeCache =
                    cache == null ? null : config.cache().map(cache::forRoute).orElse(null);
            String name = (host == null ? "*" : host) + config.path();
            RouteRateLimit limit = rates == null
                    ? null
                    : config.rateLimit()
                            .map(l -> new RouteRateLimit(name, l, rates))
                            .orElse(null);
            Route route = new Route(
                    all.size(),
                    host,
                    config.path(),
                    config.rewrite().orElse(null),
                    upstream,
                    statics,
                    routeCache,
                    limit,
                    config.websocket() && upstream != null,
                    ResponseCompression.forRoute(compression, config.compression()));
            all.add(route);
            if (host == null) {
                any.add(route);
            } else if (host.startsWith("*.")) {
                wildcard.computeIfAbsent(host.substring(1), k -> new ArrayList<>())
                        .add(route);
            } else {
                exact.computeIfAbsent(host, k -> new ArrayList<>()).add(route);
            }
        }
        Comparator<Route> longestFirst =
                Comparator.comparingInt((Route r) -> r.prefix().length()).reversed();
        exact.values().forEach(list -> list.sort(longestFirst));
        wildcard.values().forEach(list -> list.sort(longestFirst));
        any.sort(longestFirst);
        List<Map.Entry<String, List<Route>>> wildcards = new ArrayList<>(wildcard.entrySet());
        wildcards.sort(Comparator.comparingInt(
                        (Map.Entry<String, List<Route>> e) -> e.getKey().length())
                .reversed());
        return new RouteTable(Map.copyOf(exact), List.copyOf(wildcards), List.copyOf(any), List.copyOf(all));
    }

    /** Every route, in the config's order ({@link Route#index()}). */
    public List<Route> routes() {
        return all;
    }

    /**
     * The route for a request, or null (404).
     *
     * @param host lower-case host without port, or null when the request had none
     * @param path the normalized path, without query
     */
    public Route match(String host, String path) {
        if (host != null) {
            Route route = longestPrefix(exact.get(host), path);
            if (route != null) {
                return route;
            }
            for (Map.Entry<String, List<Route>> entry : wildcards) {
                String suffix = entry.getKey();
                if (host.length() > suffix.length() && host.endsWith(suffix)) {
                    route = longestPrefix(entry.getValue(), path);
                    if (route != null) {
                        return route;
                    }
                }
            }
        }
        return longestPrefix(anyHost, path);
    }

    private static Route longestPrefix(List<Route> routes, String path) {
        if (routes == null) {
            return null;
        }
        for (Route route : routes) {
            if (path.startsWith(route.prefix())) {
                return route;
            }
        }
        return null;
    }
}
