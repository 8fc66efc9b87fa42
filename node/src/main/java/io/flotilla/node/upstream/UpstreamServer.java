package io.flotilla.node.upstream;

import io.flotilla.node.config.HostPort;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** One origin server of an upstream; identity is the object, so pools can key on it. */
public final class UpstreamServer {
    private final String upstreamName;
    private final HostPort address;
    private final int weight;
    private volatile InetSocketAddress resolved;
    private final String label;
    private final LongAdder open = new LongAdder();
    private final LongAdder idle = new LongAdder();

    // Health, shared by all event loops: written by probes and by exchanges, read by every pick.
    private volatile boolean healthy = true;
    private volatile boolean draining;
    private volatile long ejectedUntil; // System.nanoTime() deadline; 0 = not ejected
    private volatile long availableSince = System.nanoTime();
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicInteger ejections = new AtomicInteger();
    private final AtomicLong inFlight = new AtomicLong();
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();

    public UpstreamServer(String upstreamName, HostPort address, int weight) {
        this.upstreamName = upstreamName;
        this.address = address;
        this.weight = weight;
        this.label = address.toString();
        // A name is resolved by the node (DnsRefresher's resolver) before the server takes traffic,
        // never here and never on an event loop; an IP literal needs no lookup.
        this.resolved = named()
                ? InetSocketAddress.createUnresolved(address.host(), address.port())
                : address.toSocketAddress();
        // Derived from the address alone, so every node of a fleet gives a server the same id.
        this.stickyId = Long.toHexString(java.util
                .UUID
                .nameUUIDFromBytes(address.authority().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .getMostSignificantBits());
    }

    private final String stickyId;

    /** {@code host:port} as configured, built once (metrics label it per request). */
    public String label() {
        return label;
    }

    /** The value of the sticky cookie that keeps a client on this server. */
    public String stickyId() {
        return stickyId;
    }

    /** The server's name in the fleet's health registry: {@code upstream/host:port}. */
    public String backendId() {
        return upstreamName + "/" + address;
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

    /** The address as last resolved (a name that did not resolve stays unresolved). */
    public InetSocketAddress resolvedAddress() {
        return resolved;
    }

    /** Whether the server is named by a host name (so worth re-resolving), not an IP literal. */
    public boolean named() {
        String host = address.host();
        return !(io.netty.util.NetUtil.isValidIpV4Address(host) || io.netty.util.NetUtil.isValidIpV6Address(host));
    }

    /**
     * Resolves the name again, off the event loops (a lookup may block); new connections use the new
     * address, pooled ones finish their life on the old. Returns true if the address changed.
     */
    public boolean reresolve(java.util.function.Function<String, java.net.InetAddress> resolver) {
        java.net.InetAddress now;
        try {
            now = resolver.apply(address.host());
        } catch (RuntimeException e) {
            return false; // keep the last good address while DNS fails
        }
        InetSocketAddress current = resolved;
        if (now == null || (!current.isUnresolved() && now.equals(current.getAddress()))) {
            return false;
        }
        resolved = new InetSocketAddress(now, address.port());
        return true;
    }

    /** Healthy by its probes (always, without probes), not draining, not ejected. */
    public boolean available() {
        if (!healthy || draining) {
            return false;
        }
        long until = ejectedUntil;
        return until == 0 || System.nanoTime() - until >= 0;
    }

    /**
     * The weight to balance with now: during slow start after becoming available again it ramps
     * linearly from 10% to the full weight, so a cold server is not flooded at once.
     */
    public int effectiveWeight(long slowStartNanos) {
        if (!available()) {
            return 0;
        }
        int full = weight * WEIGHT_SCALE;
        if (slowStartNanos <= 0) {
            return full;
        }
        long since = System.nanoTime() - Math.max(availableSince, ejectedUntil);
        if (since >= slowStartNanos) {
            return full;
        }
        return Math.max(1, (int) (full * Math.max(0.1, (double) since / slowStartNanos)));
    }

    /**
     * Effective weights are in hundredths of a configured weight, so even a weight-1 server can ramp
     * up in steps during slow start; balancers only compare weights, so the scale is invisible.
     */
    public static final int WEIGHT_SCALE = 100;

    /** healthy, ejected, draining or slow_start (as the admin API shows it). */
    public String state(long slowStartNanos) {
        if (draining) {
            return "draining";
        }
        if (!healthy) {
            return "unhealthy";
        }
        if (!available()) {
            return "ejected";
        }
        return effectiveWeight(slowStartNanos) < weight * WEIGHT_SCALE ? "slow_start" : "healthy";
    }

    public boolean healthy() {
        return healthy;
    }

    /** Set by active probes; a server coming back starts its slow start now. */
    public void healthy(boolean now) {
        if (now && !healthy) {
            availableSince = System.nanoTime();
        }
        healthy = now;
    }

    public boolean draining() {
        return draining;
    }

    /** Draining: no new requests; those in flight finish. Undraining starts a slow start. */
    public void draining(boolean now) {
        if (!now && draining) {
            availableSince = System.nanoTime();
        }
        draining = now;
    }

    boolean ejected() {
        long until = ejectedUntil;
        return until != 0 && System.nanoTime() - until < 0;
    }

    int recordFailure() {
        failures.increment();
        return consecutiveFailures.incrementAndGet();
    }

    void recordSuccess() {
        if (consecutiveFailures.get() != 0) {
            consecutiveFailures.set(0);
        }
    }

    /** Ejects for base × the number of ejections so far (capped at 10×): repeat offenders stay out longer. */
    void eject(long baseNanos) {
        int n = Math.min(10, ejections.incrementAndGet());
        ejectedUntil = System.nanoTime() + baseNanos * n;
        consecutiveFailures.set(0);
    }

    public int ejections() {
        return ejections.get();
    }

    public long inFlight() {
        return inFlight.get();
    }

    public long requests() {
        return requests.sum();
    }

    public long failures() {
        return failures.sum();
    }

    void started() {
        inFlight.incrementAndGet();
        requests.increment();
    }

    void ended() {
        inFlight.decrementAndGet();
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
