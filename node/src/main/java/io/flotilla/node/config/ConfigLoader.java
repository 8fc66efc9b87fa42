package io.flotilla.node.config;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.reader.ReaderException;

/** Reads a YAML config file into a validated {@link FlotillaConfig}, or says exactly where it is wrong. */
public final class ConfigLoader {
    final String sourceName;

    final Path baseDir;

    // Where relative paths of a text without a file resolve, said in errors about them ("" for a file).
    final String baseNote;

    // Every socket this node opens, with where it was configured, so a clash can name both places.
    private final List<Bound> bound = new ArrayList<>();

    private ConfigLoader(String sourceName, Path baseDir, String baseNote) {
        this.sourceName = sourceName;
        this.baseDir = baseDir;
        this.baseNote = baseNote;
    }

    /**
     * Loads and validates a config file; relative {@code static} directories resolve against the file's
     * directory, and the returned config's {@code source} is the file's absolute path.
     */
    public static FlotillaConfig load(Path file) throws ConfigException {
        return loadWithText(file).config();
    }

    /** A config file as loaded, with the text it was loaded from (the file may change after). */
    public record Loaded(FlotillaConfig config, String text) {}

    /**
     * As {@link #load(Path)}, with the very text that was validated: what a node records as the
     * version it runs, rather than the file read again later.
     */
    public static Loaded loadWithText(Path file) throws ConfigException {
        String name = file.toString();
        if (Files.isDirectory(file)) {
            throw new ConfigException(name, 0, 0, null, "is a directory, not a config file");
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(name, 0, 0, null, "no such file");
        } catch (AccessDeniedException e) {
            throw new ConfigException(name, 0, 0, null, "permission denied");
        } catch (CharacterCodingException e) {
            throw new ConfigException(name, 0, 0, null, "not UTF-8 text");
        } catch (IOException e) {
            throw new ConfigException(name, 0, 0, null, "cannot read: " + e);
        }
        Path absolute = file.toAbsolutePath().normalize();
        return new Loaded(new ConfigLoader(name, absolute.getParent(), "").read(text, absolute), text);
    }

    /**
     * Validates config text that did not come from a file; {@code sourceName} stands in for the file in
     * error messages and as the config's {@code source}, and relative {@code static} directories resolve
     * against the current directory.
     */
    public static FlotillaConfig parse(String yamlText, String sourceName) throws ConfigException {
        return parse(yamlText, sourceName, Path.of("").toAbsolutePath(), "the working directory");
    }

    /**
     * As {@link #parse(String, String)}, with relative paths resolved against {@code baseDir}; an error
     * about such a path names the base and {@code why} it is the base (e.g. "the directory of the
     * node's config file").
     */
    public static FlotillaConfig parse(String yamlText, String sourceName, Path baseDir, String why)
            throws ConfigException {
        Path source;
        try {
            source = Path.of(sourceName);
        } catch (InvalidPathException e) {
            throw new ConfigException(sourceName, 0, 0, null, "not usable as a source name: " + e.getReason());
        }
        Path base = baseDir.toAbsolutePath().normalize();
        return new ConfigLoader(
                        sourceName,
                        base,
                        "; relative paths in " + sourceName + " resolve against " + base + " (" + why + ")")
                .read(yamlText, source);
    }

    private FlotillaConfig read(String text, Path source) throws ConfigException {
        YamlNode top = new YamlNode(compose(text), sourceName, "");
        if (top.isNull()) {
            throw new ConfigException(sourceName, 0, 0, null, "empty config");
        }
        if (!top.isMapping()) {
            throw top.error("the top level must be a mapping of sections (node, listeners, upstreams, routes, "
                    + "...), got " + top.describe());
        }
        YamlMap root = top.asMap()
                .allowOnly(
                        "node",
                        "listeners",
                        "upstreams",
                        "routes",
                        "timeouts",
                        "limits",
                        "headers",
                        "cache",
                        "cluster",
                        "websocket",
                        "compression");
        // One line per section; each section's parser is its own class (XxxSection.parse).
        NodeSettings node = NodeSection.parse(this, root.get("node"));
        List<ListenerConfig> listeners = ListenerSection.parse(this, root);
        Map<String, UpstreamConfig> upstreams = UpstreamSection.parse(this, root.get("upstreams"));
        List<RouteConfig> routes = RouteSection.parse(this, root, upstreams);
        TimeoutConfig timeouts = TimeoutSection.parse(root.get("timeouts"));
        LimitConfig limits = LimitSection.parse(root.get("limits"));
        HeaderPolicy headers = HeaderSection.parse(root.get("headers"));
        CacheConfig cache = CacheSection.parse(root.get("cache"));
        Optional<ClusterConfig> cluster = ClusterSection.parse(this, root.get("cluster"));
        WebSocketConfig websocket = WebSocketConfig.parse(root.get("websocket"));
        CompressionConfig compression = CompressionConfig.parse(root.get("compression"));
        return new FlotillaConfig(
                source,
                node,
                listeners,
                upstreams,
                routes,
                timeouts,
                limits,
                headers,
                cache,
                cluster,
                websocket,
                compression);
    }

