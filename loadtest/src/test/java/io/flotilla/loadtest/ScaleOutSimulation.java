package io.flotilla.loadtest;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.responseTimeInMillis;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.PopulationBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The same load against 1, 2 and 3 nodes in turn through the front ({@code -Dnodes=1,2,3}): before each
 * phase {@code -DscaleHook} runs with {@code {n}} replaced by the node count (e.g.
 * {@code "loadtest/fleet.sh nodes {n}"}), then {@code -Dsettle} (3s) passes, then {@code -Dduration}
 * (default 30s) of load. The load is the cache workload (Zipf over {@code -Dkeys}, {@code -Dskew}, entries
 * that stay fresh) under a fresh key prefix per phase, at {@code -Drate} (500) per second, or with
 * {@code -Dusers=N} a closed model of N users sending back to back (to find the throughput ceiling).
 * Per phase it records throughput, latency, hit ratio and, from {@code -DoriginStats} (the load origin's
 * {@code /stats} URL), the requests that reached the origin: with a fleet-wide cache they stay near the
 * number of distinct keys whatever the node count. Each phase's requests are named after its node count
 * in the report.
 */
public class ScaleOutSimulation extends FlotillaSimulation {
    public ScaleOutSimulation() {
        super("scale-out");
    }

    private final String originStats = Knobs.text("originStats", "");
    private final List<Phase> phases = new ArrayList<>();
    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static final class Phase {
        final int nodes;
        final CacheStatusTally tally = new CacheStatusTally();
        final Latencies latencies = new Latencies();
        final AtomicLong first = new AtomicLong(Long.MAX_VALUE);
        final AtomicLong last = new AtomicLong();
        volatile long originBefore = -1;
        volatile long originAfter = -1;
        volatile Hooks.Result hook;

        Phase(int nodes) {
            this.nodes = nodes;
        }

        String label() {
            return nodes + (nodes == 1 ? " node" : " nodes");
        }

        Integer record(Integer ms) {
            long now = System.currentTimeMillis();
            first.accumulateAndGet(now - ms, Math::min);
            last.accumulateAndGet(now, Math::max);
            return latencies.record(ms);
        }
    }

    {
        String hook = Knobs.text("scaleHook", "");
        Duration settle = Knobs.duration("settle", "3s");
        Duration phaseLength = Knobs.duration("duration", "30s");
        double rate = Knobs.number("rate", 500);
        int users = Knobs.integer("users", 0);
        int keys = Knobs.integer("keys", 1000);
        Zipf zipf = new Zipf(keys, Knobs.number("skew", 1.0));
        String run = Knobs.text("prefix", Long.toString(System.currentTimeMillis(), 36));
        var protocol = Knobs.http(Knobs.target()).shareConnections();
        for (String n : Knobs.text("nodes", "1,2,3").split(",")) {
            phases.add(new Phase(Integer.parseInt(n.trim())));
        }
        List<PopulationBuilder> chain = new ArrayList<>();
        for (Phase phase : phases) {
            Iterator<Map<String, Object>> feeder = Stream.generate(() -> Map.<String, Object>of("key", zipf.next()))
                    .iterator();
            var control = scenario("switch to " + phase.label())
                    .exec(session -> {
                        phase.originBefore = originRequests();
                        if (!hook.isEmpty()) {
                            String command = hook.replace("{n}", Integer.toString(phase.nodes));
                            phase.hook = Hooks.run(new Hooks.Hook(Duration.ZERO, command));
                        }
                        return session;
                    })
                    .pause(settle)
                    .injectOpen(atOnceUsers(1));
            var request = http(phase.label())
                    .get("/cache/" + run + "-n" + phase.nodes + "/k#{key}")
                    .check(
                            status().is(200),
                            header("Cache-Status")
                                    .transform(phase.tally::record)
                                    .exists(),
                            responseTimeInMillis().transform(phase::record));
            var load = users > 0
                    ? scenario(phase.label())
                            .feed(feeder)
                            .exec(request)
                            .injectClosed(constantConcurrentUsers(users).during(phaseLength))
                    : scenario(phase.label()).feed(feeder).exec(request).injectOpen(Knobs.open(rate, phaseLength));
            chain.add(control);
            chain.add(load);
        }
        PopulationBuilder all = chain.get(chain.size() - 1).protocols(protocol);
        for (int i = chain.size() - 2; i >= 0; i--) {
            all = chain.get(i).protocols(protocol).andThen(all);
        }
        Verdicts verdicts = new Verdicts();
        if (!hook.isEmpty()) {
            verdicts.require("every scale hook exited 0", () -> phases.stream()
                    .filter(p -> p.hook == null || !p.hook.ok())
                    .map(p -> p.label() + ": "
                            + (p.hook == null ? "did not run" : "exited " + p.hook.exit() + " " + p.hook.output()))
                    .reduce((a, b) -> a + "; " + b)
                    .orElse(null));
        }
        summary.line((users > 0 ? users + " closed-model users" : Knobs.perSecond(rate)) + " per phase of "
                + phaseLength.toSeconds() + " s, nodes " + Knobs.text("nodes", "1,2,3") + ", " + keys + " keys, hook '"
                + hook + "', origin stats '" + originStats + "'");
        setUp(verdicts.after(all, protocol)).assertions(verdicts.andSlo());
    }

    /** The origin's request count (its /stats {@code total} line), or -1 without -DoriginStats. */
    private long originRequests() {
        if (originStats.isEmpty()) {
            return -1;
        }
        try {
            String body = client.send(
                            HttpRequest.newBuilder(URI.create(originStats))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            for (String line : body.split("\n")) {
                if (line.startsWith("total ")) {
                    return Long.parseLong(line.substring("total ".length()).trim());
                }
            }
            return 0;
        } catch (IOException | RuntimeException e) {
            System.err.println("cannot read " + originStats + ": " + e);
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    protected void finished() {
        for (int i = 0; i < phases.size(); i++) {
            Phase p = phases.get(i);
            p.originAfter = i + 1 < phases.size() ? phases.get(i + 1).originBefore : originRequests();
            long n = p.latencies.count();
            double seconds = (p.last.get() - p.first.get()) / 1000.0;
            summary.line(String.format(
                    java.util.Locale.ROOT,
                    "%s: %d requests, %.0f req/s, p50 %d ms, p99 %d ms, p99.9 %d ms, %s, origin requests %s",
                    p.label(),
                    n,
                    n > 1 && seconds > 0 ? n / seconds : 0.0,
                    p.latencies.percentile(50),
                    p.latencies.percentile(99),
                    p.latencies.percentile(99.9),
                    p.tally.describe(),
                    p.originBefore < 0 || p.originAfter < 0 ? "n/a" : Long.toString(p.originAfter - p.originBefore)));
        }
    }
}
