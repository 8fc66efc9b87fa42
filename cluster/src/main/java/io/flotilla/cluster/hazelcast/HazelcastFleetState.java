package io.flotilla.cluster.hazelcast;

import com.hazelcast.cluster.Address;
import com.hazelcast.config.Config;
import com.hazelcast.config.SocketInterceptorConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceFactory;
import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.FleetState;
import io.flotilla.cluster.FleetStatistics;
import io.flotilla.cluster.jgroups.FleetGossip;
import io.flotilla.cluster.security.Outsiders;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One member of the fleet: gossip first (its view names the Hazelcast peers), then the embedded
 * Hazelcast member, then the shared-state parts over it, and one background thread for their
 * periodic work (rate sync, purge replay after a merge).
 */
final class HazelcastFleetState implements FleetState {

    private final ClusterSettings settings;
    private final FleetGossip gossip;
    private final HazelcastInstance hz;
    private final ScheduledExecutorService background;
    private final HazelcastResponseStore responses;
    private final HazelcastHealthRegistry health;
    private final HazelcastRateCounters rates;
    private final HazelcastConfigStore config;
    private final HazelcastTicketKeyRing tickets;
    private final Outsiders outsiders;
    private final ValueSeal seal;
    private final HazelcastFleetStatistics statistics;
    private volatile boolean closed;
    private volatile boolean crashed;

    private HazelcastFleetState(
            ClusterSettings settings, FleetGossip gossip, HazelcastInstance hz, Outsiders outsiders, ValueSeal seal) {
        this.settings = settings;
        this.outsiders = outsiders;
        this.seal = seal;
        this.gossip = gossip;
        this.hz = hz;
        this.background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "flotilla-fleet-" + settings.memberId());
            t.setDaemon(true);
            return t;
        });
        this.responses = new HazelcastResponseStore(
                hz,
                settings.memberId(),
                settings.entryMaxBytes(),
                settings.nearCacheMaxBytes(),
                settings.purgeLogRetention(),
                background,
                seal);
        this.health = new HazelcastHealthRegistry(hz, gossip, settings.probeOwners(), seal);
        this.rates =
                new HazelcastRateCounters(hz, settings.expectedFleetSize(), settings.syncInterval(), background, seal);
        this.config = new HazelcastConfigStore(hz, settings.memberId(), background, seal);
        this.tickets = new HazelcastTicketKeyRing(hz, background, seal, System::currentTimeMillis);
        this.statistics = new HazelcastFleetStatistics(hz, rates); // issue 17's metrics hook
    }

    static HazelcastFleetState start(ClusterSettings settings) {
        quietLogging();
        Outsiders outsiders = new Outsiders();
        FleetGossip gossip = FleetGossip.join(settings, outsiders);
        HazelcastInstance hz = null;
        try {
            Config config = MemberConfig.build(settings, gossip);
            ValueSeal seal = new ValueSeal(settings.keys(), outsiders);
            config.getUserContext().put(ValueSeal.CONTEXT_KEY, seal); // for entry processors on this member
            if (settings.keys().enabled()) {
                MemberGate gate = new MemberGate(settings.keys(), settings.name(), outsiders);
                config.getNetworkConfig()
                        .setSocketInterceptorConfig(
                                new SocketInterceptorConfig().setEnabled(true).setImplementation(gate));
                hz = HazelcastInstanceFactory.newHazelcastInstance(
                        config, config.getInstanceName(), new GatedNodeContext(gate));
            } else {
                hz = Hazelcast.newHazelcastInstance(config);
            }
            Address a = hz.getCluster().getLocalMember().getAddress();
            gossip.advertise(a.getHost() + ":" + a.getPort());
            return new HazelcastFleetState(settings, gossip, hz, outsiders, seal);
        } catch (RuntimeException | Error e) {
            if (hz != null) {
                hz.getLifecycleService().terminate();
            }
            gossip.close();
            throw e;
        }
    }

    /**
     * Held strongly: JUL keeps loggers weakly, and a collected logger forgets the level set on it.
     */
    private static final Logger[] QUIETED = {
        Logger.getLogger("com.hazelcast"),
        Logger.getLogger("org.jgroups"),
        Logger.getLogger("com.hazelcast.internal.server.tcp.TcpServerAcceptor")
    };

    /**
     * Hazelcast and JGroups log at INFO by default (banners, every join); only where nobody configured
     * them. The acceptor logs every connection the member gate refuses with a stack trace, unthrottled:
     * an outsider could flood the log. Those refusals are logged by {@link Outsiders}, at most one line
     * per 10 s, so the acceptor only speaks when something is severe.
     */
    private static void quietLogging() {
        for (Logger l : QUIETED) {
            if (l.getLevel() == null) {
                l.setLevel(l.getName().endsWith("TcpServerAcceptor") ? Level.SEVERE : Level.WARNING);
            }
        }
    }

    @Override
    public ClusterSettings settings() {
        return settings;
    }

    @Override
    public HazelcastResponseStore responses() {
        return responses;
    }

    @Override
    public HazelcastHealthRegistry health() {
        return health;
    }

    @Override
    public HazelcastRateCounters rates() {
        return rates;
    }

    @Override
    public HazelcastConfigStore config() {
        return config;
    }

    @Override
    public HazelcastTicketKeyRing tickets() {
        return tickets;
    }

    @Override
    public FleetGossip membership() {
        return gossip;
    }

    @Override
    public Outsiders outsiders() {
        return outsiders;
    }

    @Override
    public FleetStatistics statistics() {
        return statistics;
    }

    @Override
    public void observe(FleetStatistics.Observer observer) {
        rates.observe(observer);
    }

    /** The thread for periodic work, for parts built by tests in this package. */
    ScheduledExecutorService background() {
        return background;
    }

    /** This member's value seal, for parts built by tests in this package. */
    ValueSeal seal() {
        return seal;
    }

    /** The embedded member, for tests in this package. */
    HazelcastInstance hazelcast() {
        return hz;
    }

    /**
     * Stops at once, as a killed process would: Hazelcast terminates without handing off partitions,
     * and gossip falls silent (no leave message) so the others must detect the failure themselves.
     */
    void crash() {
        crashed = true;
        background.shutdownNow();
        hz.getLifecycleService().terminate();
        gossip.fallSilent();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (crashed) {
            gossip.close(); // all that a crash left open: the silent channel
            return;
        }
        responses.close();
        health.close();
        rates.close();
        config.close();
        tickets.close();
        background.shutdownNow();
        try {
            background.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        hz.shutdown();
        gossip.close();
    }
}
