package io.flotilla.cluster;

import io.flotilla.cluster.security.FleetKeys;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How a node joins the fleet: names, addresses, discovery and the bounds of the shared state. Built
 * with {@link #builder()}; every field has a named default, and {@link Builder#build()} validates.
 *
 * @param name               cluster name; members of other clusters are refused
 * @param memberId           this member's stable id (probe ownership hashes on it)
 * @param bindHost           address both the Hazelcast member and the gossip channel bind to
 * @param port               Hazelcast member port; 0 lets the OS choose (tests)
 * @param gossipPort         JGroups TCP port; 0 lets the OS choose (tests)
 * @param peers              gossip addresses ({@code host:gossipPort}) of other members, for {@link Discovery#STATIC}
 * @param discovery          how gossip finds its peers
 * @param dnsQuery           the DNS name listing the members, for {@link Discovery#DNS}
 * @param expectedFleetSize  members the fleet should have; fewer visible means rate limits shrink to the visible share
 * @param cacheMaxBytes      response cache bound per member (its owned entries)
 * @param entryMaxBytes      largest single response the shared cache accepts
 * @param nearCacheMaxBytes  bound of each member's near cache of remote entries
 * @param probeOwners        members probing each backend
 * @param syncInterval       how often rate-counter deltas are sent to the fleet
 * @param fillLease          default lifetime of a fill claim whose holder died
 * @param failureTimeout     how long a silent member lives on in the view
 * @param mergeInterval      how often a split fleet looks for its other half
 * @param partitionCount     Hazelcast partitions (fewer start faster; fixed for a fleet's life)
 * @param purgeLogRetention  how long purges are kept to be re-applied after a partition heals
 * @param keys               the fleet secret: seals shared values, encrypts gossip, admits members;
 *                           {@link FleetKeys#none()} only for a fleet on loopback or with {@code insecure}
 * @param insecure           allow a fleet bound beyond loopback without a secret (a network that is
 *                           private by other means, such as WireGuard)
 */
public record ClusterSettings(
        String name,
        String memberId,
        String bindHost,
        int port,
        int gossipPort,
        List<String> peers,
        Discovery discovery,
        String dnsQuery,
        int expectedFleetSize,
        long cacheMaxBytes,
        long entryMaxBytes,
        long nearCacheMaxBytes,
        int probeOwners,
        Duration syncInterval,
        Duration fillLease,
        Duration failureTimeout,
        Duration mergeInterval,
        int partitionCount,
        Duration purgeLogRetention,
        FleetKeys keys,
        boolean insecure) {

    /** How the gossip channel finds its peers. */
    public enum Discovery {
        /** The {@code peers} list (JGroups TCPPING). */
        STATIC,
        /** A DNS A or SRV query (JGroups DNS_PING). */
        DNS,
        /** IP multicast (JGroups MPING); only where the network allows it. */
        MULTICAST
    }

    public static final String DEFAULT_NAME = "flotilla";
    public static final String DEFAULT_BIND_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 5701;
    public static final int DEFAULT_GOSSIP_PORT = 7800;
    public static final int DEFAULT_EXPECTED_FLEET_SIZE = 1;
    public static final long DEFAULT_CACHE_MAX_BYTES = 256L << 20;
    public static final long DEFAULT_ENTRY_MAX_BYTES = 8L << 20;
    public static final long DEFAULT_NEAR_CACHE_MAX_BYTES = 32L << 20;
    public static final int DEFAULT_PROBE_OWNERS = 2;
    public static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofMillis(50);
    public static final Duration DEFAULT_FILL_LEASE = Duration.ofSeconds(10);
    public static final Duration DEFAULT_FAILURE_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_MERGE_INTERVAL = Duration.ofSeconds(10);
    public static final int DEFAULT_PARTITION_COUNT = 271;
    public static final Duration DEFAULT_PURGE_LOG_RETENTION = Duration.ofHours(1);

    public ClusterSettings {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(memberId, "memberId");
        Objects.requireNonNull(bindHost, "bindHost");
        peers = List.copyOf(peers);
        Objects.requireNonNull(discovery, "discovery");
        Objects.requireNonNull(dnsQuery, "dnsQuery");
        require(!name.isBlank(), "name is blank");
        require(!memberId.isBlank(), "memberId is blank");
        require(port >= 0 && port <= 65535, "port " + port + " is not 0..65535");
        require(gossipPort >= 0 && gossipPort <= 65535, "gossipPort " + gossipPort + " is not 0..65535");
        peers.forEach(ClusterSettings::checkHostPort);
        require(discovery != Discovery.DNS || !dnsQuery.isBlank(), "discovery DNS needs dnsQuery");
        require(expectedFleetSize >= 1, "expectedFleetSize must be at least 1");
        require(cacheMaxBytes >= 1 << 20, "cacheMaxBytes must be at least 1 MiB");
        require(entryMaxBytes > 0 && entryMaxBytes <= cacheMaxBytes, "entryMaxBytes must be 1..cacheMaxBytes");
        require(nearCacheMaxBytes >= 0, "nearCacheMaxBytes must not be negative");
        require(probeOwners >= 1, "probeOwners must be at least 1");
        require(positive(syncInterval), "syncInterval must be positive");
        require(positive(fillLease), "fillLease must be positive");
        require(failureTimeout.toMillis() >= 1000, "failureTimeout must be at least 1s");
        require(mergeInterval.toSeconds() >= 1, "mergeInterval must be at least 1s");
        require(partitionCount >= 1, "partitionCount must be at least 1");
        require(positive(purgeLogRetention), "purgeLogRetention must be positive");
        Objects.requireNonNull(keys, "keys");
        require(
                keys.enabled() || insecure || loopback(bindHost),
                "a fleet bound beyond loopback (" + bindHost
                        + ") needs a fleet key (make one with: flotilla fleet-key), or insecure: true");
    }

    private static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** A builder holding every default. */
    public static Builder builder() {
        return new Builder();
    }

    /** The settings of a lone node: every default. */
    public static ClusterSettings defaults() {
        return builder().build();
    }

    /** A builder starting from these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.memberId = memberId;
        b.bindHost = bindHost;
        b.port = port;
        b.gossipPort = gossipPort;
        b.peers = peers;
        b.discovery = discovery;
        b.dnsQuery = dnsQuery;
        b.expectedFleetSize = expectedFleetSize;
        b.cacheMaxBytes = cacheMaxBytes;
        b.entryMaxBytes = entryMaxBytes;
        b.nearCacheMaxBytes = nearCacheMaxBytes;
        b.probeOwners = probeOwners;
        b.syncInterval = syncInterval;
        b.fillLease = fillLease;
        b.failureTimeout = failureTimeout;
        b.mergeInterval = mergeInterval;
        b.partitionCount = partitionCount;
        b.purgeLogRetention = purgeLogRetention;
        b.keys = keys;
        b.insecure = insecure;
        return b;
    }

    private static boolean positive(Duration d) {
        return d != null && !d.isNegative() && !d.isZero();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("cluster: " + message);
        }
    }

    private static void checkHostPort(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        require(colon > 0, "peer '" + hostPort + "' is not host:port");
        try {
            int p = Integer.parseInt(hostPort.substring(colon + 1));
            require(p > 0 && p <= 65535, "peer '" + hostPort + "' has no valid port");
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cluster: peer '" + hostPort + "' has no valid port", e);
        }
    }

    /** Host name and process id: unique per process on a host, stable for its life. */
    private static String defaultMemberId() {
        return ManagementFactory.getRuntimeMXBean().getName().replace('@', '-');
    }

    /** Collects settings; unset fields keep their named defaults. */
    public static final class Builder {
        private String name = DEFAULT_NAME;
        private String memberId = defaultMemberId();
        private String bindHost = DEFAULT_BIND_HOST;
        private int port = DEFAULT_PORT;
        private int gossipPort = DEFAULT_GOSSIP_PORT;
        private List<String> peers = List.of();
        private Discovery discovery = Discovery.STATIC;
        private String dnsQuery = "";
        private int expectedFleetSize = DEFAULT_EXPECTED_FLEET_SIZE;
        private long cacheMaxBytes = DEFAULT_CACHE_MAX_BYTES;
        private long entryMaxBytes = DEFAULT_ENTRY_MAX_BYTES;
        private long nearCacheMaxBytes = DEFAULT_NEAR_CACHE_MAX_BYTES;
        private int probeOwners = DEFAULT_PROBE_OWNERS;
        private Duration syncInterval = DEFAULT_SYNC_INTERVAL;
        private Duration fillLease = DEFAULT_FILL_LEASE;
        private Duration failureTimeout = DEFAULT_FAILURE_TIMEOUT;
        private Duration mergeInterval = DEFAULT_MERGE_INTERVAL;
        private int partitionCount = DEFAULT_PARTITION_COUNT;
        private Duration purgeLogRetention = DEFAULT_PURGE_LOG_RETENTION;
        private FleetKeys keys = FleetKeys.none();
        private boolean insecure;

        private Builder() {}

        public Builder name(String v) {
            name = v;
            return this;
        }

        public Builder memberId(String v) {
            memberId = v;
            return this;
        }

        public Builder bindHost(String v) {
            bindHost = v;
            return this;
        }

        public Builder port(int v) {
            port = v;
            return this;
        }

        public Builder gossipPort(int v) {
            gossipPort = v;
            return this;
        }

        public Builder peers(List<String> v) {
            peers = v;
            return this;
        }

        public Builder discovery(Discovery v) {
            discovery = v;
            return this;
        }

        public Builder dnsQuery(String v) {
            dnsQuery = v;
            return this;
        }

        public Builder expectedFleetSize(int v) {
            expectedFleetSize = v;
            return this;
        }

        public Builder cacheMaxBytes(long v) {
            cacheMaxBytes = v;
            return this;
        }

        public Builder entryMaxBytes(long v) {
            entryMaxBytes = v;
            return this;
        }

        public Builder nearCacheMaxBytes(long v) {
            nearCacheMaxBytes = v;
            return this;
        }

        public Builder probeOwners(int v) {
            probeOwners = v;
            return this;
        }

        public Builder syncInterval(Duration v) {
            syncInterval = v;
            return this;
        }

        public Builder fillLease(Duration v) {
            fillLease = v;
            return this;
        }

        public Builder failureTimeout(Duration v) {
            failureTimeout = v;
            return this;
        }

        public Builder mergeInterval(Duration v) {
            mergeInterval = v;
            return this;
        }

        public Builder partitionCount(int v) {
            partitionCount = v;
            return this;
        }

        public Builder purgeLogRetention(Duration v) {
            purgeLogRetention = v;
            return this;
        }

        public Builder keys(FleetKeys v) {
            keys = v;
            return this;
        }

        public Builder insecure(boolean v) {
            insecure = v;
            return this;
        }

        /** The settings, validated; throws IllegalArgumentException naming the bad field. */
        public ClusterSettings build() {
            return new ClusterSettings(
                    name,
                    memberId,
                    bindHost,
                    port,
                    gossipPort,
                    peers,
                    discovery,
                    dnsQuery,
                    expectedFleetSize,
                    cacheMaxBytes,
                    entryMaxBytes,
                    nearCacheMaxBytes,
                    probeOwners,
                    syncInterval,
                    fillLease,
                    failureTimeout,
                    mergeInterval,
                    partitionCount,
                    purgeLogRetention,
                    keys,
                    insecure);
        }
    }
}
