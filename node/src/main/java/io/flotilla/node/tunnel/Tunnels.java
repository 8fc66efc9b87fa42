package io.flotilla.node.tunnel;

import com.codahale.metrics.Counter;
import io.flotilla.node.metrics.NodeMetrics;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's tunnels, across event loops: the cap on how many may be open (a slot is reserved when a
 * handshake is admitted, so the cap holds before any upgrade) and their metrics, documented in
 * docs/websocket.md: {@code flotilla_websocket_tunnels} (open now), {@code flotilla_websocket_opened_total},
 * {@code flotilla_websocket_refused_total{reason}}, {@code flotilla_websocket_closed_total{reason}} and
 * {@code flotilla_websocket_bytes_total{direction}}.
 */
public final class Tunnels {
    /** Why a handshake got no tunnel: each a {@code reason} label, counted from 0. */
    public static final List<String> REFUSALS = List.of("bad_handshake", "draining", "over_limit", "not_upgraded");
    /** Why a tunnel closed: the side that closed it, its idle timeout, an error, or a drain's end. */
    public static final List<String> CLOSES = List.of("client", "upstream", "idle", "error", "drain");

    private final AtomicInteger reserved = new AtomicInteger();
    private final Set<Tunnel> open = ConcurrentHashMap.newKeySet();
    private final Counter opened;
    private final Map<String, Counter> refused = new ConcurrentHashMap<>();
    private final Map<String, Counter> closed = new ConcurrentHashMap<>();
    private final Counter toUpstream;
    private final Counter toClient;

    public Tunnels(NodeMetrics metrics) {
        metrics.gauge("flotilla.websocket.tunnels", open::size);
        opened = metrics.counter("flotilla.websocket.opened_total");
        REFUSALS.forEach(r -> refused.put(r, metrics.counter("flotilla.websocket.refused." + r)));
        CLOSES.forEach(r -> closed.put(r, metrics.counter("flotilla.websocket.closed." + r)));
        toUpstream = metrics.counter("flotilla.websocket.bytes.to_upstream");
        toClient = metrics.counter("flotilla.websocket.bytes.to_client");
    }

    /** Takes a slot for a handshake if fewer than {@code max} are taken; give it back with {@link #unreserve()}. */
    public boolean tryReserve(int max) {
        while (true) {
            int now = reserved.get();
            if (now >= max) {
                return false;
            }
            if (reserved.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** Gives back a slot whose handshake got no tunnel. */
    public void unreserve() {
        reserved.decrementAndGet();
    }

    /** Counts a handshake that got no tunnel; {@code reason} is one of {@link #REFUSALS}. */
    public void refused(String reason) {
        refused.get(reason).inc();
    }

    /** Tunnels open now. */
    public int open() {
        return open.size();
    }

    public long openedTotal() {
        return opened.getCount();
    }

    public long refusedTotal(String reason) {
        return refused.get(reason).getCount();
    }

    public long closedTotal(String reason) {
        return closed.get(reason).getCount();
    }

    /** Bytes written to the tunnels' sockets and not yet taken by them, summed (read racily: for tests). */
    public long pendingOutboundBytes() {
        long sum = 0;
        for (Tunnel tunnel : open) {
            sum += tunnel.pendingOutboundBytes();
        }
        return sum;
    }

    void opened(Tunnel tunnel) {
        open.add(tunnel);
        opened.inc();
    }

    void closed(Tunnel tunnel, String reason) {
        if (open.remove(tunnel)) {
            reserved.decrementAndGet();
            closed.get(reason).inc();
        }
    }

    void relayed(boolean toOrigin, int bytes) {
        (toOrigin ? toUpstream : toClient).inc(bytes);
    }
}
