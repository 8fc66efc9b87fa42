package io.flotilla.node.metrics;

import com.codahale.metrics.MetricRegistry;
import io.prometheus.client.Collector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@link LatencyHistogram}s of a Dropwizard registry as Prometheus histogram families: one family
 * per histogram name, one {@code _bucket} series per bound with the {@code le} label, then
 * {@code _count} and {@code _sum} (seconds). The Prometheus Dropwizard bridge skips metric types it
 * does not know, so the two exports never print the same series.
 */
final class HistogramExports extends Collector {
    private static final String[] LE = new String[LatencyHistogram.BOUNDS_NANOS.length + 1];

    static {
        for (int i = 0; i < LatencyHistogram.BOUNDS_NANOS.length; i++) {
            // As Go's client prints them (0.0001, 2.5, 10): the same bucket has the same le everywhere.
            LE[i] = java.math.BigDecimal.valueOf(LatencyHistogram.BOUNDS_NANOS[i], 9)
                    .stripTrailingZeros()
                    .toPlainString();
        }
        LE[LE.length - 1] = "+Inf";
    }

    private final MetricRegistry registry;
    private final Map<String, String> help;

    /** Exports the histograms of {@code registry}; {@code help} gives a family's HELP text. */
    HistogramExports(MetricRegistry registry, Map<String, String> help) {
        this.registry = registry;
        this.help = Map.copyOf(help);
    }

    @Override
    public List<MetricFamilySamples> collect() {
        Map<String, List<MetricFamilySamples.Sample>> families = new TreeMap<>();
        registry.getMetrics().forEach((name, metric) -> {
            if (metric instanceof LatencyHistogram h) {
                samples(h, families.computeIfAbsent(h.family(), f -> new ArrayList<>()));
            }
        });
        List<MetricFamilySamples> out = new ArrayList<>(families.size());
        families.forEach((family, samples) ->
                out.add(new MetricFamilySamples(family, Type.HISTOGRAM, help.getOrDefault(family, family), samples)));
        return out;
    }

    private static void samples(LatencyHistogram h, List<MetricFamilySamples.Sample> out) {
        List<String> names = new ArrayList<>(h.labelNames());
        names.add("le");
        long[] cumulative = h.cumulativeCounts();
        for (int i = 0; i < cumulative.length; i++) {
            List<String> values = new ArrayList<>(h.labelValues());
            values.add(LE[i]);
            out.add(new MetricFamilySamples.Sample(h.family() + "_bucket", names, values, cumulative[i]));
        }
        // _count is the +Inf bucket read above, so the two always agree within one scrape.
        out.add(new MetricFamilySamples.Sample(
                h.family() + "_count", h.labelNames(), h.labelValues(), cumulative[cumulative.length - 1]));
        out.add(new MetricFamilySamples.Sample(h.family() + "_sum", h.labelNames(), h.labelValues(), h.sumSeconds()));
    }
}
