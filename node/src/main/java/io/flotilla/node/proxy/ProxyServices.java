package io.flotilla.node.proxy;

import io.flotilla.cluster.FleetState;
import io.flotilla.node.accesslog.AccessLog;
import io.flotilla.node.cache.ResponseCache;
import io.flotilla.node.metrics.NodeMetrics;
import io.flotilla.node.tunnel.Tunnels;

/**
 * What every client connection shares for the node's whole life (unlike {@link ProxyRuntime}, which a
 * reload replaces): metrics, the access log, and whether the node is draining.
 */
public final class ProxyServices {
    private final NodeMetrics metrics;
    private final AccessLog accessLog;
    private final ResponseCache cache;
    private final FleetState fleet;
    private final Tunnels tunnels;
    private volatile boolean draining;

    /**
     * @param accessLog null when the access log is off
     */
    public ProxyServices(NodeMetrics metrics, AccessLog accessLog) {
        this(metrics, accessLog, null, FleetState.local());
    }

    /**
     * @param accessLog null when the access log is off
     * @param cache     the node's response cache, which lives as long as the node
     * @param fleet     what the node shares with the fleet (or keeps alone)
     */
    public ProxyServices(NodeMetrics metrics, AccessLog accessLog, ResponseCache cache, FleetState fleet) {
        this.metrics = metrics;
        this.accessLog = accessLog;
        this.cache = cache;
        this.fleet = fleet;
        this.tunnels = new Tunnels(metrics);
    }

    /** The node's WebSocket tunnels: their cap and metrics. */
    public Tunnels tunnels() {
        return tunnels;
    }

    /** The fleet's shared state (in-process for a lone node). */
    public FleetState fleet() {
        return fleet;
    }

    /** The node's response cache, or null. */
    public ResponseCache cache() {
        return cache;
    }

    public NodeMetrics metrics() {
        return metrics;
    }

    /** The access log, or null. */
    public AccessLog accessLog() {
        return accessLog;
    }

    /** While draining, every response closes its connection, so clients move to other nodes. */
    public boolean draining() {
        return draining;
    }

    public void startDraining() {
        draining = true;
    }
}
