package io.flotilla.node.config;

import static io.flotilla.node.config.ConfigValues.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The {@code upstreams} section: servers and weights, balancing, active and passive health, circuit, pool, TLS to servers. */
final class UpstreamSection {
    private final ConfigLoader loader;

    private UpstreamSection(ConfigLoader loader) {
        this.loader = loader;
    }

    /** Parses the section; errors name the file, line and field. */
    static Map<String, UpstreamConfig> parse(ConfigLoader loader, Optional<YamlNode> section) throws ConfigException {
        return new UpstreamSection(loader).upstreams(section);
    }

    // Balancers add weights up across servers; a modest bound keeps those sums far from int overflow.
    private static final int MAX_WEIGHT = 1000;

    private Map<String, UpstreamConfig> upstreams(Optional<YamlNode> section) throws ConfigException {
        Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
        if (section.isEmpty()) {
            return upstreams;
        }
        for (YamlMap.Entry e : section.get().asMap().entries()) {
            String name = name(e.key(), "upstream name", "it appears in logs and metrics");
            YamlMap m = e.value()
                    .asMap()
                    .allowOnly(
                            "balance",
                            "hash_on",
                            "servers",
                            "pool",
                            "health",
                            "passive",
                            "retries",
                            "slow_start",
                            "circuit",
                            "sticky",
                            "tls",
                            "try_timeout",
                            "protocol");
            String balance = UpstreamConfig.DEFAULT_BALANCE;
            Optional<YamlNode> balanceNode = m.get("balance");
            String hashOn = UpstreamConfig.DEFAULT_HASH_ON;
            Optional<YamlNode> hashNode = m.get("hash_on");
            if (hashNode.isPresent()) {
                hashOn = hashNode.get().asString();
                boolean named = (hashOn.startsWith("header:") || hashOn.startsWith("cookie:"))
                        && hashOn.indexOf(':') < hashOn.length() - 1
                        && hashOn.substring(hashOn.indexOf(':') + 1)
                                .chars()
                                .allMatch(c -> c > 0x20 && c < 0x7f && c != ':');
                if (!hashOn.equals("client_ip") && !named) {
                    throw hashNode.get().error("expected client_ip, header:NAME or cookie:NAME, got '" + hashOn + "'");
                }
            }
            if (balanceNode.isPresent()) {
                balance = balanceNode.get().asString();
                List<String> accepted = UpstreamConfig.BALANCERS;
                if (!accepted.contains(balance)) {
                    throw balanceNode
                            .get()
                            .error("unknown balance '" + balance + "'" + DidYouMean.hint(balance, accepted)
                                    + "; accepted: " + String.join(", ", accepted));
                }
            }
            HealthConfig health = new HealthConfig(
                    active(m.get("health")),
                    passive(m.get("passive")),
                    m.integer("retries", HealthConfig.DEFAULT_RETRIES, 0, 10),
                    m.zeroOrPositiveDuration("slow_start", Duration.ZERO),
                    circuit(m.get("circuit")),
                    m.zeroOrPositiveDuration("try_timeout", Duration.ZERO));
            Optional<String> sticky = Optional.empty();
            Optional<YamlNode> stickyNode = m.get("sticky");
            if (stickyNode.isPresent() && !stickyNode.get().isNull()) {
                YamlMap st = stickyNode.get().asMap().allowOnly("cookie");
                YamlNode cookie = st.required("cookie");
                String cookieName = cookie.asString();
                if (cookieName.isEmpty()
                        || !cookieName.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_' || c == '-')) {
                    throw cookie.error("a cookie name of letters, digits, '_' and '-', got '" + cookieName + "'");
                }
                sticky = Optional.of(cookieName);
            }
            Optional<UpstreamTlsConfig> tls = upstreamTls(m.get("tls"));
            upstreams.put(
                    name,
                    new UpstreamConfig(
                            name,
                            balance,
                            hashOn,
                            servers(m),
                            pool(m.get("pool")),
                            health,
                            sticky,
                            tls,
                            protocol(m, tls.isPresent())));
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
        YamlMap m = section.get()
                .asMap()
                .allowOnly("tcp", "method", "path", "host", "expect", "body", "interval", "timeout", "rise", "fall");
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
            throw m.required("path", "an HTTP health check needs a path (or tcp: true)")
                    .error("unreachable");
        }
        Optional<String> host =
                m.get("host").map(n -> n.isNull() ? null : safeString(n)).filter(v -> v != null);
        int min = 200;
        int max = 399;
        Optional<YamlNode> expect = m.get("expect");
        if (expect.isPresent()) {
            String range = expect.get().asString().trim();
            try {
                int dash = range.indexOf('-');
                min = Integer.parseInt(
                        dash < 0 ? range : range.substring(0, dash).trim());
                max = dash < 0
                        ? min
                        : Integer.parseInt(range.substring(dash + 1).trim());
            } catch (NumberFormatException e) {
                throw expect.get().error("expected a status or a range like 200-399, got '" + range + "'");
            }
            if (min < 100 || max > 599 || min > max) {
                throw expect.get().error("expected a status range within 100-599, got '" + range + "'");
            }
        }
        Optional<String> body =
                m.get("body").map(n -> n.isNull() ? null : safeString(n)).filter(v -> v != null);
        Duration interval = m.positiveDuration("interval", HealthConfig.Active.DEFAULT_INTERVAL);
        Duration timeout = m.positiveDuration("timeout", HealthConfig.Active.DEFAULT_TIMEOUT);
        if (timeout.compareTo(interval) > 0) {
            throw m.required("timeout").error("a probe timeout longer than its interval would overlap the next probe");
        }
        return Optional.of(new HealthConfig.Active(
                tcp,
                method,
                path,
                host,
                min,
                max,
                body,
                interval,
                timeout,
                m.integer("rise", HealthConfig.Active.DEFAULT_RISE, 1, 100),
                m.integer("fall", HealthConfig.Active.DEFAULT_FALL, 1, 100)));
    }

