package io.flotilla.node.metrics;

import com.codahale.metrics.Counter;
import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.FleetState;
import io.flotilla.cluster.FleetStatistics;
import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.cache.StoredResponse;
import io.flotilla.cluster.config.ConfigHistory;
import io.flotilla.cluster.config.ConfigStore;
import io.flotilla.cluster.config.ConfigVersion;
import io.flotilla.cluster.health.HealthRegistry;
import io.flotilla.cluster.membership.Membership;
import io.flotilla.cluster.rate.RateCounters;
import io.flotilla.cluster.security.Outsiders;
import io.flotilla.cluster.tickets.TicketKeyRing;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The node's metrics of its fleet state (issue 17): every round trip to the shared state by kind,
 * with its latency and failures, near-cache hits and misses, this member's view of the fleet, and
 * what Hazelcast reports (migrations, lost partitions, merges) through {@link FleetStatistics}.
 *
 * <p>Round trips are timed by decorating the fleet state the node uses ({@link #observe(FleetState)}),
 * so the cluster module needs no metrics library; only the rate counters' background syncs report
 * through {@link FleetStatistics.Observer}.
 */
public final class FleetMetrics implements FleetStatistics.Observer {
    /** Every kind of round trip, so that each series exists at 0 from startup. */
    public static final List<String> KINDS =
            List.of("remote_get", "fill_claim", "store", "purge", "rate_sync", "config_publish");

    private final NodeMetrics metrics;
    private final Map<String, LatencyHistogram> latency;
    private final Map<String, Counter> failures;
    private final Counter nearHits;
    private final Counter nearMisses;

    FleetMetrics(NodeMetrics metrics) {
        this.metrics = metrics;
        Map<String, LatencyHistogram> l = new java.util.HashMap<>();
        Map<String, Counter> f = new java.util.HashMap<>();
        for (String kind : KINDS) {
            l.put(kind, metrics.fleetOperation(kind));
            f.put(kind, metrics.counter("flotilla.fleet.operation_failures." + kind));
        }
        this.latency = Map.copyOf(l);
        this.failures = Map.copyOf(f);
        this.nearHits = metrics.counter("flotilla.fleet.near_cache.hit");
        this.nearMisses = metrics.counter("flotilla.fleet.near_cache.miss");
    }

    @Override
    public void operation(String kind, long nanos, boolean failed) {
        LatencyHistogram h = latency.get(kind);
        if (h == null) {
            return; // a kind this build does not chart
        }
        h.update(nanos, TimeUnit.NANOSECONDS);
        if (failed) {
            failures.get(kind).inc();
        }
    }

    /**
     * The fleet state as the node should use it: its shared cache and config timed here, the rate
     * syncs reported here, and gauges for members, migrations, merges and the rate sync's lag.
     */
    public FleetState observe(FleetState fleet) {
        fleet.observe(this);
        FleetStatistics stats = fleet.statistics();
        Membership membership = fleet.membership();
        metrics.gauge(
                "flotilla.fleet.members.gossip", () -> membership.members().size());
        metrics.gauge("flotilla.fleet.members.shared", stats::sharedMembers);
        // 1 while JGroups (who is in the fleet) and Hazelcast (who holds the data) see as many members.
        metrics.gauge("flotilla.fleet.view_agrees", () -> membership.members().size() == stats.sharedMembers() ? 1 : 0);
        metrics.gauge("flotilla.fleet.migrations_total", stats::migrations);
        metrics.gauge("flotilla.fleet.migration_failures_total", stats::migrationFailures);
        metrics.gauge("flotilla.fleet.partitions_lost_total", stats::partitionsLost);
        metrics.gauge("flotilla.fleet.merges_total", stats::merges);
        metrics.gauge("flotilla.fleet.rate_sync_lag_milliseconds", stats::rateSyncLagMillis);
        return new ObservedFleetState(
                fleet, new ObservedResponseStore(fleet.responses()), new ObservedConfigStore(fleet.config()));
    }

    private <T> T timed(String kind, Supplier<T> call) {
        long start = System.nanoTime();
        boolean failed = true;
        try {
            T result = call.get();
            failed = false;
            return result;
        } finally {
            operation(kind, System.nanoTime() - start, failed);
        }
    }

    private <T> CompletionStage<T> timedAsync(String kind, Supplier<CompletionStage<T>> call) {
        long start = System.nanoTime();
        CompletionStage<T> stage;
        try {
            stage = call.get();
        } catch (RuntimeException e) {
            operation(kind, System.nanoTime() - start, true);
            throw e;
        }
        // whenComplete's stage is not returned: callers keep the original's completion and threads.
        stage.whenComplete((v, error) -> operation(kind, System.nanoTime() - start, error != null));
        return stage;
    }

    /** The fleet state with its shared cache and config decorated; everything else as it was. */
    private record ObservedFleetState(FleetState fleet, ResponseStore responses, ConfigStore config)
            implements FleetState {
        @Override
        public ClusterSettings settings() {
            return fleet.settings();
        }

        @Override
        public HealthRegistry health() {
            return fleet.health();
        }

        @Override
        public RateCounters rates() {
            return fleet.rates();
        }

        @Override
        public TicketKeyRing tickets() {
            return fleet.tickets();
        }

        @Override
        public Membership membership() {
            return fleet.membership();
        }

        @Override
        public Outsiders outsiders() {
            return fleet.outsiders();
        }

        @Override
        public FleetStatistics statistics() {
            return fleet.statistics();
        }

        @Override
        public void observe(FleetStatistics.Observer observer) {
            fleet.observe(observer);
        }

        @Override
        public void close() {
            fleet.close();
        }
    }

    /**
     * The shared cache, timed: a near-cache read counts a hit or a miss; every call that leaves this
     * member (reads, claims, stores, purges) is timed by kind. Every method forwards, the defaults
     * too, so the store's own overrides still run.
     */
    private final class ObservedResponseStore implements ResponseStore {
        private final ResponseStore store;

        ObservedResponseStore(ResponseStore store) {
            this.store = store;
        }

        @Override
        public StoredResponse getIfLocal(String key) {
            StoredResponse found = store.getIfLocal(key);
            (found != null ? nearHits : nearMisses).inc();
            return found;
        }

        @Override
        public CompletionStage<StoredResponse> get(String key) {
            return timedAsync("remote_get", () -> store.get(key));
        }

        @Override
        public CompletionStage<Lookup> getOrClaim(String key, Duration lease) {
            return timedAsync("remote_get", () -> store.getOrClaim(key, lease));
        }

        @Override
        public void put(StoredResponse response) {
            timed("store", () -> {
                store.put(response);
                return null;
            });
        }

        @Override
        public CompletionStage<Void> putAsync(StoredResponse response) {
            return timedAsync("store", () -> store.putAsync(response));
        }

        @Override
        public boolean remove(String key) {
            return timed("purge", () -> store.remove(key));
        }

        @Override
        public int purgeUrl(String url) {
            return timed("purge", () -> store.purgeUrl(url));
        }

        @Override
        public CompletionStage<Integer> purgeUrlAsync(String url) {
            return timedAsync("purge", () -> store.purgeUrlAsync(url));
        }

        @Override
        public int purgePrefix(String prefix) {
            return timed("purge", () -> store.purgePrefix(prefix));
        }

        @Override
        public int purgeTag(String tag) {
            return timed("purge", () -> store.purgeTag(tag));
        }

        @Override
        public boolean tryClaimFill(String key, Duration lease) {
            return timed("fill_claim", () -> store.tryClaimFill(key, lease));
        }

        @Override
        public CompletionStage<Boolean> tryClaimFillAsync(String key, Duration lease) {
            return timedAsync("fill_claim", () -> store.tryClaimFillAsync(key, lease));
        }

        @Override
        public void releaseFill(String key) {
            store.releaseFill(key);
        }

        @Override
        public void releaseFillAsync(String key) {
            store.releaseFillAsync(key);
        }

        @Override
        public Map<String, Long> fleetOperations() {
            return store.fleetOperations();
        }

        @Override
        public long entryCount() {
            return store.entryCount();
        }

        @Override
        public long weightedSize() {
            return store.weightedSize();
        }

        @Override
        public void close() {
            store.close();
        }
    }

    /** The config store with publishes and rollbacks timed (both write a version to the fleet). */
    private final class ObservedConfigStore implements ConfigStore {
        private final ConfigStore store;

        ObservedConfigStore(ConfigStore store) {
            this.store = store;
        }

        @Override
        public ConfigHistory history() {
            return store.history();
        }

        @Override
        public Optional<ConfigVersion> publish(long expectedVersion, String document, String source, String publisher) {
            return timed("config_publish", () -> store.publish(expectedVersion, document, source, publisher));
        }

        @Override
        public Optional<ConfigVersion> rollback(long expectedVersion, String publisher) {
            return timed("config_publish", () -> store.rollback(expectedVersion, publisher));
        }

        @Override
        public Runnable onChange(Consumer<ConfigVersion> listener) {
            return store.onChange(listener);
        }

        @Override
        public void close() {
            store.close();
        }
    }
}
