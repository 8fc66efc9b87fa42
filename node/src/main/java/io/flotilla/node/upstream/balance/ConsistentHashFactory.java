package io.flotilla.node.upstream.balance;

import io.flotilla.node.upstream.UpstreamServer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Builds a ring or Maglev table once per set of servers and weights, and shares it with every event loop. */
final class ConsistentHashFactory implements BalancerFactory {
    /** Builds a table from the servers' addresses and configured weights, in list order. */
    interface TableBuilder {
        KeyTable build(List<String> names, int[] weights);
    }

    private final TableBuilder builder;
    private volatile Built last;

    ConsistentHashFactory(TableBuilder builder) {
        this.builder = builder;
    }

    @Override
    public Balancer newBalancer(List<? extends ServerView> servers) {
        UpstreamServer[] ids = new UpstreamServer[servers.size()];
        int[] weights = new int[servers.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = servers.get(i).server();
            weights[i] = Math.max(0, servers.get(i).weight());
        }
        Built built = last;
        if (built == null || !built.matches(ids, weights)) {
            List<String> names = new ArrayList<>(ids.length);
            for (UpstreamServer server : ids) {
                names.add(server.address().authority());
            }
            // Loops racing here may each build the same table and one is kept: no lock, and it is rare
            // (once per change of the server set).
            built = new Built(ids, weights, builder.build(names, weights));
            last = built;
        }
        return new ConsistentHashBalancer(servers, built.table);
    }

    private static final class Built {
        final UpstreamServer[] servers;
        final int[] weights;
        final KeyTable table;

        Built(UpstreamServer[] servers, int[] weights, KeyTable table) {
            this.servers = servers;
            this.weights = weights;
            this.table = table;
        }

        boolean matches(UpstreamServer[] otherServers, int[] otherWeights) {
            // UpstreamServer's identity is the object, so equals() here is ==.
            return Arrays.equals(servers, otherServers) && Arrays.equals(weights, otherWeights);
        }
    }
}
