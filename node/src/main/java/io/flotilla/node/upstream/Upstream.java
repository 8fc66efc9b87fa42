package io.flotilla.node.upstream;

import io.flotilla.node.config.PoolConfig;
import io.flotilla.node.config.UpstreamConfig;
import io.flotilla.node.upstream.balance.Balancer;
import io.flotilla.node.upstream.balance.BalancerFactory;
import io.netty.channel.EventLoop;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A named pool of origin servers and its balancing policy. Each event loop gets its own balancer over
 * its own {@link LoopServer} views (Envoy's per-worker load balancers): picking needs no lock, and
 * least-connections counts what that loop has in flight. Hash tables (ring, Maglev) are built once
 * per upstream and shared read-only.
 */
public final class Upstream {
    private final String name;
    private final String balance;
    private final String hashOn;
    private final List<UpstreamServer> servers;
    private final PoolConfig pool;
    private final BalancerFactory factory;
    private final Map<EventLoop, LoopBalancer> perLoop = new ConcurrentHashMap<>();

    /** One event loop's balancer and its views of the servers, in server order. */
    public record LoopBalancer(Balancer balancer, List<LoopServer> views) {
    }

    private Upstream(String name, String balance, String hashOn, List<UpstreamServer> servers, PoolConfig pool) {
        this.name = name;
        this.balance = balance;
        this.hashOn = hashOn;
        this.servers = List.copyOf(servers);
        this.pool = pool;
        this.factory = BalancerFactory.forName(balance);
    }

    public static Upstream of(UpstreamConfig config) {
        List<UpstreamServer> servers = new ArrayList<>();
        for (UpstreamConfig.ServerConfig server : config.servers()) {
            servers.add(new UpstreamServer(config.name(), server.address(), server.weight()));
        }
        return new Upstream(config.name(), config.balance(), config.hashOn(), servers, config.pool());
    }

    public String name() {
        return name;
    }

    public String balance() {
        return balance;
    }

    /** {@code client_ip}, {@code header:NAME} or {@code cookie:NAME}; used by the hashing policies. */
    public String hashOn() {
        return hashOn;
    }

    /** Whether the policy uses a request key at all (so requests need not compute one otherwise). */
    public boolean hashes() {
        return balance.equals("ring_hash") || balance.equals("maglev");
    }

    public List<UpstreamServer> servers() {
        return servers;
    }

    public PoolConfig pool() {
        return pool;
    }

    /** The balancer of {@code loop}, made on first use. */
    public LoopBalancer forLoop(EventLoop loop) {
        LoopBalancer existing = perLoop.get(loop);
        return existing != null ? existing : perLoop.computeIfAbsent(loop, l -> {
            List<LoopServer> views = new ArrayList<>(servers.size());
            for (UpstreamServer server : servers) {
                views.add(new LoopServer(server));
            }
            return new LoopBalancer(factory.newBalancer(views), List.copyOf(views));
        });
    }
}