    private Node compose(String text) throws ConfigException {
        String body = text.startsWith("\uFEFF") ? text.substring(1) : text;
        try {
            Node root = new Yaml(new SafeConstructor(new LoaderOptions())).compose(new StringReader(body));
            if (root == null) {
                throw new ConfigException(sourceName, 0, 0, null, "empty config");
            }
            return root;
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            StringBuilder problem = new StringBuilder("YAML syntax error: ").append(e.getProblem());
            if (e.getContext() != null && e.getContextMark() != null) {
                problem.append(" (")
                        .append(e.getContext())
                        .append(" at line ")
                        .append(e.getContextMark().getLine() + 1)
                        .append(')');
            }
            throw new ConfigException(
                    sourceName,
                    mark == null ? 0 : mark.getLine() + 1,
                    mark == null ? 0 : mark.getColumn() + 1,
                    null,
                    problem.toString());
        } catch (ReaderException e) {
            int[] lineColumn = lineAndColumn(body, e.getPosition());
            throw new ConfigException(
                    sourceName,
                    lineColumn[0],
                    lineColumn[1],
                    null,
                    String.format("character U+%04X is not allowed in YAML", e.getCodePoint()));
        } catch (YAMLException e) {
            throw new ConfigException(sourceName, 0, 0, null, "YAML error: " + e.getMessage());
        }
    }

    private static int[] lineAndColumn(String text, int codePointIndex) {
        int line = 1;
        int column = 1;
        int seen = 0;
        for (int i = 0; i < text.length() && seen < codePointIndex; i += Character.charCount(text.codePointAt(i))) {
            if (text.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
            seen++;
        }
        return new int[] {line, column};
    }

    /** Reads an address this node listens on, refusing one that another configured socket already takes. */
    HostPort bind(YamlNode n) throws ConfigException {
        HostPort address = n.asHostPort();
        for (Bound other : bound) {
            if (overlaps(address, other.address())) {
                throw n.error(address + " clashes with " + other.field() + " " + other.address() + " (line "
                        + other.line() + ")");
            }
        }
        bound.add(new Bound(address, n.path(), n.line()));
        return address;
    }

    private record Bound(HostPort address, String field, int line) {}

    /** Whether two sockets could not both be bound: port 0 never clashes, and wildcards cover their family. */
    private static boolean overlaps(HostPort a, HostPort b) {
        if (a.port() != b.port() || a.port() == 0) {
            return false;
        }
        if (a.host().equalsIgnoreCase(b.host())) {
            return true;
        }
        return covers(a.host(), b.host()) || covers(b.host(), a.host());
    }

    private static boolean covers(String wildcard, String other) {
        // An IPv6 wildcard socket is dual-stack by default on Linux, so it also takes the IPv4 port.
        return wildcard.equals("::") || wildcard.equals("0.0.0.0") && other.indexOf(':') < 0;
    }

    Optional<Path> readableFile(YamlMap m, String key) throws ConfigException {
        Optional<YamlNode> node = m.get(key);
        if (node.isEmpty() || node.get().isNull()) {
            return Optional.empty();
        }
        Path file = baseDir.resolve(node.get().asString()).toAbsolutePath().normalize();
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw node.get()
                    .error("cannot read " + file
                            + (Path.of(node.get().asString()).isAbsolute() ? "" : baseNote));
        }
        return Optional.of(file);
    }
}