    /** {@code protocol: http/1.1 | h2 | h2c}; h2 needs tls (ALPN picks it), h2c is cleartext. */
    private static UpstreamConfig.Protocol protocol(YamlMap m, boolean tls) throws ConfigException {
        Optional<YamlNode> node = m.get("protocol");
        if (node.isEmpty()) {
            return UpstreamConfig.Protocol.HTTP1;
        }
        String wanted = node.get().asString();
        for (UpstreamConfig.Protocol p : UpstreamConfig.Protocol.values()) {
            if (p.configName().equals(wanted)) {
                if (p == UpstreamConfig.Protocol.H2 && !tls) {
                    throw node.get().error("h2 is HTTP/2 over TLS and needs a tls section; HTTP/2 in cleartext is h2c");
                }
                if (p == UpstreamConfig.Protocol.H2C && tls) {
                    throw node.get().error("h2c is HTTP/2 in cleartext; with tls, HTTP/2 is h2");
                }
                return p;
            }
        }
        throw node.get().error("unknown protocol '" + wanted + "'; accepted: http/1.1, h2, h2c");
    }

    private Optional<UpstreamTlsConfig> upstreamTls(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty() || section.get().isNull()) {
            return Optional.empty();
        }
        YamlMap m = section.get().asMap().allowOnly("ca", "verify", "sni", "cert", "key");
        Optional<Path> ca = loader.readableFile(m, "ca");
        Optional<Path> cert = loader.readableFile(m, "cert");
        Optional<Path> key = loader.readableFile(m, "key");
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

    private HealthConfig.Circuit circuit(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty() || section.get().isNull()) {
            return HealthConfig.Circuit.defaults();
        }
        YamlMap m = section.get()
                .asMap()
                .allowOnly("max_requests", "max_pending", "max_connections", "retry_budget_percent", "min_retries");
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
        YamlMap m = section.get()
                .asMap()
                .allowOnly("max_idle", "idle_timeout", "max_age", "max_requests", "ping_interval", "ping_timeout");
        return new PoolConfig(
                m.integer("max_idle", PoolConfig.DEFAULT_MAX_IDLE, 0, Integer.MAX_VALUE),
                m.positiveDuration("idle_timeout", PoolConfig.DEFAULT_IDLE_TIMEOUT),
                m.positiveDuration("max_age", PoolConfig.DEFAULT_MAX_AGE),
                m.integer("max_requests", PoolConfig.DEFAULT_MAX_REQUESTS, 0, Integer.MAX_VALUE),
                m.zeroOrPositiveDuration("ping_interval", PoolConfig.DEFAULT_PING_INTERVAL),
                m.positiveDuration("ping_timeout", PoolConfig.DEFAULT_PING_TIMEOUT));
    }
}
