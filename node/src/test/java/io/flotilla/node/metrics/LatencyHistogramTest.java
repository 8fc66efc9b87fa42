package io.flotilla.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The classic Prometheus histogram mapping: buckets, their exposition, and updates from many threads. */
class LatencyHistogramTest {

    @Test
    void boundsAreInclusiveAndAboveTheLastIsInf() {
        assertEquals(0, LatencyHistogram.bucket(0));
        assertEquals(0, LatencyHistogram.bucket(100_000)); // le="0.0001" includes 100 µs itself
        assertEquals(1, LatencyHistogram.bucket(100_001));
        assertEquals(LatencyHistogram.BOUNDS_NANOS.length, LatencyHistogram.bucket(10_000_000_001L));
        for (int i = 1; i < LatencyHistogram.BOUNDS_NANOS.length; i++) {
            assertTrue(LatencyHistogram.BOUNDS_NANOS[i] > LatencyHistogram.BOUNDS_NANOS[i - 1], "bounds ascend");
        }
    }

    @Test
    void exportedAsCumulativeBucketsWithCountAndSum() throws Exception {
        NodeMetrics metrics = new NodeMetrics();
        NodeMetrics.RouteMetrics route = metrics.route("app");
        route.record(200, "GET", TimeUnit.MICROSECONDS.toNanos(300)); // le 0.0005
        route.record(200, "GET", TimeUnit.MILLISECONDS.toNanos(2)); // le 0.0025
        route.record(503, "GET", TimeUnit.SECONDS.toNanos(20)); // +Inf only
        String text = scrape(metrics);

        assertTrue(text.contains("le=\"0.0001\""), "bounds print as Go's client prints them: " + text);
        assertTrue(text.contains("# TYPE flotilla_request_duration_seconds histogram"), text);
        assertEquals(0.0, sample(text, "flotilla_request_duration_seconds_bucket{route=\"app\",le=\"0.00025\",}"));
        assertEquals(1.0, sample(text, "flotilla_request_duration_seconds_bucket{route=\"app\",le=\"0.0005\",}"));
        assertEquals(2.0, sample(text, "flotilla_request_duration_seconds_bucket{route=\"app\",le=\"0.0025\",}"));
        assertEquals(2.0, sample(text, "flotilla_request_duration_seconds_bucket{route=\"app\",le=\"10\",}"));
        assertEquals(3.0, sample(text, "flotilla_request_duration_seconds_bucket{route=\"app\",le=\"+Inf\",}"));
        assertEquals(3.0, sample(text, "flotilla_request_duration_seconds_count{route=\"app\",}"));
        assertEquals(20.0023, sample(text, "flotilla_request_duration_seconds_sum{route=\"app\",}"), 1e-9);
        // One family, one TYPE line: the Dropwizard bridge does not print the histogram a second time.
        assertEquals(1, text.split("# TYPE flotilla_request_duration_seconds ", -1).length - 1, text);
        // The same family from another route joins it rather than starting a second one.
        metrics.route("other").record(200, "GET", 1);
        String again = scrape(metrics);
        assertEquals(1, again.split("# TYPE flotilla_request_duration_seconds ", -1).length - 1, again);
        assertEquals(1.0, sample(again, "flotilla_request_duration_seconds_count{route=\"other\",}"));
    }

    @Test
    void knownLabelValuesExistAtZero() throws Exception {
        NodeMetrics metrics = new NodeMetrics();
        metrics.touchKnown(List.of("app"));
        String text = scrape(metrics);
        assertEquals(0.0, sample(text, "flotilla_requests_total{route=\"app\",status=\"5xx\",method=\"GET\",}"));
        assertEquals(0.0, sample(text, "flotilla_request_duration_seconds_count{route=\"none\",}"));
        assertEquals(0.0, sample(text, "flotilla_upstream_ttfb_seconds_bucket{upstream=\"app\",le=\"+Inf\",}"));
        assertEquals(0.0, sample(text, "flotilla_fleet_operation_seconds_count{kind=\"rate_sync\",}"));
        assertEquals(0.0, sample(text, "flotilla_fleet_operation_failures_total{kind=\"remote_get\",}"));
        assertEquals(0.0, sample(text, "flotilla_errors_total{kind=\"rate_limited\",}"));
        assertEquals(0.0, sample(text, "flotilla_timeouts_total{phase=\"upstream_read\",}"));
    }

    @Test
    void updatesFromManyThreadsAreAllCounted() throws Exception {
        LatencyHistogram h = new LatencyHistogram("t_seconds", List.of(), List.of());
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int offset = t;
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 100_000; i++) {
                    h.update(offset * 1_000_000L + i, TimeUnit.NANOSECONDS);
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread t : threads) {
            t.join();
        }
        long[] cumulative = h.cumulativeCounts();
        assertEquals(400_000, h.getCount());
        assertEquals(400_000, cumulative[cumulative.length - 1]);
        for (int i = 1; i < cumulative.length; i++) {
            assertTrue(cumulative[i] >= cumulative[i - 1], "cumulative buckets never decrease");
        }
    }

    /** The hot path: a request's record() allocates nothing once its route's handles exist. */
    @Test
    void recordingARequestAllocatesNothing() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        NodeMetrics metrics = new NodeMetrics();
        NodeMetrics.RouteMetrics route = metrics.route("app");
        LatencyHistogram ttfb = metrics.upstreamTtfb("app");
        for (int i = 0; i < 200_000; i++) { // past the JIT's warm-up, and every LongAdder's first use
            route.record(200, "GET", i * 1_000L);
            metrics.route("app").record(429, "GET", i);
            ttfb.update(i, TimeUnit.NANOSECONDS);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            metrics.route("app").record(200, "GET", i * 1_000L);
            metrics.upstreamTtfb("app").update(i, TimeUnit.NANOSECONDS);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 10_000, allocated + " bytes allocated by 100 000 requests' metrics");
    }

    private static String scrape(NodeMetrics metrics) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.writePrometheus(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static double sample(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1));
            }
        }
        throw new AssertionError("no " + series + " in\n" + text);
    }
}
