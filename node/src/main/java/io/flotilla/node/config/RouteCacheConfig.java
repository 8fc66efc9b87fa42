package io.flotilla.node.config;

import java.util.List;

/**
 * Whether and how one route caches.
 *
 * @param keyQuery       whether the query string is part of the cache key
 * @param keyHeaders     request headers added to the key (lower-cased names)
 * @param keyCookies     request cookies added to the key
 * @param allowSetCookie whether responses with Set-Cookie may be stored (they are not by default)
 * @param bypass         conditions under which a request neither reads nor fills the cache:
 *                       {@code header:NAME}, {@code cookie:NAME} or {@code query:NAME}, each true when
 *                       the request has it
 */
public record RouteCacheConfig(
        boolean keyQuery,
        List<String> keyHeaders,
        List<String> keyCookies,
        boolean allowSetCookie,
        List<String> bypass) {
    public RouteCacheConfig {
        keyHeaders = List.copyOf(keyHeaders);
        keyCookies = List.copyOf(keyCookies);
        bypass = List.copyOf(bypass);
    }

    public static RouteCacheConfig defaults() {
        return new RouteCacheConfig(true, List.of(), List.of(), false, List.of());
    }
}
