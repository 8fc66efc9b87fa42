package io.flotilla.node.config;

import java.util.Optional;

/** The {@code timeouts} section. */
final class TimeoutSection {
    private TimeoutSection() {}

    /** Parses the section; errors name the file, line and field. */
    static TimeoutConfig parse(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return TimeoutConfig.defaults();
        }
        YamlMap m = section.get()
                .asMap()
                .allowOnly(
                        "client_header",
                        "client_body",
                        "keepalive",
                        "client_write",
                        "upstream_connect",
                        "upstream_read",
                        "upstream_write");
        return new TimeoutConfig(
                m.positiveDuration("client_header", TimeoutConfig.DEFAULT_CLIENT_HEADER),
                m.positiveDuration("client_body", TimeoutConfig.DEFAULT_CLIENT_BODY),
                m.positiveDuration("keepalive", TimeoutConfig.DEFAULT_KEEP_ALIVE),
                m.positiveDuration("client_write", TimeoutConfig.DEFAULT_CLIENT_WRITE),
                m.positiveDuration("upstream_connect", TimeoutConfig.DEFAULT_UPSTREAM_CONNECT),
                m.positiveDuration("upstream_read", TimeoutConfig.DEFAULT_UPSTREAM_READ),
                m.positiveDuration("upstream_write", TimeoutConfig.DEFAULT_UPSTREAM_WRITE));
    }
}
