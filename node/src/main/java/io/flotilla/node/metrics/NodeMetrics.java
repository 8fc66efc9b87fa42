package io.flotilla.node.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricFilter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.codahale.metrics.jvm.BufferPoolMetricSet;
import com.codahale.metrics.jvm.GarbageCollectorMetricSet;
import com.codahale.metrics.jvm.MemoryUsageGaugeSet;
import com.codahale.metrics.jvm.ThreadStatesGaugeSet;
import io.netty.buffer.PooledByteBufAllocator;
import io.prometheus.client.dropwizard.DropwizardExports;
import io.prometheus.client.dropwizard.samplebuilder.CustomMappingSampleBuilder;
import io.prometheus.client.dropwizard.samplebuilder.MapperConfig;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Owns the node's metrics (Dropwizard) and their Prometheus exposition through the maintained
 * Prometheus bridge, which maps the dotted names to labelled series. Hot-path updates go through
 * handles resolved once (per route, per upstream server), never through a registry lookup per request.
 *
 * <p>Counters are exposed as gauges, as the bridge maps Dropwizard counters (which may go down); their
 * {@code _total} names say they only grow, and {@code rate()} works on them.
 *
 * <p>Series exposed ({@code flotilla_} prefix): {@code requests_total{route,status,method}},
 * {@code request_duration_seconds{route}} (histogram: downstream total), {@code upstream_ttfb_seconds{upstream}}
 * (histogram), {@code fleet_operation_seconds{kind}} and {@code fleet_operation_failures_total{kind}},
 * {@code upstream_requests_total{upstream,server,outcome}}, {@code errors_total{kind}},
 * {@code local_responses_total{status}}, {@code timeouts_total{phase}}, {@code listener_connections{listener}},
 * {@code listener_bytes_total{listener,direction}},
 * {@code upstream_connections_{open,idle}{upstream,server}}, {@code access_log_dropped},
 * {@code draining}, {@code client_connections_total{protocol}} (http1, h2, h2c), {@code http2_streams_total},
 * {@code websocket_tunnels}, {@code websocket_opened_total},
 * {@code websocket_{refused,closed}_total{reason}}, {@code websocket_bytes_total{direction}} (docs/websocket.md),
 * {@code fleet_refused_total{kind}} (gossip, member connections and shared values that did
 * not prove the fleet secret), and JVM heap, GC, threads, buffer pools and Netty's pooled direct memory.
 */
