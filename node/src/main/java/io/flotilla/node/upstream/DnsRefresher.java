package io.flotilla.node.upstream;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Re-resolves upstream servers named by DNS names, periodically, on its own thread: the JDK's lookup
 * blocks, so it never runs on an event loop. A name that stops resolving keeps its last address.
 */
public final class DnsRefresher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DnsRefresher.class.getName());

    /** The JDK resolver (honouring its DNS cache settings, networkaddress.cache.ttl). */
    public static final Function<String, InetAddress> SYSTEM = host -> {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    };

    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "flotilla-dns");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param upstreams the upstreams in force, read at every round (a reload changes them)
     * @param every     time between rounds
     * @param resolver  how a name becomes an address
     */
    public DnsRefresher(
            Supplier<Collection<Upstream>> upstreams, Duration every, Function<String, InetAddress> resolver) {
        long period = Math.max(1, every.toMillis());
        thread.scheduleWithFixedDelay(
                () -> {
                    for (Upstream upstream : upstreams.get()) {
                        for (UpstreamServer server : upstream.servers()) {
                            if (server.named() && server.reresolve(resolver)) {
                                LOG.info(() -> server + " now resolves to "
                                        + server.resolvedAddress().getAddress().getHostAddress());
                            }
                        }
                    }
                },
                period,
                period,
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
