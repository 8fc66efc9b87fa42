package io.flotilla.node.upstream;

import io.flotilla.node.config.HostPort;

import java.net.InetSocketAddress;

/** One origin server of an upstream; identity is the object, so pools can key on it. */
public final class UpstreamServer {
    private final String upstreamName;
    private final HostPort address;
    private final int weight;
    private final InetSocketAddress resolved;

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

    @Override
    public String toString() {
        return upstreamName + "/" + address;
    }
}
