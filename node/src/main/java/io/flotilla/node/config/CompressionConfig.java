package io.flotilla.node.config;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code compression} section: how responses are encoded on the way out (docs/compression.md).
 * Routes follow {@link #enabled()} unless they set their own {@code compression: true|false}.
 *
 * @param enabled     the default for routes that do not say
 * @param codings     content codings offered, most preferred first ({@code br}, {@code zstd}, {@code gzip})
 * @param types       media types compressed (lower case, no parameters); {@code text/*} style entries
 *                    match a whole top-level type
 * @param minLength   responses with a known length below this are sent as they are
 * @param gzipLevel   1-9
 * @param brotliLevel 0-11
 * @param zstdLevel   1-22
 */
public record CompressionConfig(
        boolean enabled,
        List<String> codings,
        Set<String> types,
        long minLength,
        int gzipLevel,
        int brotliLevel,
        int zstdLevel) {
    /** NGINX's gzip_types default is text/html only; these are the types CDNs compress by default. */
    public static final Set<String> DEFAULT_TYPES = Set.of(
            "text/html",
            "text/plain",
            "text/css",
            "text/javascript",
            "text/xml",
            "text/csv",
            "text/markdown",
            "text/x-component",
            "application/javascript",
            "application/x-javascript",
            "application/json",
            "application/ld+json",
            "application/manifest+json",
            "application/problem+json",
            "application/xml",
            "application/rss+xml",
            "application/atom+xml",
            "application/xhtml+xml",
            "application/wasm",
            "application/graphql-response+json",
            "application/vnd.api+json",
            "image/svg+xml",
            "image/x-icon",
            "image/vnd.microsoft.icon",
            "font/ttf",
            "font/otf",
            "application/vnd.ms-fontobject");

    public static final List<String> DEFAULT_CODINGS = List.of("br", "zstd", "gzip");
    private static final Set<String> KNOWN_CODINGS = Set.of("br", "zstd", "gzip");
    /** Below a few hundred bytes the coding's framing eats most of what it saves. */
    public static final long DEFAULT_MIN_LENGTH = 256;

    public static final int DEFAULT_GZIP_LEVEL = 5;
    public static final int DEFAULT_BROTLI_LEVEL = 4;
    public static final int DEFAULT_ZSTD_LEVEL = 3;
    public static final CompressionConfig DEFAULT = new CompressionConfig(
            false,
            DEFAULT_CODINGS,
            DEFAULT_TYPES,
            DEFAULT_MIN_LENGTH,
            DEFAULT_GZIP_LEVEL,
            DEFAULT_BROTLI_LEVEL,
            DEFAULT_ZSTD_LEVEL);

    public CompressionConfig {
        codings = List.copyOf(codings);
        types = Set.copyOf(types);
    }

    /** The same settings with another on/off default (a route's own switch). */
    public CompressionConfig withEnabled(boolean on) {
        return on == enabled
                ? this
                : new CompressionConfig(on, codings, types, minLength, gzipLevel, brotliLevel, zstdLevel);
    }

    /** Parses the top-level {@code compression} section; absent means {@link #DEFAULT}. */
    static CompressionConfig parse(Optional<YamlNode> node) throws ConfigException {
        if (node.isEmpty()) {
            return DEFAULT;
        }
        if (node.get().isScalar()) {
            return DEFAULT.withEnabled(node.get().asBoolean());
        }
        YamlMap m = node.get()
                .asMap()
                .allowOnly("enabled", "codings", "types", "min_length", "gzip_level", "brotli_level", "zstd_level");
        List<String> codings = new ArrayList<>();
        if (m.get("codings").isPresent()) {
            for (YamlNode n : m.get("codings").get().asList()) {
                String coding = n.asString().trim().toLowerCase(Locale.ROOT);
                if (!KNOWN_CODINGS.contains(coding)) {
                    throw n.error("unknown coding '" + coding + "'; known: br, zstd, gzip");
                }
                if (codings.contains(coding)) {
                    throw n.error("'" + coding + "' is listed twice");
                }
                codings.add(coding);
            }
            if (codings.isEmpty()) {
                throw m.get("codings")
                        .get()
                        .error("needs at least one coding (to turn compression off: enabled: false)");
            }
        } else {
            codings.addAll(DEFAULT_CODINGS);
        }
        Set<String> types = new LinkedHashSet<>();
        if (m.get("types").isPresent()) {
            for (YamlNode n : m.get("types").get().asList()) {
                String type = n.asString().trim().toLowerCase(Locale.ROOT);
                if (type.indexOf('/') <= 0 || type.indexOf(';') >= 0 || type.indexOf(' ') >= 0) {
                    throw n.error("'" + type + "' is not a media type such as text/html or text/*");
                }
                types.add(type);
            }
        } else {
            types.addAll(DEFAULT_TYPES);
        }
        return new CompressionConfig(
                m.bool("enabled", true),
                codings,
                types,
                m.size("min_length", DEFAULT_MIN_LENGTH, 0, Integer.MAX_VALUE),
                m.integer("gzip_level", DEFAULT_GZIP_LEVEL, 1, 9),
                m.integer("brotli_level", DEFAULT_BROTLI_LEVEL, 0, 11),
                m.integer("zstd_level", DEFAULT_ZSTD_LEVEL, 1, 22));
    }

    /** A route's {@code compression: true|false}; absent means the section's default. */
    static Optional<Boolean> routeSwitch(Optional<YamlNode> node) throws ConfigException {
        return node.isEmpty() ? Optional.empty() : Optional.of(node.get().asBoolean());
    }
}
