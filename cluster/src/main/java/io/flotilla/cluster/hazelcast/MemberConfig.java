package io.flotilla.cluster.hazelcast;

import com.hazelcast.config.ClassFilter;
import com.hazelcast.config.Config;
import com.hazelcast.config.DiscoveryStrategyConfig;
import com.hazelcast.config.EvictionConfig;
import com.hazelcast.config.EvictionPolicy;
import com.hazelcast.config.IndexConfig;
import com.hazelcast.config.IndexType;
import com.hazelcast.config.JavaSerializationFilterConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MaxSizePolicy;
import com.hazelcast.config.MergePolicyConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.ReplicatedMapConfig;
import com.hazelcast.config.SerializationConfig;
import com.hazelcast.spi.merge.LatestUpdateMergePolicy;
import com.hazelcast.spi.merge.PutIfAbsentMergePolicy;
import com.hazelcast.spi.properties.ClusterProperty;
import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.membership.Membership;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** The embedded member's Hazelcast config, built from the settings in one place. */
final class MemberConfig {

    static final String RESPONSES = "flotilla.responses";
    static final String PURGES = "flotilla.purges";
    static final String RATES = "flotilla.rates";
    static final String CONFIG = "flotilla.config";
    static final String HEALTH = "flotilla.health";
    static final String TICKETS = "flotilla.tickets";

    private MemberConfig() {}

    static Config build(ClusterSettings s, Membership gossip) {
        Config c = new Config();
        c.setClusterName(s.name());
        c.setInstanceName("flotilla-" + s.name() + "-" + s.memberId()); // unique per JVM, which may hold several fleets
        properties(c, s);
        MemberThreads.size(c, Runtime.getRuntime().availableProcessors());
        network(c.getNetworkConfig(), s, gossip);
        serialization(c.getSerializationConfig());
        c.getJetConfig().setEnabled(false);
        c.getMemberAttributeConfig().setAttribute("flotilla.id", s.memberId());

        c.addMapConfig(responses(s));
        // Purge records are small and must survive one member's loss: one backup.
        c.addMapConfig(new MapConfig(PURGES)
                .setBackupCount(1)
                .setMergePolicyConfig(new MergePolicyConfig(PutIfAbsentMergePolicy.class.getName(), 100)));
        c.addMapConfig(new MapConfig(RATES).setBackupCount(1));
        c.addMapConfig(new MapConfig(CONFIG)
                .setBackupCount(1)
                .setMergePolicyConfig(new MergePolicyConfig(HighestVersionMerge.class.getName(), 100)));
        // One small entry; after a split the bigger half's keys stay and the other half moves to them.
        c.addMapConfig(new MapConfig(TICKETS)
                .setBackupCount(1)
                .setMergePolicyConfig(new MergePolicyConfig(PutIfAbsentMergePolicy.class.getName(), 100)));
        c.addReplicatedMapConfig(new ReplicatedMapConfig(HEALTH)
                .setMergePolicyConfig(new MergePolicyConfig(LatestUpdateMergePolicy.class.getName(), 100)));
        return c;
    }

    private static void properties(Config c, ClusterSettings s) {
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "jdk");
        c.setProperty("hazelcast.shutdownhook.enabled", "false"); // the node decides when to leave
        c.setProperty(ClusterProperty.HEALTH_MONITORING_LEVEL.getName(), "OFF");
        c.setProperty(ClusterProperty.PARTITION_COUNT.getName(), Integer.toString(s.partitionCount()));
        long failSeconds = Math.max(1, s.failureTimeout().toSeconds());
        c.setProperty(ClusterProperty.HEARTBEAT_INTERVAL_SECONDS.getName(), "1");
        c.setProperty(ClusterProperty.MAX_NO_HEARTBEAT_SECONDS.getName(), Long.toString(Math.max(2, failSeconds)));
        c.setProperty(
                ClusterProperty.MERGE_FIRST_RUN_DELAY_SECONDS.getName(),
                Long.toString(s.mergeInterval().toSeconds()));
        c.setProperty(
                ClusterProperty.MERGE_NEXT_RUN_DELAY_SECONDS.getName(),
                Long.toString(s.mergeInterval().toSeconds()));
        // Peers come from gossip, which has already settled by the time Hazelcast starts: no need to
        // wait the default 5 s for more members to show up.
        c.setProperty(ClusterProperty.WAIT_SECONDS_BEFORE_JOIN.getName(), "1");
        c.setProperty(ClusterProperty.MAX_WAIT_SECONDS_BEFORE_JOIN.getName(), "2");
        c.setProperty(ClusterProperty.DISCOVERY_SPI_ENABLED.getName(), "true");
        c.setProperty(ClusterProperty.SOCKET_BIND_ANY.getName(), "false");
    }

    private static void network(NetworkConfig n, ClusterSettings s, Membership gossip) {
        n.setPort(s.port()).setPortAutoIncrement(false);
        // Hazelcast matches interfaces by address only; a host name (a container's own name, as the
        // gossip channel also accepts) is resolved here.
        n.getInterfaces().setEnabled(true).addInterface(address(s.bindHost()));
        JoinConfig join = n.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getDiscoveryConfig().addDiscoveryStrategyConfig(new DiscoveryStrategyConfig(new GossipDiscovery(gossip)));
    }

    private static String address(String host) {
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cluster: cannot resolve bind host " + host, e);
        }
    }

    private static void serialization(SerializationConfig sc) {
        CompactTypes.all().forEach(sc.getCompactSerializationConfig()::addSerializer);
        sc.addDataSerializableFactory(WireFactory.FACTORY_ID, new WireFactory());
        // Java deserialization is refused for everything but Hazelcast's and the JDK's own classes
        // (remote exceptions travel that way); none of ours ever does, and no library's gadget can.
        ClassFilter allowed = new ClassFilter().addPrefixes("com.hazelcast.", "java.");
        sc.setJavaSerializationFilterConfig(new JavaSerializationFilterConfig().setWhitelist(allowed));
    }

    private static MapConfig responses(ClusterSettings s) {
        MapConfig m = new MapConfig(RESPONSES).setBackupCount(1);
        // Hazelcast bounds heap per member in whole MiB; the owned entries of this member stay under it.
        int maxMiB = (int) Math.max(1, s.cacheMaxBytes() >> 20);
        m.setEvictionConfig(new EvictionConfig()
                .setEvictionPolicy(EvictionPolicy.LFU)
                .setMaxSizePolicy(MaxSizePolicy.USED_HEAP_SIZE)
                .setSize(maxMiB));
        m.addIndexConfig(new IndexConfig(IndexType.SORTED, "url"));
        m.addIndexConfig(new IndexConfig(IndexType.HASH, "tags[any]"));
        return m;
    }
}
