package io.flotilla.node.server;

import io.flotilla.cluster.membership.MemberState;
import io.flotilla.node.config.NodeSettings;
import io.flotilla.node.proxy.ProxyHandler;
import io.flotilla.node.proxy.ProxyServices;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * A node's graceful drain, started once: /healthz answers 503 at once, new connections are still
 * accepted for the drain grace period (so the L4 front notices first) and every response closes its
 * connection; then the listeners close, idle connections are closed, and in-flight requests get the
 * drain timeout to finish before what is left is cut.
 */
final class NodeDrain {
    private static final Logger LOG = Logger.getLogger(NodeDrain.class.getName());

    private final ProxyServices services;
    private final List<Channel> listeners;
    private final List<FrontendInitializer> frontends;
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private final AtomicBoolean started = new AtomicBoolean();

    NodeDrain(ProxyServices services, List<Channel> listeners, List<FrontendInitializer> frontends) {
        this.services = services;
        this.listeners = listeners;
        this.frontends = frontends;
    }

    /** Starts the drain (once), timed on {@code timer}; completes when no client connection is left. */
    CompletableFuture<Void> start(NodeSettings node, EventLoop timer) {
        if (!started.compareAndSet(false, true)) {
            return drained;
        }
        long grace = node.drainGrace().toMillis();
        long deadline = System.nanoTime()
                + node.drainGrace().toNanos()
                + node.drainTimeout().toNanos();
        services.startDraining();
        try {
            services.fleet().membership().setState(MemberState.DRAINING);
        } catch (RuntimeException e) {
            LOG.warning(() -> "could not tell the fleet this node drains: " + e);
        }
        LOG.info(() -> "draining: /healthz is 503, still accepting for " + grace + " ms");
        signalConnections();
        timer.schedule(
                () -> {
                    listeners.forEach(Channel::close);
                    LOG.info("draining: listeners closed, waiting for in-flight requests");
                    signalConnections();
                    waitForConnections(timer, deadline);
                },
                grace,
                TimeUnit.MILLISECONDS);
        return drained;
    }

    private void signalConnections() {
        for (FrontendInitializer frontend : frontends) {
            for (Channel channel : frontend.connections()) {
                channel.eventLoop().execute(() -> channel.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN));
            }
        }
    }

    private void waitForConnections(EventLoop timer, long deadlineNanos) {
        int open = frontends.stream().mapToInt(f -> f.connections().size()).sum();
        if (open == 0) {
            LOG.info("drained: no client connection left");
            drained.complete(null);
            return;
        }
        if (System.nanoTime() - deadlineNanos >= 0) {
            LOG.warning("drain timeout: closing " + open + " connection(s) still open");
            // On each connection's own loop, its goodbye (a WebSocket tunnel's close frame) goes out first.
            for (FrontendInitializer frontend : frontends) {
                for (Channel channel : frontend.connections()) {
                    channel.eventLoop().execute(() -> {
                        channel.pipeline().fireUserEventTriggered(io.flotilla.node.tunnel.Tunnel.GOING_AWAY);
                        channel.close();
                    });
                }
            }
            drained.complete(null);
            return;
        }
        timer.schedule(() -> waitForConnections(timer, deadlineNanos), 50, TimeUnit.MILLISECONDS);
    }
}
