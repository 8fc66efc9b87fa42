package io.flotilla.node.config;

import io.flotilla.cluster.security.FleetKeys;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.time.Duration;
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
    private static final String FALLBACK_NODE_NAME = "flotilla";
    private static final int MAX_EVENT_LOOPS = 1024;
    // Balancers add weights up across servers; a modest bound keeps those sums far from int overflow.
    private static final int MAX_WEIGHT = 1000;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");
    private static final Pattern HOST_LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern VISIBLE_ASCII = Pattern.compile("[\\x21-\\x7e]+");
    private static final Pattern PRINTABLE_ASCII = Pattern.compile("[\\x21-\\x7e](?:[\\x20-\\x7e]*[\\x21-\\x7e])?");

    private final String sourceName;
    private final Path baseDir;
    // Where relative paths of a text without a file resolve, said in errors about them ("" for a file).
    private final String baseNote;
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
    public record Loaded(FlotillaConfig config, String text) {
    }

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
        return new ConfigLoader(sourceName, base, "; relative paths in " + sourceName + " resolve against " + base
                + " (" + why + ")").read(yamlText, source);
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
        YamlMap root = top.asMap().allowOnly(
                "node", "listeners", "upstreams", "routes", "timeouts", "limits", "headers", "cache", "cluster",
                "compression");
        NodeSettings node = node(root.get("node"));
        List<ListenerConfig> listeners = listeners(root);
        Map<String, UpstreamConfig> upstreams = upstreams(root.get("upstreams"));
        List<RouteConfig> routes = routes(root, upstreams);
        return new FlotillaConfig(source, node, listeners, upstreams, routes, timeouts(root.get("timeouts")),
                limits(root.get("limits")), headers(root.get("headers")), cache(root.get("cache")),
                cluster(root.get("cluster")), CompressionConfig.parse(root.get("compression")));
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
                problem.append(" (").append(e.getContext()).append(" at line ")
                        .append(e.getContextMark().getLine() + 1).append(')');
            }
            throw new ConfigException(sourceName, mark == null ? 0 : mark.getLine() + 1,
                    mark == null ? 0 : mark.getColumn() + 1, null, problem.toString());
        } catch (ReaderException e) {
            int[] lineColumn = lineAndColumn(body, e.getPosition());
            throw new ConfigException(sourceName, lineColumn[0], lineColumn[1], null,
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

    private NodeSettings node(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return new NodeSettings(defaultNodeName(), Optional.empty(), NodeSettings.DEFAULT_EVENT_LOOPS);
        }
        YamlMap m = section.get().asMap().allowOnly("name", "admin", "event_loops", "admin_token", "drain_grace",
                "drain_timeout", "access_log", "resolve_every");
        Optional<YamlNode> nameNode = m.get("name");
        String name = nameNode.isPresent() ? name(nameNode.get(), "node name", "it is sent in Via headers")
                : defaultNodeName();
        Optional<YamlNode> adminNode = m.get("admin");
        Optional<HostPort> admin = Optional.empty();
        if (adminNode.isPresent()) {
            admin = Optional.of(bind(adminNode.get()));
        }
        int eventLoops = m.integer("event_loops", NodeSettings.DEFAULT_EVENT_LOOPS, 0, MAX_EVENT_LOOPS);
        Optional<String> token = Optional.empty();
        Optional<YamlNode> tokenNode = m.get("admin_token");
        if (tokenNode.isPresent() && !tokenNode.get().isNull()) {
            String value = tokenNode.get().asString();
            if (value.length() < MIN_TOKEN_LENGTH || value.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
                throw tokenNode.get().error("an admin token needs at least " + MIN_TOKEN_LENGTH
                        + " printable characters without spaces");
            }
            token = Optional.of(value);
        }
        if (admin.isPresent() && token.isEmpty() && !isLoopback(admin.get())) {
            throw adminNode.get().error("the admin API is bound beyond loopback (" + admin.get()
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
            String format = formatNode.isPresent() ? formatNode.get().asString().toLowerCase()
                    : NodeSettings.AccessLogConfig.JSON;
            if (!format.equals(NodeSettings.AccessLogConfig.JSON) && !format.equals(NodeSettings.AccessLogConfig.COMBINED)) {
                throw formatNode.get().error("expected json or combined, got '" + format + "'");
            }
            if (!path.equals("-")) {
                Path file = baseDir.resolve(path).normalize();
                Path parent = file.toAbsolutePath().getParent();
                if (parent == null || !Files.isDirectory(parent)) {
                    throw log.required("path").error("directory " + parent + " does not exist"
                            + (Path.of(path).isAbsolute() ? "" : baseNote));
                }
                path = file.toAbsolutePath().toString();
            }
            accessLog = Optional.of(new NodeSettings.AccessLogConfig(path, format));
        }
        Duration resolveEvery = m.zeroOrPositiveDuration("resolve_every", NodeSettings.DEFAULT_RESOLVE_EVERY);
        return new NodeSettings(name, admin, eventLoops, token, drainGrace, drainTimeout, accessLog, resolveEvery);
    }

    private static final int MIN_TOKEN_LENGTH = 16;

    private static boolean isLoopback(HostPort address) {
        String host = address.host();
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
    }

    private static String defaultNodeName() {
        try {
            String host = InetAddress.getLocalHost().getHostName();
            return host == null || host.isBlank() ? FALLBACK_NODE_NAME : host;
        } catch (IOException | SecurityException e) {
            return FALLBACK_NODE_NAME;
        }
    }

    private static String name(YamlNode n, String what, String why) throws ConfigException {
        String value = n.asString();
        if (!NAME.matcher(value).matches()) {
            throw n.error(what + " may use only letters, digits, '.', '_' and '-' (" + why + "), got '"
                    + value + "'");
        }
        return value;
    }

    private List<ListenerConfig> listeners(YamlMap root) throws ConfigException {
        List<YamlNode> items = nonEmptyList(root, "listeners", "listener");
        List<ListenerConfig> listeners = new ArrayList<>();
        for (YamlNode item : items) {
            YamlMap m = item.asMap().allowOnly("bind", "max_connections", "proxy_protocol", "trusted_proxies", "tls",
                    "redirect_https");
            HostPort bind = bind(m.required("bind"));
            int maxConnections = m.integer("max_connections", ListenerConfig.DEFAULT_MAX_CONNECTIONS,
                    1, Integer.MAX_VALUE);
            boolean proxyProtocol = m.bool("proxy_protocol", false);
            List<Cidr> trusted = new ArrayList<>();
            Optional<YamlNode> trustedNode = m.get("trusted_proxies");
            if (trustedNode.isPresent() && !trustedNode.get().isNull()) {
                for (YamlNode cidr : trustedNode.get().asList()) {
                    try {
                        trusted.add(Cidr.parse(cidr.asString()));
                    } catch (IllegalArgumentException e) {
                        throw cidr.error(e.getMessage());
                    }
                }
            }
            if (proxyProtocol && trusted.isEmpty()) {
                throw m.required("proxy_protocol").error("proxy_protocol needs trusted_proxies: the addresses of the "
                        + "L4 front allowed to state the client's address");
            }
            Optional<ListenerTlsConfig> tls = listenerTls(m.get("tls"));
            Optional<RedirectConfig> redirect = redirectHttps(m.get("redirect_https"));
            if (tls.isPresent() && redirect.isPresent()) {
                throw m.required("redirect_https").error("this listener already speaks https (it has tls); "
                        + "redirect_https belongs on a plain listener");
            }
            listeners.add(new ListenerConfig(bind, maxConnections, proxyProtocol, trusted, tls, redirect));
        }
        return listeners;
    }

    private Optional<ListenerTlsConfig> listenerTls(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return Optional.empty();
        }
        YamlMap m = section.get().asMap().allowOnly("certificates", "provider", "session_tickets", "hsts",
                "check_every");
        List<ListenerTlsConfig.Certificate> certificates = new ArrayList<>();
        for (YamlNode item : nonEmptyList(m, "certificates", "certificate")) {
            certificates.add(certificate(item));
        }
        ListenerTlsConfig.Provider provider = ListenerTlsConfig.Provider.AUTO;
        Optional<YamlNode> providerNode = m.get("provider");
        if (providerNode.isPresent()) {
            String value = providerNode.get().asString().trim();
            List<String> accepted = List.of("auto", "openssl", "jdk");
            if (!accepted.contains(value)) {
                throw providerNode.get().error("unknown provider '" + value + "'" + DidYouMean.hint(value, accepted)
                        + "; accepted: " + String.join(", ", accepted));
            }
            provider = ListenerTlsConfig.Provider.valueOf(value.toUpperCase(Locale.ROOT));
        }
        return Optional.of(new ListenerTlsConfig(certificates, provider, sessionTickets(m.get("session_tickets")),
                hsts(m.get("hsts")), m.zeroOrPositiveDuration("check_every", ListenerTlsConfig.DEFAULT_CHECK_EVERY)));
    }

    /** A certificate and key, read and checked now so a wrong file is a config error, not a failed start. */
    private ListenerTlsConfig.Certificate certificate(YamlNode item) throws ConfigException {
        YamlMap m = item.asMap().allowOnly("cert", "key", "names", "ocsp_response");
        m.required("cert");
        m.required("key");
        Path cert = readableFile(m, "cert").orElseThrow();
        Path key = readableFile(m, "key").orElseThrow();
        java.security.cert.X509Certificate leaf;
        try {
            leaf = io.flotilla.node.tls.PemFiles.certificates(cert).get(0);
        } catch (IllegalArgumentException e) {
            throw m.required("cert").error(e.getMessage());
        }
        try {
            io.flotilla.node.tls.PemFiles.checkPair(leaf, io.flotilla.node.tls.PemFiles.privateKey(key), key);
        } catch (IllegalArgumentException e) {
            throw m.required("key").error(e.getMessage());
        }
        List<String> names = new ArrayList<>();
        Optional<YamlNode> namesNode = m.get("names");
        if (namesNode.isPresent()) {
            for (YamlNode name : namesNode.get().asList()) {
                names.add(host(name));
            }
        }
        return new ListenerTlsConfig.Certificate(cert, key, names, readableFile(m, "ocsp_response"));
    }

    private Optional<ListenerTlsConfig.SessionTickets> sessionTickets(Optional<YamlNode> section)
            throws ConfigException {
        if (section.isEmpty()) {
            return Optional.empty();
        }
        YamlMap m = section.get().asMap().allowOnly("file", "keys");
        Optional<YamlNode> keysNode = m.get("keys");
        Optional<Path> file = readableFile(m, "file");
        if (file.isPresent() == keysNode.isPresent()) {
            throw section.get().error("needs exactly one of file (a key file) or keys (a list of base64 keys)");
        }
        List<String> keys = new ArrayList<>();
        YamlNode at = file.isPresent() ? m.required("file") : keysNode.get();
        if (keysNode.isPresent()) {
            for (YamlNode key : keysNode.get().asList()) {
                keys.add(key.asString());
            }
        }
        try {
            io.flotilla.node.tls.TicketKeys.decode(file.isPresent() ? io.flotilla.node.tls.TicketKeys.lines(file.get()) : keys);
        } catch (IllegalArgumentException e) {
            throw at.error(e.getMessage());
        }
        return Optional.of(new ListenerTlsConfig.SessionTickets(file, keys));
    }

    /** {@code Strict-Transport-Security} (RFC 6797 §6.1) from {max_age, include_subdomains, preload}. */
    private static Optional<String> hsts(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return Optional.empty();
        }
        YamlMap m = section.get().asMap().allowOnly("max_age", "include_subdomains", "preload");
        Duration maxAge = m.zeroOrPositiveDuration("max_age", DEFAULT_HSTS_MAX_AGE);
        boolean subdomains = m.bool("include_subdomains", false);
        boolean preload = m.bool("preload", false);
        if (preload && (!subdomains || maxAge.compareTo(DEFAULT_HSTS_MAX_AGE) < 0)) {
            throw m.required("preload").error("the preload list takes only include_subdomains: true with a max_age "
                    + "of at least 365d");
        }
        return Optional.of("max-age=" + maxAge.toSeconds() + (subdomains ? "; includeSubDomains" : "")
                + (preload ? "; preload" : ""));
    }

    private static final Duration DEFAULT_HSTS_MAX_AGE = Duration.ofDays(365);

    private static Optional<RedirectConfig> redirectHttps(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return Optional.empty();
        }
        if (section.get().isScalar()) {
            return section.get().asBoolean()
                    ? Optional.of(new RedirectConfig(RedirectConfig.DEFAULT_PORT, RedirectConfig.DEFAULT_STATUS))
                    : Optional.empty();
        }
        YamlMap m = section.get().asMap().allowOnly("port", "status");
        int status = m.integer("status", RedirectConfig.DEFAULT_STATUS, 300, 399);
        if (status != 301 && status != 308) {
            throw m.required("status").error("expected 301 or 308 (308 keeps the method and body), got " + status);
        }
        return Optional.of(new RedirectConfig(m.integer("port", RedirectConfig.DEFAULT_PORT, 1, 65535), status));
    }

    /** Reads an address this node listens on, refusing one that another configured socket already takes. */
    private HostPort bind(YamlNode n) throws ConfigException {
        HostPort address = n.asHostPort();
        for (Bound other : bound) {
            if (overlaps(address, other.address())) {
                throw n.error(address + " clashes with " + other.field() + " " + other.address()
                        + " (line " + other.line() + ")");
            }
        }
        bound.add(new Bound(address, n.path(), n.line()));
        return address;
    }

    private record Bound(HostPort address, String field, int line) {
    }

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

    private Map<String, UpstreamConfig> upstreams(Optional<YamlNode> section) throws ConfigException {
        Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
        if (section.isEmpty()) {
            return upstreams;
        }
        for (YamlMap.Entry e : section.get().asMap().entries()) {
            String name = name(e.key(), "upstream name", "it appears in logs and metrics");
            YamlMap m = e.value().asMap().allowOnly("balance", "hash_on", "servers", "pool", "health", "passive",
                    "retries", "slow_start", "circuit", "sticky", "tls", "try_timeout");
            String balance = UpstreamConfig.DEFAULT_BALANCE;
            Optional<YamlNode> balanceNode = m.get("balance");
            String hashOn = UpstreamConfig.DEFAULT_HASH_ON;
            Optional<YamlNode> hashNode = m.get("hash_on");
            if (hashNode.isPresent()) {
                hashOn = hashNode.get().asString();
                boolean named = (hashOn.startsWith("header:") || hashOn.startsWith("cookie:"))
                        && hashOn.indexOf(':') < hashOn.length() - 1
                        && hashOn.substring(hashOn.indexOf(':') + 1).chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ':');
                if (!hashOn.equals("client_ip") && !named) {
                    throw hashNode.get().error("expected client_ip, header:NAME or cookie:NAME, got '" + hashOn + "'");
                }
            }
            if (balanceNode.isPresent()) {
                balance = balanceNode.get().asString();
                List<String> accepted = UpstreamConfig.BALANCERS;
                if (!accepted.contains(balance)) {
                    throw balanceNode.get().error("unknown balance '" + balance + "'"
                            + DidYouMean.hint(balance, accepted) + "; accepted: " + String.join(", ", accepted));
                }
            }
            HealthConfig health = new HealthConfig(active(m.get("health")), passive(m.get("passive")),
                    m.integer("retries", HealthConfig.DEFAULT_RETRIES, 0, 10),
                    m.zeroOrPositiveDuration("slow_start", Duration.ZERO), circuit(m.get("circuit")),
                    m.zeroOrPositiveDuration("try_timeout", Duration.ZERO));
            Optional<String> sticky = Optional.empty();
            Optional<YamlNode> stickyNode = m.get("sticky");
            if (stickyNode.isPresent() && !stickyNode.get().isNull()) {
                YamlMap st = stickyNode.get().asMap().allowOnly("cookie");
                YamlNode cookie = st.required("cookie");
                String cookieName = cookie.asString();
                if (cookieName.isEmpty() || !cookieName.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_' || c == '-')) {
                    throw cookie.error("a cookie name of letters, digits, '_' and '-', got '" + cookieName + "'");
                }
                sticky = Optional.of(cookieName);
            }
            upstreams.put(name, new UpstreamConfig(name, balance, hashOn, servers(m), pool(m.get("pool")), health, sticky,
                    upstreamTls(m.get("tls"))));
        }
        return upstreams;
    }

    private List<UpstreamConfig.ServerConfig> servers(YamlMap upstream) throws ConfigException {
        List<YamlNode> items = nonEmptyList(upstream, "servers", "server");
        List<UpstreamConfig.ServerConfig> servers = new ArrayList<>();
        Map<HostPort, Integer> lines = new HashMap<>();
        for (YamlNode item : items) {
            YamlNode addressNode;
            int weight = UpstreamConfig.ServerConfig.DEFAULT_WEIGHT;
            if (item.isMapping()) {
                YamlMap m = item.asMap().allowOnly("address", "weight");
                addressNode = m.required("address");
                weight = m.integer("weight", weight, 0, MAX_WEIGHT);
            } else {
                addressNode = item;
            }
            HostPort address = addressNode.asHostPort();
            if (address.port() == 0) {
                throw addressNode.error("a server needs its real port; port 0 only makes sense for listening");
            }
            Integer firstLine = lines.putIfAbsent(address, addressNode.line());
            if (firstLine != null) {
                throw addressNode.error("server " + address + " is listed twice (first at line " + firstLine
                        + "); give it a higher weight instead");
            }
            servers.add(new UpstreamConfig.ServerConfig(address, weight));
        }
        // Every weight at 0 is allowed: that drains the whole upstream, and its routes answer 503.
        return servers;
    }

    private Optional<HealthConfig.Active> active(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty() || section.get().isNull()) {
            return Optional.empty();
        }
        YamlMap m = section.get().asMap().allowOnly("tcp", "method", "path", "host", "expect", "body", "interval",
                "timeout", "rise", "fall");
        boolean tcp = m.bool("tcp", false);
        String method = "GET";
        Optional<YamlNode> methodNode = m.get("method");
        if (methodNode.isPresent()) {
            method = methodNode.get().asString().toUpperCase(Locale.ROOT);
            if (!List.of("GET", "HEAD", "OPTIONS").contains(method)) {
                throw methodNode.get().error("a probe method is GET, HEAD or OPTIONS, got '" + method + "'");
            }
        }
        String path = "/";
        Optional<YamlNode> pathNode = m.get("path");
        if (pathNode.isPresent()) {
            path = pathNode.get().asString();
            if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
                throw pathNode.get().error("a probe path starts with / and has no spaces or control characters");
            }
        } else if (!tcp) {
            throw m.required("path", "an HTTP health check needs a path (or tcp: true)").error("unreachable");
        }
        Optional<String> host = m.get("host").map(n -> n.isNull() ? null : safeString(n)).filter(v -> v != null);
        int min = 200;
        int max = 399;
        Optional<YamlNode> expect = m.get("expect");
        if (expect.isPresent()) {
            String range = expect.get().asString().trim();
            try {
                int dash = range.indexOf('-');
                min = Integer.parseInt(dash < 0 ? range : range.substring(0, dash).trim());
                max = dash < 0 ? min : Integer.parseInt(range.substring(dash + 1).trim());
            } catch (NumberFormatException e) {
                throw expect.get().error("expected a status or a range like 200-399, got '" + range + "'");
            }
            if (min < 100 || max > 599 || min > max) {
                throw expect.get().error("expected a status range within 100-599, got '" + range + "'");
            }
        }
        Optional<String> body = m.get("body").map(n -> n.isNull() ? null : safeString(n)).filter(v -> v != null);
        Duration interval = m.positiveDuration("interval", HealthConfig.Active.DEFAULT_INTERVAL);
        Duration timeout = m.positiveDuration("timeout", HealthConfig.Active.DEFAULT_TIMEOUT);
        if (timeout.compareTo(interval) > 0) {
            throw m.required("timeout").error("a probe timeout longer than its interval would overlap the next probe");
        }
        return Optional.of(new HealthConfig.Active(tcp, method, path, host, min, max, body, interval, timeout,
                m.integer("rise", HealthConfig.Active.DEFAULT_RISE, 1, 100),
                m.integer("fall", HealthConfig.Active.DEFAULT_FALL, 1, 100)));
    }

    private static String safeString(YamlNode n) {
        try {
            return n.asString();
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }

    private Optional<UpstreamTlsConfig> upstreamTls(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty() || section.get().isNull()) {
            return Optional.empty();
        }
        YamlMap m = section.get().asMap().allowOnly("ca", "verify", "sni", "cert", "key");
        Optional<Path> ca = readableFile(m, "ca");
        Optional<Path> cert = readableFile(m, "cert");
        Optional<Path> key = readableFile(m, "key");
        if (cert.isPresent() != key.isPresent()) {
            throw (cert.isPresent() ? m.required("cert") : m.required("key"))
                    .error("a client certificate needs both cert and key");
        }
        Optional<String> sni = Optional.empty();
        Optional<YamlNode> sniNode = m.get("sni");
        if (sniNode.isPresent() && !sniNode.get().isNull()) {
            sni = Optional.of(sniNode.get().asString());
        }
        return Optional.of(new UpstreamTlsConfig(ca, m.bool("verify", true), sni, cert, key));
    }

    private Optional<Path> readableFile(YamlMap m, String key) throws ConfigException {
        Optional<YamlNode> node = m.get(key);
        if (node.isEmpty() || node.get().isNull()) {
            return Optional.empty();
        }
        Path file = baseDir.resolve(node.get().asString()).toAbsolutePath().normalize();
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw node.get().error("cannot read " + file
                    + (Path.of(node.get().asString()).isAbsolute() ? "" : baseNote));
        }
        return Optional.of(file);
    }

    private HealthConfig.Circuit circuit(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty() || section.get().isNull()) {
            return HealthConfig.Circuit.defaults();
        }
        YamlMap m = section.get().asMap().allowOnly("max_requests", "max_pending", "max_connections",
                "retry_budget_percent", "min_retries");
        return new HealthConfig.Circuit(
                m.integer("max_requests", HealthConfig.Circuit.DEFAULT_MAX_REQUESTS, 1, Integer.MAX_VALUE),
                m.integer("max_pending", HealthConfig.Circuit.DEFAULT_MAX_PENDING, 0, Integer.MAX_VALUE),
                m.integer("max_connections", HealthConfig.Circuit.DEFAULT_MAX_CONNECTIONS, 1, Integer.MAX_VALUE),
                m.integer("retry_budget_percent", HealthConfig.Circuit.DEFAULT_RETRY_BUDGET_PERCENT, 0, 100),
                m.integer("min_retries", HealthConfig.Circuit.DEFAULT_MIN_RETRIES, 0, Integer.MAX_VALUE));
    }

    private HealthConfig.Passive passive(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty() || section.get().isNull()) {
            return HealthConfig.Passive.defaults();
        }
        YamlMap m = section.get().asMap().allowOnly("failures", "ejection", "max_ejected_percent", "statuses");
        List<Integer> statuses = HealthConfig.Passive.DEFAULT_FAILURE_STATUSES;
        Optional<YamlNode> statusNode = m.get("statuses");
        if (statusNode.isPresent() && !statusNode.get().isNull()) {
            statuses = new ArrayList<>();
            for (YamlNode item : statusNode.get().asList()) {
                statuses.add(item.asInt(500, 599));
            }
        }
        return new HealthConfig.Passive(
                m.integer("failures", HealthConfig.Passive.DEFAULT_FAILURES, 0, 1000),
                m.positiveDuration("ejection", HealthConfig.Passive.DEFAULT_EJECTION),
                m.integer("max_ejected_percent", HealthConfig.Passive.DEFAULT_MAX_EJECTED_PERCENT, 0, 100),
                statuses);
    }

    private PoolConfig pool(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return PoolConfig.defaults();
        }
        YamlMap m = section.get().asMap().allowOnly("max_idle", "idle_timeout", "max_age", "max_requests");
        return new PoolConfig(
                m.integer("max_idle", PoolConfig.DEFAULT_MAX_IDLE, 0, Integer.MAX_VALUE),
                m.positiveDuration("idle_timeout", PoolConfig.DEFAULT_IDLE_TIMEOUT),
                m.positiveDuration("max_age", PoolConfig.DEFAULT_MAX_AGE),
                m.integer("max_requests", PoolConfig.DEFAULT_MAX_REQUESTS, 0, Integer.MAX_VALUE));
    }

    private List<RouteConfig> routes(YamlMap root, Map<String, UpstreamConfig> upstreams) throws ConfigException {
        List<YamlNode> items = nonEmptyList(root, "routes", "route");
        List<RouteConfig> routes = new ArrayList<>();
        Map<String, YamlNode> seen = new HashMap<>();
        for (YamlNode item : items) {
            YamlMap m = item.asMap().allowOnly("host", "path", "upstream", "static", "strip_prefix", "rewrite", "cache",
                    "rate_limit", "compression");
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
                throw m.get("cache").get().error("only a route to an upstream caches; static files are served from disk");
            }
            routes.add(new RouteConfig(host, path, upstream, staticRoot, rewrite(m), cache, rateLimit(m.get("rate_limit")),
                    CompressionConfig.routeSwitch(m.get("compression"))));

            String key = host.orElse("") + ' ' + path;
            YamlNode first = seen.putIfAbsent(key, item);
            if (first != null) {
                throw item.error("same host (" + host.map(h -> "'" + h + "'").orElse("any") + ") and path '"
                        + path + "' as " + first.path() + " at line " + first.line() + "; one would never match");
            }
        }
        return routes;
    }

    private static String host(YamlNode n) throws ConfigException {
        String raw = n.asString().trim();
        String host = raw.toLowerCase(Locale.ROOT);
        if (host.equals("*")) {
            throw n.error("to match any host, leave host out; '*' only works as a prefix, as in *.example.com");
        }
        if (host.indexOf(':') >= 0) {
            throw n.error("'" + raw + "' has a port; a route host is a name only (the listener decides the port)");
        }
        String name = host.startsWith("*.") ? host.substring(2) : host;
        boolean valid = !name.isEmpty();
        for (String label : name.split("\\.", -1)) {
            valid &= HOST_LABEL.matcher(label).matches();
        }
        if (!valid) {
            throw n.error("expected a host name (letters, digits, '-' and '.') or a wildcard like *.example.com, got '"
                    + raw + "'");
        }
        return host;
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

    private static String upstreamReference(YamlNode n, Map<String, UpstreamConfig> upstreams)
            throws ConfigException {
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
            dir = baseDir.resolve(text).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw n.error("not a usable path: " + e.getReason());
        }
        String shown = "'" + text + "'" + (Path.of(text).isAbsolute() ? "" : " (" + dir + ")");
        if (!Files.exists(dir)) {
            throw n.error("directory " + shown + " does not exist" + (Path.of(text).isAbsolute() ? "" : baseNote));
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

    private static TimeoutConfig timeouts(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return TimeoutConfig.defaults();
        }
        YamlMap m = section.get().asMap().allowOnly("client_header", "client_body", "keepalive", "client_write",
                "upstream_connect", "upstream_read", "upstream_write");
        return new TimeoutConfig(
                m.positiveDuration("client_header", TimeoutConfig.DEFAULT_CLIENT_HEADER),
                m.positiveDuration("client_body", TimeoutConfig.DEFAULT_CLIENT_BODY),
                m.positiveDuration("keepalive", TimeoutConfig.DEFAULT_KEEP_ALIVE),
                m.positiveDuration("client_write", TimeoutConfig.DEFAULT_CLIENT_WRITE),
                m.positiveDuration("upstream_connect", TimeoutConfig.DEFAULT_UPSTREAM_CONNECT),
                m.positiveDuration("upstream_read", TimeoutConfig.DEFAULT_UPSTREAM_READ),
                m.positiveDuration("upstream_write", TimeoutConfig.DEFAULT_UPSTREAM_WRITE));
    }

    private static LimitConfig limits(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return LimitConfig.defaults();
        }
        YamlMap m = section.get().asMap()
                .allowOnly("request_line", "header_line", "headers_total", "header_count", "body");
        return new LimitConfig(
                (int) m.size("request_line", LimitConfig.DEFAULT_REQUEST_LINE, 1, Integer.MAX_VALUE),
                (int) m.size("header_line", LimitConfig.DEFAULT_HEADER_LINE, 1, Integer.MAX_VALUE),
                (int) m.size("headers_total", LimitConfig.DEFAULT_HEADERS_TOTAL, 1, Integer.MAX_VALUE),
                m.integer("header_count", LimitConfig.DEFAULT_HEADER_COUNT, 1, Integer.MAX_VALUE),
                m.size("body", LimitConfig.DEFAULT_BODY, 0, Long.MAX_VALUE));
    }

    private static CacheConfig cache(Optional<YamlNode> section) throws ConfigException {
        CacheConfig d = CacheConfig.defaults();
        if (section.isEmpty()) {
            return d;
        }
        YamlMap m = section.get().asMap().allowOnly("max_size", "max_entry", "tag_header", "targeted",
                "strip_targeted", "heuristic_fraction", "heuristic_max", "collapse_wait", "keep_stale", "fill_memory");
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
                throw fractionNode.get().error("expected a fraction from 0 to 1, such as 0.1, got '"
                        + fractionNode.get().asString() + "'");
            }
        }
        return new CacheConfig(maxSize, maxEntry, tagHeader, targeted, m.bool("strip_targeted", d.stripTargeted()),
                fraction, m.zeroOrPositiveDuration("heuristic_max", d.heuristicMax()),
                m.zeroOrPositiveDuration("collapse_wait", d.collapseWait()),
                m.zeroOrPositiveDuration("keep_stale", d.keepStale()),
                m.size("fill_memory", d.fillMemory(), maxEntry, Long.MAX_VALUE));
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
            boolean header = key.startsWith("header:") && TOKEN.matcher(key.substring(7)).matches();
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
        return Optional.of(new RouteCacheConfig(keyQuery, keyHeaders, keyCookies,
                m.bool("allow_set_cookie", d.allowSetCookie()), bypass));
    }

    private static String headerName(YamlNode n) throws ConfigException {
        String name = n.asString().trim();
        if (!TOKEN.matcher(name).matches()) {
            throw n.error("expected a header name (letters, digits and !#$%&'*+.^_`|~-), got '" + name + "'");
        }
        return name;
    }

    private static HeaderPolicy headers(Optional<YamlNode> section) throws ConfigException {
        HeaderPolicy defaults = HeaderPolicy.defaults();
        if (section.isEmpty()) {
            return defaults;
        }
        YamlMap m = section.get().asMap()
                .allowOnly("host", "x_forwarded", "forwarded", "via", "server", "request_id");
        String host = defaults.host();
        Optional<YamlNode> hostNode = m.get("host");
        if (hostNode.isPresent()) {
            host = keywordOrLiteral(hostNode.get(), HeaderPolicy.HOST_PASS, HeaderPolicy.HOST_UPSTREAM);
            if (!host.equals(HeaderPolicy.HOST_PASS) && !host.equals(HeaderPolicy.HOST_UPSTREAM)
                    && !VISIBLE_ASCII.matcher(host).matches()) {
                throw hostNode.get().error("expected pass, upstream or a literal Host value such as "
                        + "example.com:8080 (no spaces), got '" + host + "'");
            }
        }
        String server = defaults.server();
        Optional<YamlNode> serverNode = m.get("server");
        if (serverNode.isPresent()) {
            server = keywordOrLiteral(serverNode.get(), HeaderPolicy.SERVER_PASS, HeaderPolicy.SERVER_HIDE);
            if (!PRINTABLE_ASCII.matcher(server).matches()) {
                throw serverNode.get().error("expected pass, hide or a literal Server value in printable ASCII, got '"
                        + server + "'");
            }
        }
        Optional<String> requestId = defaults.requestId();
        Optional<YamlNode> requestIdNode = m.get("request_id");
        if (requestIdNode.isPresent()) {
            String value = requestIdNode.get().asString().trim();
            if (value.isEmpty() || value.equalsIgnoreCase("false")) {
                requestId = Optional.empty();
            } else if (value.equalsIgnoreCase("true") || !TOKEN.matcher(value).matches()) {
                throw requestIdNode.get().error("expected a header name such as " + HeaderPolicy.DEFAULT_REQUEST_ID
                        + ", or false to disable, got '" + value + "'");
            } else {
                requestId = Optional.of(value);
            }
        }
        return new HeaderPolicy(host,
                m.bool("x_forwarded", defaults.xForwarded()),
                m.bool("forwarded", defaults.forwarded()),
                m.bool("via", defaults.via()),
                server,
                requestId);
    }

    /** The keyword in its canonical spelling when the value is one, whatever its case; else the value. */
    private static String keywordOrLiteral(YamlNode n, String... keywords) throws ConfigException {
        String value = n.asString().trim();
        for (String keyword : keywords) {
            if (keyword.equalsIgnoreCase(value)) {
                return keyword;
            }
        }
        return value;
    }

    private Optional<ClusterConfig> cluster(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return Optional.empty();
        }
        YamlMap m = section.get().asMap().allowOnly("name", "bind", "gossip_port", "peers", "discovery", "dns",
                "expected_size", "near_cache", "probe_owners", "key_file", "keys", "insecure");
        String name = name(m.required("name"), "cluster name", "nodes join only a fleet of the same name");
        HostPort bind = bind(m.required("bind"));
        List<HostPort> peers = new ArrayList<>();
        Map<HostPort, Integer> lines = new HashMap<>();
        Optional<YamlNode> peersNode = m.get("peers");
        for (YamlNode peerNode : peersNode.isPresent() ? peersNode.get().asList() : List.<YamlNode>of()) {
            HostPort peer = peerNode.asHostPort();
            if (peer.port() == 0) {
                throw peerNode.error("a peer needs its real port; port 0 only makes sense for listening");
            }
            Integer firstLine = lines.putIfAbsent(peer, peerNode.line());
            if (firstLine != null) {
                throw peerNode.error("peer " + peer + " is listed twice (first at line " + firstLine + ")");
            }
            peers.add(peer);
        }
        String discovery = "static";
        Optional<YamlNode> discoveryNode = m.get("discovery");
        if (discoveryNode.isPresent()) {
            discovery = discoveryNode.get().asString().trim();
            if (!List.of("static", "dns", "multicast").contains(discovery)) {
                throw discoveryNode.get().error("expected static, dns or multicast, got '" + discovery + "'"
                        + DidYouMean.hint(discovery, List.of("static", "dns", "multicast")));
            }
        }
        String dns = m.get("dns").isPresent() ? m.get("dns").get().asString().trim() : "";
        if (discovery.equals("dns") && dns.isEmpty()) {
            String problem = "discovery: dns needs dns: NAME (the name that lists the members)";
            throw m.required("dns", problem).error(problem);
        }
        Optional<Path> keyFile = readableFile(m, "key_file");
        List<String> keys = fleetKeys(m, keyFile);
        boolean insecure = m.bool("insecure", false);
        if (keyFile.isEmpty() && keys.isEmpty() && !insecure && !isLoopback(bind)) {
            throw m.required("bind").error("a fleet bound beyond loopback needs its secret: key_file: FILE (make one"
                    + " with: flotilla fleet-key > FILE) or keys: [...]; or insecure: true on a network private by"
                    + " other means");
        }
        return Optional.of(new ClusterConfig(name, bind,
                m.integer("gossip_port", ClusterConfig.DEFAULT_GOSSIP_PORT, 0, 65535), peers, discovery, dns,
                m.integer("expected_size", 1, 1, 10_000),
                m.size("near_cache", ClusterConfig.DEFAULT_NEAR_CACHE, 0, Long.MAX_VALUE),
                m.integer("probe_owners", ClusterConfig.DEFAULT_PROBE_OWNERS, 1, 100), keyFile,
                keys, insecure));
    }

    /** The inline fleet keys (empty with a key_file or no secret), both forms checked; not both given. */
    private static List<String> fleetKeys(YamlMap m, Optional<Path> keyFile) throws ConfigException {
        Optional<YamlNode> keysNode = m.get("keys");
        if (keyFile.isPresent() && keysNode.isPresent()) {
            throw keysNode.get().error("give the fleet secret once: key_file or keys, not both");
        }
        List<String> keys = new ArrayList<>();
        if (keysNode.isPresent()) {
            for (YamlNode key : keysNode.get().asList()) {
                keys.add(key.asString());
            }
        }
        if (keyFile.isEmpty() && keysNode.isEmpty()) {
            return keys;
        }
        YamlNode at = keyFile.isPresent() ? m.required("key_file") : keysNode.get();
        try {
            FleetKeys.decode(keyFile.isPresent() ? FleetKeys.lines(keyFile.get()) : keys);
        } catch (IllegalArgumentException e) {
            throw at.error(e.getMessage());
        }
        return keys;
    }

    private static List<YamlNode> nonEmptyList(YamlMap parent, String key, String what) throws ConfigException {
        YamlNode n = parent.required(key, "at least one " + what + " is required");
        List<YamlNode> items = n.asList();
        if (items.isEmpty()) {
            throw n.error("at least one " + what + " is required, got an empty list");
        }
        return items;
    }
}
