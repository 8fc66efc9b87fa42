package io.flotilla.node.config;

import static io.flotilla.node.config.ConfigValues.*;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The {@code routes} section: host and path, upstream or static root, rewrite, rate limit and cache per route. */
final class RouteSection {
    private final ConfigLoader loader;

    private RouteSection(ConfigLoader loader) {
        this.loader = loader;
    }

    /** Parses the section; errors name the file, line and field. */
    static List<RouteConfig> parse(ConfigLoader loader, YamlMap root, Map<String, UpstreamConfig> upstreams)
            throws ConfigException {
        return new RouteSection(loader).routes(root, upstreams);
    }

    private List<RouteConfig> routes(YamlMap root, Map<String, UpstreamConfig> upstreams) throws ConfigException {
        List<YamlNode> items = nonEmptyList(root, "routes", "route");
        List<RouteConfig> routes = new ArrayList<>();
        Map<String, YamlNode> seen = new HashMap<>();
        for (YamlNode item : items) {
            YamlMap m = item.asMap()
                    .allowOnly(
                            "host",
                            "path",
                            "upstream",
                            "static",
                            "strip_prefix",
                            "rewrite",
                            "cache",
                            "rate_limit",
                            "websocket",
                            "compression");
            Optional<YamlNode> hostNode = m.get("host");
            Optional<String> host = hostNode.isPresent() ? Optional.of(host(hostNode.get())) : Optional.empty();
            String path = "/";
            Optional<YamlNode> pathNode = m.get("path");
            if (pathNode.isPresent()) {
                path = urlPath(pathNode.get(), "path");
            }
            Optional<YamlNode> upstreamNode = m.get("upstream");
            Optional<YamlNode> staticNode = m.get("static");
            if (upstreamNode.isPresent() && staticNode.isPresent()) {
                throw item.error("has both upstream and static; a route goes to exactly one of them");
            }
            if (upstreamNode.isEmpty() && staticNode.isEmpty()) {
                throw item.error("needs either upstream (a name under upstreams) or static (a directory)");
            }
            Optional<String> upstream = Optional.empty();
            Optional<Path> staticRoot = Optional.empty();
            if (upstreamNode.isPresent()) {
                upstream = Optional.of(upstreamReference(upstreamNode.get(), upstreams));
            } else {
                staticRoot = Optional.of(staticRoot(staticNode.get()));
            }
            Optional<RouteCacheConfig> cache = routeCache(m.get("cache"));
            if (cache.isPresent() && upstream.isEmpty()) {
                throw m.get("cache")
                        .get()
                        .error("only a route to an upstream caches; static files are served from disk");
            }
            routes.add(new RouteConfig(
                    host,
                    path,
                    upstream,
                    staticRoot,
                    rewrite(m),
                    cache,
                    rateLimit(m.get("rate_limit")),
                    WebSocketConfig.routeSwitch(m.get("websocket"), upstream.isPresent()),
                    CompressionConfig.routeSwitch(m.get("compression"))));

            String key = host.orElse("") + ' ' + path;
            YamlNode first = seen.putIfAbsent(key, item);
            if (first != null) {
                throw item.error("same host (" + host.map(h -> "'" + h + "'").orElse("any") + ") and path '" + path
                        + "' as " + first.path() + " at line " + first.line() + "; one would never match");
            }
        }
        return routes;
    }

