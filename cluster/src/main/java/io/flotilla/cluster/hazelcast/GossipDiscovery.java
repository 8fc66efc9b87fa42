package io.flotilla.cluster.hazelcast;

import com.hazelcast.cluster.Address;
import com.hazelcast.config.properties.PropertyDefinition;
import com.hazelcast.logging.ILogger;
import com.hazelcast.spi.discovery.AbstractDiscoveryStrategy;
import com.hazelcast.spi.discovery.DiscoveryNode;
import com.hazelcast.spi.discovery.DiscoveryStrategy;
import com.hazelcast.spi.discovery.DiscoveryStrategyFactory;
import com.hazelcast.spi.discovery.SimpleDiscoveryNode;
import io.flotilla.cluster.membership.Member;
import io.flotilla.cluster.membership.Membership;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Hazelcast discovery from the gossip view: the members Hazelcast should join are the live gossip
 * members that announced a Hazelcast address. Hazelcast asks at join and again at each split-brain
 * check, so when the gossip views of two halves merge, the Hazelcast halves find each other too.
 */
final class GossipDiscovery implements DiscoveryStrategyFactory {

    private final Membership gossip;

    GossipDiscovery(Membership gossip) {
        this.gossip = gossip;
    }

    @Override
    public Class<? extends DiscoveryStrategy> getDiscoveryStrategyType() {
        return Strategy.class;
    }

    @Override
    @SuppressWarnings("rawtypes") // the SPI's own signature
    public DiscoveryStrategy newDiscoveryStrategy(
            DiscoveryNode node, ILogger logger, Map<String, Comparable> properties) {
        return new Strategy(logger, properties, gossip);
    }

    @Override
    public Collection<PropertyDefinition> getConfigurationProperties() {
        return List.of();
    }

    static final class Strategy extends AbstractDiscoveryStrategy {
        private final Membership gossip;

        @SuppressWarnings("rawtypes") // the SPI's own signature
        Strategy(ILogger logger, Map<String, Comparable> properties, Membership gossip) {
            super(logger, properties);
            this.gossip = gossip;
        }

        @Override
        public Iterable<DiscoveryNode> discoverNodes() {
            List<DiscoveryNode> nodes = new ArrayList<>();
            for (Member m : gossip.members()) {
                int colon = m.address().lastIndexOf(':');
                if (colon <= 0 || m.id().equals(gossip.self().id())) {
                    continue;
                }
                try {
                    nodes.add(new SimpleDiscoveryNode(new Address(
                            m.address().substring(0, colon),
                            Integer.parseInt(m.address().substring(colon + 1)))));
                } catch (UnknownHostException | NumberFormatException e) {
                    getLogger().fine("unusable address announced by " + m.id() + ": " + m.address());
                }
            }
            return nodes;
        }
    }
}
