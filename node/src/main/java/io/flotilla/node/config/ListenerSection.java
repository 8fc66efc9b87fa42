package io.flotilla.node.config;

import static io.flotilla.node.config.ConfigValues.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The {@code listeners} section: binds, connection limits, PROXY protocol, TLS (certificates read and checked now), redirects. */
final class ListenerSection {
    private final ConfigLoader loader;

    private ListenerSection(ConfigLoader loader) {
        this.loader = loader;
    }

    /** Parses the section; errors name the file, line and field. */
    static List<ListenerConfig> parse(ConfigLoader loader, YamlMap root) throws ConfigException {
        return new ListenerSection(loader).listeners(root);
    }

    private List<ListenerConfig> listeners(YamlMap root) throws ConfigException {
        List<YamlNode> items = nonEmptyList(root, "listeners", "listener");
        List<ListenerConfig> listeners = new ArrayList<>();
        for (YamlNode item : items) {
            YamlMap m = item.asMap()
                    .allowOnly(
                            "bind",
                            "max_connections",
                            "proxy_protocol",
                            "trusted_proxies",
                            "tls",
                            "redirect_https",
                            "http2",
                            "h2c",
                            "http2_limits");
            HostPort bind = loader.bind(m.required("bind"));
            int maxConnections =
                    m.integer("max_connections", ListenerConfig.DEFAULT_MAX_CONNECTIONS, 1, Integer.MAX_VALUE);
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
                throw m.required("proxy_protocol")
                        .error("proxy_protocol needs trusted_proxies: the addresses of the "
                                + "L4 front allowed to state the client's address");
            }
            Optional<ListenerTlsConfig> tls = listenerTls(m.get("tls"));
            Optional<RedirectConfig> redirect = redirectHttps(m.get("redirect_https"));
            if (tls.isPresent() && redirect.isPresent()) {
                throw m.required("redirect_https")
                        .error("this listener already speaks https (it has tls); "
                                + "redirect_https belongs on a plain listener");
            }
            listeners.add(new ListenerConfig(
                    bind,
                    maxConnections,
                    proxyProtocol,
                    trusted,
                    tls,
                    redirect,
                    Http2Config.parse(m, tls.isPresent())));
        }
        return listeners;
    }

    private Optional<ListenerTlsConfig> listenerTls(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return Optional.empty();
        }
        YamlMap m =
                section.get().asMap().allowOnly("certificates", "provider", "session_tickets", "hsts", "check_every");
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
                throw providerNode
                        .get()
                        .error("unknown provider '" + value + "'" + DidYouMean.hint(value, accepted) + "; accepted: "
                                + String.join(", ", accepted));
            }
            provider = ListenerTlsConfig.Provider.valueOf(value.toUpperCase(Locale.ROOT));
        }
        return Optional.of(new ListenerTlsConfig(
                certificates,
                provider,
                sessionTickets(m.get("session_tickets")),
                hsts(m.get("hsts")),
                m.zeroOrPositiveDuration("check_every", ListenerTlsConfig.DEFAULT_CHECK_EVERY)));
    }

    /** A certificate and key, read and checked now so a wrong file is a config error, not a failed start. */
    private ListenerTlsConfig.Certificate certificate(YamlNode item) throws ConfigException {
        YamlMap m = item.asMap().allowOnly("cert", "key", "names", "ocsp_response");
        m.required("cert");
        m.required("key");
        Path cert = loader.readableFile(m, "cert").orElseThrow();
        Path key = loader.readableFile(m, "key").orElseThrow();
        java.security.cert.X509Certificate leaf;
        try {
            leaf = io.flotilla.node.tlsfiles.PemFiles.certificates(cert).get(0);
        } catch (IllegalArgumentException e) {
            throw m.required("cert").error(e.getMessage());
        }
        try {
            io.flotilla.node.tlsfiles.PemFiles.checkPair(leaf, io.flotilla.node.tlsfiles.PemFiles.privateKey(key), key);
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
        return new ListenerTlsConfig.Certificate(cert, key, names, loader.readableFile(m, "ocsp_response"));
    }

    private Optional<ListenerTlsConfig.SessionTickets> sessionTickets(Optional<YamlNode> section)
            throws ConfigException {
        if (section.isEmpty()) {
            return Optional.empty();
        }
        YamlMap m = section.get().asMap().allowOnly("file", "keys", "fleet", "rotate_every");
        Optional<YamlNode> keysNode = m.get("keys");
        Optional<Path> file = loader.readableFile(m, "file");
        boolean fleet = m.bool("fleet", false);
        if ((file.isPresent() ? 1 : 0) + (keysNode.isPresent() ? 1 : 0) + (fleet ? 1 : 0) != 1) {
            throw section.get()
                    .error("needs exactly one of fleet: true (the fleet's own keys, rotated), file (a key "
                            + "file) or keys (a list of base64 keys)");
        }
        if (fleet) {
            Duration every = m.positiveDuration("rotate_every", ListenerTlsConfig.SessionTickets.DEFAULT_ROTATE_EVERY);
            if (every.compareTo(Duration.ofSeconds(1)) < 0) {
                throw m.required("rotate_every").error("must be at least 1s");
            }
            return Optional.of(ListenerTlsConfig.SessionTickets.ofFleet(every));
        }
        if (m.get("rotate_every").isPresent()) {
            throw m.required("rotate_every")
                    .error("applies to fleet: true only; keys from a file or the config are "
                            + "rotated by changing them");
        }
        List<String> keys = new ArrayList<>();
        YamlNode at = file.isPresent() ? m.required("file") : keysNode.get();
        if (keysNode.isPresent()) {
            for (YamlNode key : keysNode.get().asList()) {
                keys.add(key.asString());
            }
        }
        try {
            io.flotilla.node.tlsfiles.TicketKeys.decode(
                    file.isPresent() ? io.flotilla.node.tlsfiles.TicketKeys.lines(file.get()) : keys);
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
            throw m.required("preload")
                    .error("the preload list takes only include_subdomains: true with a max_age " + "of at least 365d");
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
}
