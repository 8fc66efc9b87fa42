package io.flotilla.node.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.http.HostHeader;
import io.flotilla.node.upstream.Upstream;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Host specificity first, then the longest path prefix; fall-through to less specific hosts. */
class RouteTableTest {
    private static RouteTable table(String routes) throws Exception {
        FlotillaConfig config = ConfigLoader.parse(
                "listeners: [{bind: 127.0.0.1:0}]\n"
                        + "upstreams:\n  a: {servers: [127.0.0.1:1]}\n  b: {servers: [127.0.0.1:2]}\n"
                        + "  c: {servers: [127.0.0.1:3]}\n  d: {servers: [127.0.0.1:4]}\n"
                        + "routes:\n" + routes,
                "t.yaml");
        Map<String, Upstream> upstreams = new HashMap<>();
        config.upstreams().forEach((name, u) -> upstreams.put(name, Upstream.of(u)));
        return RouteTable.compile(config.routes(), upstreams);
    }

    private static String target(RouteTable table, String host, String path) {
        Route route = table.match(host, path);
        return route == null ? null : route.upstream().name();
    }

    @Test
    void exactHostBeatsWildcardBeatsAny() throws Exception {
        RouteTable t = table("""
                  - {path: /, upstream: a}
                  - {host: "*.example.com", path: /, upstream: b}
                  - {host: api.example.com, path: /, upstream: c}
                  - {host: "*.eu.example.com", path: /, upstream: d}
                """);
        assertEquals("c", target(t, "api.example.com", "/x"));
        assertEquals("b", target(t, "www.example.com", "/x"));
        assertEquals("d", target(t, "shop.eu.example.com", "/x"), "the longer wildcard suffix wins");
        assertEquals("b", target(t, "deep.www.example.com", "/"));
        assertEquals("a", target(t, "example.com", "/"), "*.example.com does not match the bare domain");
        assertEquals("a", target(t, null, "/"));
    }

    @Test
    void longestPrefixWinsWithinAHost() throws Exception {
        RouteTable t = table("""
                  - {path: /, upstream: a}
                  - {path: /api/, upstream: b}
                  - {path: /api/v2/, upstream: c}
                """);
        assertEquals("c", target(t, "h", "/api/v2/users"));
        assertEquals("b", target(t, "h", "/api/v1/users"));
        assertEquals("a", target(t, "h", "/apis"));
    }

    @Test
    void hostWithoutAMatchingPrefixFallsThrough() throws Exception {
        RouteTable t = table("""
                  - {host: example.com, path: /api/, upstream: b}
                  - {path: /, upstream: a}
                """);
        assertEquals("b", target(t, "example.com", "/api/x"));
        assertEquals("a", target(t, "example.com", "/other"));
    }

    @Test
    void noMatchIsNull() throws Exception {
        RouteTable t = table("  - {host: example.com, path: /only/, upstream: a}\n");
        assertNull(t.match("example.com", "/else"));
        assertNull(t.match("other.com", "/only/x"));
    }

    @Test
    void rewritesReplaceTheMatchedPrefix() throws Exception {
        RouteTable t = table("""
                  - {path: /api/, upstream: a, strip_prefix: true}
                  - {path: /old, upstream: b, rewrite: /new}
                  - {path: /v1/, upstream: c, rewrite: /v2/}
                """);
        assertEquals("/users/7", t.match("h", "/api/users/7").rewrite("/api/users/7"));
        assertEquals("/", t.match("h", "/api/").rewrite("/api/"));
        assertEquals("/new/x", t.match("h", "/old/x").rewrite("/old/x"));
        assertEquals("/new", t.match("h", "/old").rewrite("/old"));
        assertEquals("/v2/a", t.match("h", "/v1/a").rewrite("/v1/a"));
    }

    @Test
    void hostHeaderIsNormalized() {
        assertEquals("example.com", HostHeader.hostOf("Example.COM:8080"));
        assertEquals("example.com", HostHeader.hostOf("example.com."));
        assertEquals("[::1]", HostHeader.hostOf("[::1]:80"));
        assertNull(HostHeader.hostOf(null));
    }
}
