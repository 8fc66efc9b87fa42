package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cache's config: defaults, a full example, and errors that name line and field. */
class CacheConfigTest {
    private static final String BASE = """
            listeners: [{bind: 127.0.0.1:8080}]
            upstreams: {app: {servers: [127.0.0.1:9001]}}
            """;

    private static FlotillaConfig parse(String rest) throws ConfigException {
        return ConfigLoader.parse(BASE + rest, "edge.yaml");
    }

    private static ConfigException refused(String rest) {
        return assertThrows(ConfigException.class, () -> parse(rest));
    }

    @Test
    void defaultsWhenAbsent() throws Exception {
        FlotillaConfig c = parse("routes: [{path: /, upstream: app}]\n");
        assertEquals(CacheConfig.defaults(), c.cache());
        assertTrue(c.routes().get(0).cache().isEmpty());
    }

    @Test
    void shorthandAndFullForms() throws Exception {
        FlotillaConfig c = parse("""
                routes:
                  - {path: /a/, upstream: app, cache: true}
                  - {path: /b/, upstream: app, cache: false}
                  - path: /c/
                    upstream: app
                    cache:
                      key: {query: false, headers: [X-Device], cookies: [lang]}
                      allow_set_cookie: true
                      bypass: ["header:X-Preview", "cookie:session", "query:nocache"]
                  - {path: /d/, upstream: app, cache: {enabled: false}}
                cache:
                  max_size: 64m
                  max_entry: 1m
                  tag_header: Cache-Tag
                  targeted: [Edge-Cache-Control]
                  strip_targeted: false
                  heuristic_fraction: 0.2
                  heuristic_max: 1h
                  collapse_wait: 2s
                  keep_stale: 10m
                  fill_memory: 16m
                """);
        assertEquals(RouteCacheConfig.defaults(), c.routes().get(0).cache().orElseThrow());
        assertTrue(c.routes().get(1).cache().isEmpty());
        RouteCacheConfig r = c.routes().get(2).cache().orElseThrow();
        assertFalse(r.keyQuery());
        assertEquals(List.of("x-device"), r.keyHeaders());
        assertEquals(List.of("lang"), r.keyCookies());
        assertTrue(r.allowSetCookie());
        assertEquals(List.of("header:x-preview", "cookie:session", "query:nocache"), r.bypass());
        assertTrue(c.routes().get(3).cache().isEmpty());
        assertEquals(
                new CacheConfig(
                        64L << 20,
                        1L << 20,
                        "Cache-Tag",
                        List.of("Edge-Cache-Control"),
                        false,
                        0.2,
                        Duration.ofHours(1),
                        Duration.ofSeconds(2),
                        Duration.ofMinutes(10),
                        16L << 20),
                c.cache());
    }

    @Test
    void errorsNameTheField() {
        assertEquals(
                "edge.yaml:4:47: routes[0].cache.bypass[0]: expected header:NAME, cookie:NAME or query:NAME, "
                        + "got 'body:x'",
                refused("routes:\n  - {path: /, upstream: app, cache: {bypass: ['body:x']}}\n")
                        .getMessage());
        assertTrue(refused("routes:\n  - {path: /, upstream: app, cache: {ttl: 5s}}\n")
                .getMessage()
                .contains("routes[0].cache.ttl: unknown key 'ttl'"));
        assertTrue(refused("routes:\n  - {path: /, static: /tmp, cache: true}\n")
                .getMessage()
                .contains("routes[0].cache: only a route to an upstream caches"));
        ConfigException entry = refused("routes: [{path: /, upstream: app}]\ncache: {max_size: 2m, max_entry: 4m}\n");
        assertEquals(4, entry.line());
        assertEquals("cache.max_entry", entry.field());
        assertTrue(refused("routes: [{path: /, upstream: app}]\ncache: {heuristic_fraction: 2}\n")
                .getMessage()
                .contains("cache.heuristic_fraction: expected a fraction from 0 to 1"));
        assertTrue(refused("routes: [{path: /, upstream: app}]\ncache: {tag_header: 'Surrogate Key'}\n")
                .getMessage()
                .contains("cache.tag_header: expected a header name"));
        assertTrue(refused("routes: [{path: /, upstream: app}]\ncache: {max_size: 10q}\n")
                .getMessage()
                .contains("cache.max_size"));
        assertTrue(refused("routes: [{path: /, upstream: app}]\ncache: {strip_targeted: perhaps}\n")
                .getMessage()
                .contains("cache.strip_targeted"));
    }
}
