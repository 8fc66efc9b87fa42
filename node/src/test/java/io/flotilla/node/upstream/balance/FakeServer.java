package io.flotilla.node.upstream.balance;

import io.flotilla.node.config.HostPort;
import io.flotilla.node.upstream.UpstreamServer;
import java.util.ArrayList;
import java.util.List;

/** A server view whose live state a test sets directly. */
final class FakeServer implements ServerView {
    final String name;
    private final UpstreamServer server;
    int weight;
    int effectiveWeight;
    boolean up = true;
    int active;

    FakeServer(String name, String address, int weight) {
        this.name = name;
        // IP literals only, so building the server never looks a name up.
        this.server = new UpstreamServer("app", HostPort.parse(address), weight);
        this.weight = weight;
        this.effectiveWeight = weight;
    }

    /** Servers a, b, c... at 10.0.0.1:8080, 10.0.0.2:8080... with the given weights. */
    static List<FakeServer> of(int... weights) {
        List<FakeServer> servers = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            servers.add(numbered(i, weights[i]));
        }
        return servers;
    }

    static FakeServer numbered(int i, int weight) {
        String address = "10.0." + (i / 200) + "." + (i % 200 + 1) + ":8080";
        return new FakeServer(String.valueOf((char) ('a' + i)), address, weight);
    }

    @Override
    public UpstreamServer server() {
        return server;
    }

    @Override
    public int weight() {
        return weight;
    }

    /** Kept when down, unlike a strict view, so tests show that balancers check {@link #available()} too. */
    @Override
    public int effectiveWeight() {
        return effectiveWeight;
    }

    @Override
    public boolean available() {
        return up && effectiveWeight > 0;
    }

    @Override
    public int activeRequests() {
        return active;
    }

    @Override
    public String toString() {
        return name;
    }
}
