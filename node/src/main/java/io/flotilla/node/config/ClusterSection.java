package io.flotilla.node.config;

import static io.flotilla.node.config.ConfigValues.*;

import io.flotilla.cluster.security.FleetKeys;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@code cluster} section: the fleet's name, addresses, peers and key. */
final class ClusterSection {
    private final ConfigLoader loader;

    private ClusterSection(ConfigLoader loader) {
        this.loader = loader;
    }

    /** Parses the section; errors name the file, line and field. */
    static Optional<ClusterConfig> parse(ConfigLoader loader, Optional<YamlNode> section) throws ConfigException {
        return new ClusterSection(loader).cluster(section);
    }

    private Optional<ClusterConfig> cluster(Optional<YamlNode> section) throws ConfigException {
        if (section.isEmpty()) {
            return Optional.empty();
        }
        YamlMap m = section.get()
                .asMap()
                .allowOnly(
                        "name",
                        "bind",
                        "gossip_port",
                        "peers",
                        "discovery",
                        "dns",
                        "expected_size",
                        "near_cache",
                        "probe_owners",
                        "key_file",
                        "keys",
                        "insecure");
        String name = name(m.required("name"), "cluster name", "nodes join only a fleet of the same name");
        HostPort bind = loader.bind(m.required("bind"));
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
                throw discoveryNode
                        .get()
                        .error("expected static, dns or multicast, got '" + discovery + "'"
                                + DidYouMean.hint(discovery, List.of("static", "dns", "multicast")));
            }
        }
        String dns = m.get("dns").isPresent() ? m.get("dns").get().asString().trim() : "";
        if (discovery.equals("dns") && dns.isEmpty()) {
            String problem = "discovery: dns needs dns: NAME (the name that lists the members)";
            throw m.required("dns", problem).error(problem);
        }
        Optional<Path> keyFile = loader.readableFile(m, "key_file");
        List<String> keys = fleetKeys(m, keyFile);
        boolean insecure = m.bool("insecure", false);
        if (keyFile.isEmpty() && keys.isEmpty() && !insecure && !isLoopback(bind)) {
            throw m.required("bind")
                    .error("a fleet bound beyond loopback needs its secret: key_file: FILE (make one"
                            + " with: flotilla fleet-key > FILE) or keys: [...]; or insecure: true on a network private by"
                            + " other means");
        }
        return Optional.of(new ClusterConfig(
                name,
                bind,
                m.integer("gossip_port", ClusterConfig.DEFAULT_GOSSIP_PORT, 0, 65535),
                peers,
                discovery,
                dns,
                m.integer("expected_size", 1, 1, 10_000),
                m.size("near_cache", ClusterConfig.DEFAULT_NEAR_CACHE, 0, Long.MAX_VALUE),
                m.integer("probe_owners", ClusterConfig.DEFAULT_PROBE_OWNERS, 1, 100),
                keyFile,
                keys,
                insecure));
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
}