    private static String urlPath(YamlNode n, String what) throws ConfigException {
        String path = n.asString();
        if (!path.startsWith("/")) {
            throw n.error(what + " must start with '/', got '" + path + "'");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '?' || c == '#' || c <= ' ' || c >= 0x7f) {
                throw n.error(what + " may not contain spaces, control characters, '?' or '#' (only the path "
                        + "of a URL is matched), got '" + path + "'");
            }
        }
        return path;
    }

    private static String upstreamReference(YamlNode n, Map<String, UpstreamConfig> upstreams) throws ConfigException {
        String name = n.asString();
        if (upstreams.containsKey(name)) {
            return name;
        }
        if (upstreams.isEmpty()) {
            throw n.error("no upstream named '" + name + "' (no upstreams are defined)");
        }
        String hint = DidYouMean.hint(name, upstreams.keySet());
        throw n.error("no upstream named '" + name + "'"
                + (hint.isEmpty() ? "; defined: " + String.join(", ", upstreams.keySet()) : hint));
    }

    private Path staticRoot(YamlNode n) throws ConfigException {
        String text = n.asString();
        if (text.isBlank()) {
            throw n.error("needs a directory");
        }
        Path dir;
        try {
            dir = loader.baseDir.resolve(text).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw n.error("not a usable path: " + e.getReason());
        }
        String shown = "'" + text + "'" + (Path.of(text).isAbsolute() ? "" : " (" + dir + ")");
        if (!Files.exists(dir)) {
            throw n.error(
                    "directory " + shown + " does not exist" + (Path.of(text).isAbsolute() ? "" : loader.baseNote));
        }
        if (!Files.isDirectory(dir)) {
            throw n.error(shown + " is not a directory");
        }
        return dir;
    }

    private static Optional<String> rewrite(YamlMap route) throws ConfigException {
        Optional<YamlNode> rewriteNode = route.get("rewrite");
        Optional<YamlNode> stripNode = route.get("strip_prefix");
        boolean strip = stripNode.isPresent() && stripNode.get().asBoolean();
        if (rewriteNode.isEmpty()) {
            return strip ? Optional.of("/") : Optional.empty();
        }
        if (strip) {
            throw rewriteNode.get().error("cannot be combined with strip_prefix: true, which means rewrite: /");
        }
        return Optional.of(urlPath(rewriteNode.get(), "rewrite"));
    }

    /** A route's rate limit: {@code {requests: 100, per: 1s, key: client_ip | route | header:NAME}}. */
    private static Optional<RateLimitConfig> rateLimit(Optional<YamlNode> node) throws ConfigException {
        if (node.isEmpty()) {
            return Optional.empty();
        }
        YamlMap m = node.get().asMap().allowOnly("requests", "per", "key");
        long requests = m.required("requests", "required: how many requests per period, e.g. requests: 100")
                .asLong(1, Long.MAX_VALUE / 4);
        Duration per = m.positiveDuration("per", Duration.ofSeconds(1));
        if (per.toMillis() < 100) {
            throw m.get("per").get().error("a rate-limit period must be at least 100ms, got " + per.toMillis() + "ms");
        }
        String key = RateLimitConfig.CLIENT_IP;
        Optional<YamlNode> keyNode = m.get("key");
        if (keyNode.isPresent()) {
            key = keyNode.get().asString().trim();
            boolean header =
                    key.startsWith("header:") && TOKEN.matcher(key.substring(7)).matches();
            if (!header && !key.equals(RateLimitConfig.CLIENT_IP) && !key.equals(RateLimitConfig.ROUTE)) {
                throw keyNode.get().error("expected client_ip, route or header:NAME, got '" + key + "'");
            }
        }
        return Optional.of(new RateLimitConfig(requests, per, key));
    }

    /** A route's cache: {@code cache: true}, {@code cache: false}, or a mapping with {@code enabled}. */
    private static Optional<RouteCacheConfig> routeCache(Optional<YamlNode> node) throws ConfigException {
        if (node.isEmpty()) {
            return Optional.empty();
        }
        if (node.get().isScalar()) {
            return node.get().asBoolean() ? Optional.of(RouteCacheConfig.defaults()) : Optional.empty();
        }
        YamlMap m = node.get().asMap().allowOnly("enabled", "key", "allow_set_cookie", "bypass");
        if (!m.bool("enabled", true)) {
            return Optional.empty();
        }
        RouteCacheConfig d = RouteCacheConfig.defaults();
        boolean keyQuery = d.keyQuery();
        List<String> keyHeaders = new ArrayList<>();
        List<String> keyCookies = new ArrayList<>();
        Optional<YamlNode> keyNode = m.get("key");
        if (keyNode.isPresent()) {
            YamlMap key = keyNode.get().asMap().allowOnly("query", "headers", "cookies");
            keyQuery = key.bool("query", keyQuery);
            if (key.get("headers").isPresent()) {
                for (YamlNode n : key.get("headers").get().asList()) {
                    keyHeaders.add(headerName(n).toLowerCase(Locale.ROOT));
                }
            }
            if (key.get("cookies").isPresent()) {
                for (YamlNode n : key.get("cookies").get().asList()) {
                    keyCookies.add(headerName(n));
                }
            }
        }
        List<String> bypass = new ArrayList<>();
        if (m.get("bypass").isPresent()) {
            for (YamlNode n : m.get("bypass").get().asList()) {
                String condition = n.asString().trim();
                int colon = condition.indexOf(':');
                String kind = colon < 0 ? "" : condition.substring(0, colon);
                String name = colon < 0 ? "" : condition.substring(colon + 1).trim();
                if (!(kind.equals("header") || kind.equals("cookie") || kind.equals("query"))
                        || !TOKEN.matcher(name).matches()) {
                    throw n.error("expected header:NAME, cookie:NAME or query:NAME, got '" + condition + "'");
                }
                bypass.add(kind + ":" + (kind.equals("header") ? name.toLowerCase(Locale.ROOT) : name));
            }
        }
        return Optional.of(new RouteCacheConfig(
                keyQuery, keyHeaders, keyCookies, m.bool("allow_set_cookie", d.allowSetCookie()), bypass));
    }
}
