package io.flotilla.node.server;

import io.flotilla.cluster.health.BackendHealth;
import io.flotilla.cluster.health.HealthRegistry;
import io.flotilla.node.proxy.ProxyRuntime;
import io.flotilla.node.upstream.HealthChecker;
import io.flotilla.node.upstream.Upstream;
import io.flotilla.node.upstream.UpstreamServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

/**
 * The node's active health checks, and in a fleet the fleet's verdicts applied to its servers: each
 * config's upstreams are probed, and the previous config's probes stop (their servers are gone).
 */
final class HealthWiring {
    private static final Logger LOG = Logger.getLogger(HealthWiring.class.getName());

    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> socketChannel;
    private final List<HealthChecker> checkers = new CopyOnWriteArrayList<>();
    private Runnable subscription = () -> {};

    HealthWiring(EventLoopGroup group, Class<? extends SocketChannel> socketChannel) {
        this.group = group;
        this.socketChannel = socketChannel;
    }

    /**
     * Probes {@code runtime}'s upstreams that have active checks.
     *
     * @param shared the fleet's health registry, or null for a node alone
     */
    synchronized void start(ProxyRuntime runtime, HealthRegistry shared) {
        stop();
        Map<String, UpstreamServer> probed = new HashMap<>();
        for (Upstream upstream : runtime.upstreams().values()) {
            if (upstream.health().active().isPresent()) {
                checkers.add(HealthChecker.start(upstream, group, socketChannel, shared));
                upstream.sharedHealth(shared);
                upstream.servers().forEach(s -> probed.put(s.backendId(), s));
            }
        }
        if (shared != null) {
            // Every node routes by the fleet's verdicts: those known now, and each change as it comes.
            probed.forEach((id, server) -> {
                BackendHealth h = shared.health(id);
                if (h != null) {
                    server.healthy(h.up());
                }
            });
            subscription = shared.onChange(h -> {
                UpstreamServer server = probed.get(h.backendId());
                if (server != null && server.healthy() != h.up()) {
                    server.healthy(h.up());
                    LOG.info(() -> server + (h.up() ? " is up" : " is down") + " by the fleet (" + h.reporter() + ": "
                            + h.reason() + ")");
                }
            });
        }
    }

    /** Stops every probe and the fleet subscription. */
    synchronized void stop() {
        checkers.forEach(HealthChecker::close);
        checkers.clear();
        subscription.run();
        subscription = () -> {};
    }
}
