package io.flotilla.loadtest;

import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The miss path: every request a key never asked for before ({@code /cache/<prefix>/cold-N}), at
 * {@code -Drate} (default 200) per second, so each one goes to the origin and is stored (in a fleet,
 * put in the shared store). No answer may be a hit: a hit on a key nobody asked for would be a cache
 * key bug, and is counted as a failed verdict.
 */
public class ColdFillSimulation extends FlotillaSimulation {
    public ColdFillSimulation() {
        super("cold-fill");
    }

    private final CacheStatusTally tally = new CacheStatusTally();

    {
        double rate = Knobs.number("rate", 200);
        String prefix = Knobs.text("prefix", Long.toString(System.currentTimeMillis(), 36));
        AtomicLong next = new AtomicLong();
        Iterator<Map<String, Object>> feeder = Stream.generate(
                        () -> Map.<String, Object>of("key", next.incrementAndGet()))
                .iterator();
        var protocol = Knobs.http(Knobs.target()).shareConnections();
        var load = scenario("cold fill")
                .feed(feeder)
                .exec(http("cold GET")
                        .get("/cache/" + prefix + "/cold-#{key}")
                        .check(
                                status().is(200),
                                header("Cache-Status").transform(tally::record).exists()))
                .injectOpen(Knobs.open(rate, Knobs.steady()))
                .protocols(protocol);
        Verdicts verdicts =
                new Verdicts().require("no hit on a new key", () -> tally.hits() == 0 ? null : tally.describe());
        summary.line(Knobs.perSecond(rate) + " new keys for " + Knobs.steady().toSeconds() + " s, prefix /cache/"
                + prefix + "/");
        setUp(verdicts.after(load, protocol)).assertions(verdicts.andSlo());
    }

    @Override
    protected void finished() {
        summary.line(tally.describe());
    }
}
