package io.flotilla.node.upstream;

import io.flotilla.node.config.HostPort;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.LongAdder;

/** One origin server of an upstream; identity is the object, so pools can key on it. */
public final class UpstreamServer {
    private final String upstreamName;
    private final HostPort address;
    private final int weight;
    private final InetSocketAddress resolved;
    private final LongAdder open = new LongAdder();
    private final LongAdder idle = new LongAdder();

    public UpstreamServer(String upstreamName, HostPort address, int weight) {
        this.upstreamName = upstreamName;
        this.address = address;
        this.weight = weight;
        // Resolved once, here, so no lookup ever blocks an event loop; re-resolution is issue 3's.
        this.resolved = address.toSocketAddress();
    }

    public String upstreamName() {
        return upstreamName;
    }

    public HostPort address() {
        return address;
    }

    public int weight() {
        return weight;
    }

    /** The address as resolved when the upstream was built (a name that did not resolve stays unresolved). */
    public InetSocketAddress resolvedAddress() {
        return resolved;
    }

    /** Connections to this server open now, over all event loops. */
    public long openConnections() {
        return open.sum();
    }

    /** Of those, the ones idle in a pool. */
    public long idleConnections() {
        return idle.sum();
    }

    void opened(int delta) {
        open.add(delta);
    }

    void idled(int delta) {
        idle.add(delta);
    }

    @Override
    public String toString() {
        return upstreamName + "/" + address;
    }
}
