package io.flotilla.node.config;

import static io.flotilla.node.config.ConfigValues.*;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The {@code node} section: name, admin API and its token, event loops, drain, access log, re-resolving. */
final class NodeSection {
    private final ConfigLoader loader;

    private NodeSection(ConfigLoader loader) {
        this.loader = loader;
    }

    /** Parses the section; errors name the file, line and field. */
    static NodeSettings parse(ConfigLoader loader, Optional<YamlNode> section) throws ConfigException {
        return new NodeSection(loader).node(section);
    }

    private static final String FALLBACK_NODE_NAME = "flotilla";

    private static final int MAX_EVENT_LOOPS = 1024;

    private static final int MIN_TOKEN_LENGTH = 16;

    private NodeSettings node(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return new NodeSettings(defaultNodeName(), Optional.empty(), NodeSettings.DEFAULT_EVENT_LOOPS);
        }
        YamlMap m = section.get()
                .asMap()
                .allowOnly(
                        "name",
                        "admin",
                        "event_loops",
                        "admin_token",
                        "drain_grace",
                        "drain_timeout",
                        "access_log",
                        "resolve_every");
        Optional<YamlNode> nameNode = m.get("name");
        String name = nameNode.isPresent()
                ? name(nameNode.get(), "node name", "it is sent in Via headers")
                : defaultNodeName();
        Optional<YamlNode> adminNode = m.get("admin");
        Optional<HostPort> admin = Optional.empty();
        if (adminNode.isPresent()) {
            admin = Optional.of(loader.bind(adminNode.get()));
        }
        int eventLoops = m.integer("event_loops", NodeSettings.DEFAULT_EVENT_LOOPS, 0, MAX_EVENT_LOOPS);
        Optional<String> token = Optional.empty();
        Optional<YamlNode> tokenNode = m.get("admin_token");
        if (tokenNode.isPresent() && !tokenNode.get().isNull()) {
            String value = tokenNode.get().asString();
            if (value.length() < MIN_TOKEN_LENGTH || value.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
                throw tokenNode
                        .get()
                        .error("an admin token needs at least " + MIN_TOKEN_LENGTH
                                + " printable characters without spaces");
            }
            token = Optional.of(value);
        }
        if (admin.isPresent() && token.isEmpty() && !isLoopback(admin.get())) {
            throw adminNode
                    .get()
                    .error("the admin API is bound beyond loopback (" + admin.get()
                            + "): set node.admin_token, or bind it to 127.0.0.1");
        }
        Duration drainGrace = m.zeroOrPositiveDuration("drain_grace", NodeSettings.DEFAULT_DRAIN_GRACE);
        Duration drainTimeout = m.positiveDuration("drain_timeout", NodeSettings.DEFAULT_DRAIN_TIMEOUT);
        Optional<NodeSettings.AccessLogConfig> accessLog = Optional.empty();
        Optional<YamlNode> logNode = m.get("access_log");
        if (logNode.isPresent() && !logNode.get().isNull()) {
            YamlMap log = logNode.get().asMap().allowOnly("path", "format");
            String path = log.required("path").asString();
            Optional<YamlNode> formatNode = log.get("format");
            String format = formatNode.isPresent()
                    ? formatNode.get().asString().toLowerCase()
                    : NodeSettings.AccessLogConfig.JSON;
            if (!format.equals(NodeSettings.AccessLogConfig.JSON)
                    && !format.equals(NodeSettings.AccessLogConfig.COMBINED)) {
                throw formatNode.get().error("expected json or combined, got '" + format + "'");
            }
            if (!path.equals("-")) {
                Path file = loader.baseDir.resolve(path).normalize();
                Path parent = file.toAbsolutePath().getParent();
                if (parent == null || !Files.isDirectory(parent)) {
                    throw log.required("path")
                            .error("directory " + parent + " does not exist"
                                    + (Path.of(path).isAbsolute() ? "" : loader.baseNote));
                }
                path = file.toAbsolutePath().toString();
            }
            accessLog = Optional.of(new NodeSettings.AccessLogConfig(path, format));
        }
        Duration resolveEvery = m.zeroOrPositiveDuration("resolve_every", NodeSettings.DEFAULT_RESOLVE_EVERY);
        return new NodeSettings(name, admin, eventLoops, token, drainGrace, drainTimeout, accessLog, resolveEvery);
    }

    private static String defaultNodeName() {
        try {
            String host = InetAddress.getLocalHost().getHostName();
            return host == null || host.isBlank() ? FALLBACK_NODE_NAME : host;
        } catch (IOException | SecurityException e) {
            return FALLBACK_NODE_NAME;
        }
    }
}
