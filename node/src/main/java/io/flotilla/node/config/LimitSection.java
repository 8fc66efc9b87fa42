package io.flotilla.node.config;

import java.util.Optional;

/** The {@code limits} section. */
final class LimitSection {
    private LimitSection() {}

    /** Parses the section; errors name the file, line and field. */
    static LimitConfig parse(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return LimitConfig.defaults();
        }
        YamlMap m =
                section.get().asMap().allowOnly("request_line", "header_line", "headers_total", "header_count", "body");
        return new LimitConfig(
                (int) m.size("request_line", LimitConfig.DEFAULT_REQUEST_LINE, 1, Integer.MAX_VALUE),
                (int) m.size("header_line", LimitConfig.DEFAULT_HEADER_LINE, 1, Integer.MAX_VALUE),
                (int) m.size("headers_total", LimitConfig.DEFAULT_HEADERS_TOTAL, 1, Integer.MAX_VALUE),
                m.integer("header_count", LimitConfig.DEFAULT_HEADER_COUNT, 1, Integer.MAX_VALUE),
                m.size("body", LimitConfig.DEFAULT_BODY, 0, Long.MAX_VALUE));
    }
}
