package io.flotilla.node.server;

import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.FleetState;
import io.flotilla.cluster.hazelcast.HazelcastFleet;
import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.node.config.ClusterConfig;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.config.HostPort;
import java.util.Locale;

/** Opens the fleet state a config asks for: this node alone, or a member of the fleet it names. */
final class FleetStates {
    private FleetStates() {}

    static ClusterSettings settings(FlotillaConfig config) {
        ClusterSettings.Builder b = ClusterSettings.builder()
                .memberId(config.node().name())
                .cacheMaxBytes(config.cache().maxSize())
                .entryMaxBytes(config.cache().maxEntry());
        if (config.cluster().isPresent()) {
            ClusterConfig c = config.cluster().get();
            b.name(c.name())
                    .bindHost(c.bind().host())
                    .port(c.bind().port())
                    .gossipPort(c.gossipPort())
                    .peers(c.peers().stream().map(HostPort::toString).toList())
                    .discovery(ClusterSettings.Discovery.valueOf(c.discovery().toUpperCase(Locale.ROOT)))
                    .dnsQuery(c.dns())
                    .expectedFleetSize(c.expectedSize())
                    .nearCacheMaxBytes(c.nearCache())
                    .probeOwners(c.probeOwners())
                    .keys(
                            c.keyFile().isEmpty() && c.keys().isEmpty()
                                    ? FleetKeys.none()
                                    : FleetKeys.decode(c.keysNow()))
                    .insecure(c.insecure())
                    // A fill whose node died stops blocking the key after about as long as a waiter waits.
                    .fillLease(
                            config.cache().collapseWait().isZero()
                                    ? ClusterSettings.DEFAULT_FILL_LEASE
                                    : config.cache().collapseWait().multipliedBy(2));
        }
        return b.build();
    }

    /** Joins the fleet (blocking until joined or alone after the join timeout) or opens local state. */
    static FleetState open(FlotillaConfig config) {
        ClusterSettings settings = settings(config);
        return config.cluster().isPresent() ? HazelcastFleet.start(settings) : FleetState.local(settings);
    }
}
