package io.flotilla.node.server;

import io.flotilla.cluster.security.Outsiders;
import io.flotilla.node.accesslog.AccessLog;
import io.flotilla.node.metrics.NodeMetrics;
import io.flotilla.node.proxy.ProxyRuntime;
import io.flotilla.node.proxy.ProxyServices;
import io.flotilla.node.upstream.Upstream;
import io.flotilla.node.upstream.UpstreamServer;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The node's gauges: per upstream server (connections, availability, ejections), per listener
 * (connections, bytes), draining, the config version, refused outsiders and dropped access log
 * lines. Registered at start and again after each config change (the servers may have changed).
 */
final class NodeGauges {
    private NodeGauges() {}

    static void register(
            ProxyServices services,
            ProxyRuntime runtime,
            List<FrontendInitializer> frontends,
            List<InetSocketAddress> addresses,
            LongSupplier configVersion,
            AccessLog accessLog) {
        NodeMetrics metrics = services.metrics();
        metrics.removeMatching("flotilla.upstream.connections.");
        metrics.removeMatching("flotilla.upstream.available.");
        metrics.removeMatching("flotilla.upstream.ejections.");
        for (Upstream upstream : runtime.upstreams().values()) {
            for (UpstreamServer server : upstream.servers()) {
                String id = NodeMetrics.segment(upstream.name()) + "."
                        + NodeMetrics.segment(server.address().toString());
                metrics.gauge("flotilla.upstream.connections." + id + ".open", server::openConnections);
                metrics.gauge("flotilla.upstream.connections." + id + ".idle", server::idleConnections);
                // Whether this node sends the server traffic (healthy, not ejected, not draining), and
                // how often passive checks ejected it: what the fleet sees of its backends (issue 17).
                metrics.gauge("flotilla.upstream.available." + id, () -> server.available() ? 1 : 0);
                metrics.gauge("flotilla.upstream.ejections." + id, server::ejections);
            }
        }
        for (int i = 0; i < frontends.size(); i++) {
            FrontendInitializer frontend = frontends.get(i);
            String name = NodeMetrics.segment(
                    addresses.get(i).getHostString() + "_" + addresses.get(i).getPort());
            metrics.gauge("flotilla.listener.connections." + name, frontend::openConnections);
            metrics.gauge("flotilla.listener.bytes." + name + ".received", frontend.bytes()::received);
            metrics.gauge("flotilla.listener.bytes." + name + ".sent", frontend.bytes()::sent);
        }
        metrics.touchKnown(runtime.upstreams().keySet());
        metrics.gauge("flotilla.draining", () -> services.draining() ? 1 : 0);
        metrics.gauge("flotilla.config.version", configVersion::getAsLong);
        Outsiders outsiders = services.fleet().outsiders();
        for (Outsiders.Kind kind : Outsiders.Kind.values()) {
            metrics.gauge(
                    "flotilla.fleet.refused." + kind.name().toLowerCase(Locale.ROOT), () -> outsiders.count(kind));
        }
        if (accessLog != null) {
            metrics.gauge("flotilla.access_log.dropped", accessLog::dropped);
        }
    }
}
