package io.flotilla.node.config;

import static io.flotilla.node.config.ConfigValues.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The {@code cache} section (the node's response cache; a route's own cache settings are in {@link RouteSection}). */
final class CacheSection {
    private CacheSection() {}

    /** Parses the section; errors name the file, line and field. */
    static CacheConfig parse(Optional<YamlNode> section) throws ConfigException {
        CacheConfig d = CacheConfig.defaults();
        if (section.isEmpty()) {
            return d;
        }
        YamlMap m = section.get()
                .asMap()
                .allowOnly(
                        "max_size",
                        "max_entry",
                        "tag_header",
                        "targeted",
                        "strip_targeted",
                        "heuristic_fraction",
                        "heuristic_max",
                        "collapse_wait",
                        "keep_stale",
                        "fill_memory");
        long maxSize = m.size("max_size", d.maxSize(), 1 << 20, Long.MAX_VALUE);
        long maxEntry = m.size("max_entry", Math.min(d.maxEntry(), maxSize), 1, Integer.MAX_VALUE - 1024);
        if (maxEntry > maxSize) {
            throw m.get("max_entry").get().error("is larger than cache.max_size (" + maxSize + " bytes)");
        }
        String tagHeader = d.tagHeader();
        if (m.get("tag_header").isPresent()) {
            tagHeader = headerName(m.get("tag_header").get());
        }
        List<String> targeted = d.targeted();
        if (m.get("targeted").isPresent()) {
            targeted = new ArrayList<>();
            for (YamlNode n : m.get("targeted").get().asList()) {
                targeted.add(headerName(n));
            }
        }
        double fraction = d.heuristicFraction();
        Optional<YamlNode> fractionNode = m.get("heuristic_fraction");
        if (fractionNode.isPresent()) {
            try {
                fraction = Double.parseDouble(fractionNode.get().asString());
            } catch (NumberFormatException e) {
                fraction = -1;
            }
            if (!(fraction >= 0 && fraction <= 1)) {
                throw fractionNode
                        .get()
                        .error("expected a fraction from 0 to 1, such as 0.1, got '"
                                + fractionNode.get().asString() + "'");
            }
        }
        return new CacheConfig(
                maxSize,
                maxEntry,
                tagHeader,
                targeted,
                m.bool("strip_targeted", d.stripTargeted()),
                fraction,
                m.zeroOrPositiveDuration("heuristic_max", d.heuristicMax()),
                m.zeroOrPositiveDuration("collapse_wait", d.collapseWait()),
                m.zeroOrPositiveDuration("keep_stale", d.keepStale()),
                m.size("fill_memory", d.fillMemory(), maxEntry, Long.MAX_VALUE));
    }
}