public final class NodeMetrics {
    private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};

    private final MetricRegistry registry = new MetricRegistry();
    private final DropwizardExports exports;
    private final Map<String, RouteMetrics> routes = new ConcurrentHashMap<>();
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final Map<Integer, Counter> local = new ConcurrentHashMap<>();
    private final Map<String, LatencyHistogram> ttfb = new ConcurrentHashMap<>();
    private final HistogramExports histograms;
    private final Map<OutcomeKey, Counter> upstreamOutcomes = new ConcurrentHashMap<>();

    public NodeMetrics() {
        registry.register("jvm.memory", new MemoryUsageGaugeSet());
        registry.register("jvm.gc", new GarbageCollectorMetricSet());
        registry.register("jvm.threads", new ThreadStatesGaugeSet());
        registry.register("jvm.buffers", new BufferPoolMetricSet(ManagementFactory.getPlatformMBeanServer()));
        registry.register("netty.pooled.direct.bytes", (Gauge<Long>)
                () -> PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory());
        registry.register("netty.pooled.heap.bytes", (Gauge<Long>)
                () -> PooledByteBufAllocator.DEFAULT.metric().usedHeapMemory());
        CustomMappingSampleBuilder labels = new CustomMappingSampleBuilder(List.of(
                new MapperConfig(
                        "flotilla.requests.*.*.*",
                        "flotilla_requests_total",
                        labels("route", "${0}", "status", "${1}", "method", "${2}")),
                new MapperConfig(
                        "flotilla.upstream.requests.*.*.*",
                        "flotilla_upstream_requests_total",
                        labels("upstream", "${0}", "server", "${1}", "outcome", "${2}")),
                new MapperConfig(
                        "flotilla.upstream.connections.*.*.*",
                        "flotilla_upstream_connections",
                        labels("upstream", "${0}", "server", "${1}", "state", "${2}")),
                new MapperConfig(
                        "flotilla.upstream.available.*.*",
                        "flotilla_upstream_server_available",
                        labels("upstream", "${0}", "server", "${1}")),
                new MapperConfig(
                        "flotilla.upstream.ejections.*.*",
                        "flotilla_upstream_ejections_total",
                        labels("upstream", "${0}", "server", "${1}")),
                new MapperConfig("flotilla.rate_limited.*", "flotilla_rate_limited_total", labels("route", "${0}")),
                new MapperConfig("flotilla.errors.*", "flotilla_errors_total", labels("kind", "${0}")),
                new MapperConfig("flotilla.cache.events.*", "flotilla_cache_events_total", labels("event", "${0}")),
                new MapperConfig(
                        "flotilla.fleet.operations.*", "flotilla_fleet_operations_total", labels("kind", "${0}")),
                new MapperConfig(
                        "flotilla.fleet.operation_failures.*",
                        "flotilla_fleet_operation_failures_total",
                        labels("kind", "${0}")),
                new MapperConfig(
                        "flotilla.fleet.near_cache.*", "flotilla_fleet_near_cache_total", labels("result", "${0}")),
                new MapperConfig("flotilla.fleet.members.*", "flotilla_fleet_members", labels("view", "${0}")),
                new MapperConfig("flotilla.local.*", "flotilla_local_responses_total", labels("status", "${0}")),
                new MapperConfig("flotilla.timeouts.*", "flotilla_timeouts_total", labels("phase", "${0}")),
                new MapperConfig(
                        "flotilla.websocket.refused.*", "flotilla_websocket_refused_total", labels("reason", "${0}")),
                new MapperConfig(
                        "flotilla.websocket.closed.*", "flotilla_websocket_closed_total", labels("reason", "${0}")),
                new MapperConfig(
                        "flotilla.websocket.bytes.*", "flotilla_websocket_bytes_total", labels("direction", "${0}")),
                new MapperConfig(
                        "flotilla.listener.connections.*", "flotilla_listener_connections", labels("listener", "${0}")),
                new MapperConfig(
                        "flotilla.listener.bytes.*.*",
                        "flotilla_listener_bytes_total",
                        labels("listener", "${0}", "direction", "${1}")),
                new MapperConfig("flotilla.fleet.refused.*", "flotilla_fleet_refused_total", labels("kind", "${0}")),
                new MapperConfig(
                        "flotilla.client.connections.*",
                        "flotilla_client_connections_total",
                        labels("protocol", "${0}")),
                new MapperConfig("flotilla.http2.streams", "flotilla_http2_streams_total", Map.of())));
        this.exports = new DropwizardExports(registry, MetricFilter.ALL, labels);
        this.histograms = new HistogramExports(
                registry,
                Map.of(
                        REQUEST_DURATION, "Request head in to response end, by route",
                        UPSTREAM_TTFB, "Request sent upstream to response head, by upstream",
                        FLEET_OPERATION, "Round trips to the fleet's shared state, by kind"));
        this.fleet = new FleetMetrics(this);
    }

    private final FleetMetrics fleet;

    /** The metrics of the fleet state: round trips, near cache, members, migrations, merges. */
    public FleetMetrics fleet() {
        return fleet;
    }

    static final String REQUEST_DURATION = "flotilla_request_duration_seconds";
    static final String UPSTREAM_TTFB = "flotilla_upstream_ttfb_seconds";
    static final String FLEET_OPERATION = "flotilla_fleet_operation_seconds";

    /**
     * The histogram registered as {@code name}, made on first use; called once per route, upstream or
     * kind (the callers keep the handle), so the lock is off the hot path.
     */
    synchronized LatencyHistogram histogram(String name, String family, String... labels) {
        if (registry.getMetrics().get(name) instanceof LatencyHistogram found) {
            return found;
        }
        List<String> names = new java.util.ArrayList<>();
        List<String> values = new java.util.ArrayList<>();
        for (int i = 0; i < labels.length; i += 2) {
            names.add(labels[i]);
            values.add(labels[i + 1]);
        }
        return registry.register(name, new LatencyHistogram(family, names, values));
    }

    /** Labels in the order given, so every scrape prints them the same way. */
    private static Map<String, String> labels(String... pairs) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    /** Exports the cache's counters and size. */
    public void registerCache(io.flotilla.node.cache.ResponseCache cache) {
        for (io.flotilla.node.cache.CacheStats.Event event : io.flotilla.node.cache.CacheStats.Event.values()) {
            String name = event.name().toLowerCase(java.util.Locale.ROOT);
            registry.register("flotilla.cache.events." + name, (Gauge<Long>)
                    () -> cache.stats().get(event));
        }
        registry.register("flotilla.cache.entries", (Gauge<Long>) cache::entries);
        registry.register("flotilla.cache.bytes", (Gauge<Long>) cache::bytes);
        // Round trips to the fleet by kind (none for a lone node): what a miss and a remote hit cost.
        for (String kind : cache.fleetOperations().keySet()) {
            registry.register("flotilla.fleet.operations." + kind, (Gauge<Long>)
                    () -> cache.fleetOperations().getOrDefault(kind, 0L));
        }
    }

    public MetricRegistry registry() {
        return registry;
    }

    /** Writes every metric in the Prometheus text format (version 0.0.4). */
    public void writePrometheus(OutputStream out) throws IOException {
        Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
        List<io.prometheus.client.Collector.MetricFamilySamples> all = new java.util.ArrayList<>(exports.collect());
        all.addAll(histograms.collect());
        TextFormat.write004(writer, Collections.enumeration(all));
        writer.flush();
    }

    public String prometheusContentType() {
        return TextFormat.CONTENT_TYPE_004;
    }

    /** The handles of one route; names may only use [A-Za-z0-9_-] once sanitized. */
    public RouteMetrics route(String name) {
        RouteMetrics found = routes.get(name); // per request: no capturing lambda unless it is new
        return found != null ? found : routes.computeIfAbsent(name, RouteMetrics::new);
    }

    /** Error kinds, proxy-made statuses and timeout phases a node counts; each shows as 0 from startup. */
    private static final List<String> ERROR_KINDS =
            List.of("cut_response", "aborted", "rate_limited", "circuit_open", "retry", "retry_budget_exhausted");

    private static final List<Integer> LOCAL_STATUSES = List.of(400, 404, 408, 429, 502, 503, 504);
    private static final List<String> TIMEOUT_PHASES =
            List.of("client_header", "keep_alive", "client_body", "client_write", "upstream_read", "upstream_write");

    /**
     * Makes the series of every label value known now exist at 0 (issue 17: a quiet, healthy fleet
     * shows zeros, not "No data"): the routes' GET series and latency, the upstreams' time to first
     * byte, and the error kinds, proxy-made statuses and timeout phases. Series of values learnt later
     * (a new status, a new route after a reload) still appear with their first event.
     */
    public void touchKnown(java.util.Collection<String> upstreams) {
        for (String upstream : upstreams) {
            route(upstream).touch();
            upstreamTtfb(upstream);
        }
        route("none").touch();
        ERROR_KINDS.forEach(kind -> errors.computeIfAbsent(kind, k -> registry.counter("flotilla.errors." + k)));
        LOCAL_STATUSES.forEach(status -> local.computeIfAbsent(status, k -> registry.counter("flotilla.local." + k)));
        TIMEOUT_PHASES.forEach(this::timeouts);
    }

    /** Counts one error by kind: one of {@link #ERROR_KINDS} (the manual lists them). */
    public void error(String kind) {
        errors.computeIfAbsent(kind, k -> registry.counter("flotilla.errors." + k))
                .inc();
    }

    /** Counts a response the proxy made itself (404, 502, 504, ...). */
    public void localResponse(int status) {
        local.computeIfAbsent(status, k -> registry.counter("flotilla.local." + k))
                .inc();
    }

    /** Time from the request sent upstream to the response head, per upstream. */
    public LatencyHistogram upstreamTtfb(String upstream) {
        LatencyHistogram found = ttfb.get(upstream); // per request: no capturing lambda unless it is new
        return found != null
                ? found
                : ttfb.computeIfAbsent(
                        upstream,
                        u -> histogram("flotilla.upstream.ttfb." + segment(u), UPSTREAM_TTFB, "upstream", segment(u)));
    }

    /** The latency of one kind of round trip to the fleet's shared state (remote_get, store, ...). */
    public LatencyHistogram fleetOperation(String kind) {
        return histogram("flotilla.fleet.operation." + kind, FLEET_OPERATION, "kind", kind);
    }

    /** Counts how one attempt on an upstream server ended: response, connect_error, timeout, ... */
    public void upstreamOutcome(String upstream, String server, String outcome) {
        // Keyed without building a name: this runs for every request.
        Counter counter = upstreamOutcomes.get(new OutcomeKey(upstream, server, outcome));
        if (counter == null) {
            counter = upstreamOutcomes.computeIfAbsent(
                    new OutcomeKey(upstream, server, outcome),
                    k -> registry.counter(
                            "flotilla.upstream.requests." + segment(upstream) + "." + segment(server) + "." + outcome));
        }
        counter.inc();
    }

    /**
     * Hashed and compared by hand: a record's generated methods go through method handles, which
     * showed in profiles of every request (issue 16).
     */
    private record OutcomeKey(String upstream, String server, String outcome) {
        @Override
        public int hashCode() {
            return (Objects.hashCode(upstream) * 31 + Objects.hashCode(server)) * 31 + Objects.hashCode(outcome);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof OutcomeKey k
                    && Objects.equals(upstream, k.upstream)
                    && Objects.equals(server, k.server)
                    && Objects.equals(outcome, k.outcome);
        }
    }

    public Counter timeouts(String phase) {
        return registry.counter("flotilla.timeouts." + phase);
    }

    public Counter counter(String name) {
        return registry.counter(name);
    }

    public Timer timer(String name) {
        // A 30 s window sliding in 5 s steps, kept as bucket counts: an update allocates nothing and the
        // memory held does not grow with the request rate (keeping every sample, as Dropwizard's sliding
        // windows do, made each young collection copy and promote them: see WindowedHistogramReservoir).
        return registry.timer(name, () -> new Timer(new WindowedHistogramReservoir(30, TimeUnit.SECONDS, 6)));
    }

    /** Registers a gauge read at scrape time; replaces one of the same name. */
    public void gauge(String name, LongSupplier value) {
        registry.remove(name);
        registry.register(name, (Gauge<Long>) value::getAsLong);
    }

    public void removeMatching(String prefix) {
        registry.removeMatching((name, metric) -> name.startsWith(prefix));
    }

    /** Keeps a name usable as one dotted segment and as a label value. */
    public static String segment(String name) {
        StringBuilder b = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            b.append(Character.isLetterOrDigit(c) || c == '-' || c == '_' ? c : '_');
        }
        return b.toString();
    }

    /** Per-route handles: request counters by status class and method, and the latency timer. */
    public final class RouteMetrics {
        private final String name;
        private final Counter[][] requests = new Counter[STATUS_CLASSES.length][METHODS.length];
        private final LatencyHistogram duration;
        /** 429s, whichever limit made them: rate limits by route (the status class alone hides them). */
        private final Counter limited;

        private RouteMetrics(String route) {
            this.name = segment(route);
            this.limited = registry.counter("flotilla.rate_limited." + name);
            this.duration = histogram("flotilla.request.duration." + name, REQUEST_DURATION, "route", name);
        }

        /** Makes the route's GET series by status class exist at 0 before its first request. */
        void touch() {
            int get = methodIndex("GET");
            for (int cls = 1; cls < STATUS_CLASSES.length; cls++) {
                counter(cls, get);
            }
        }

        private Counter counter(int cls, int m) {
            Counter counter = requests[cls][m];
            if (counter == null) {
                counter = registry.counter("flotilla.requests." + name + "." + STATUS_CLASSES[cls] + "." + METHODS[m]);
                requests[cls][m] = counter; // a benign race: the registry returns the same counter to all
            }
            return counter;
        }

        /** Counts a finished request; durations in nanoseconds. */
        public void record(int status, String method, long durationNanos) {
            int cls = Math.max(1, Math.min(5, status / 100)) - 1;
            int m = methodIndex(method);
            counter(cls, m).inc();
            if (status == 429) {
                limited.inc();
            }
            duration.update(durationNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        }

        private int methodIndex(String method) {
            for (int i = 0; i < METHODS.length - 1; i++) {
                if (METHODS[i].equals(method)) {
                    return i;
                }
            }
            return METHODS.length - 1;
        }
    }
}
