package io.flotilla.loadtest;

import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A cached route under a Zipf-distributed key space: {@code -Dkeys} keys (default 1000) drawn with skew
 * {@code -Dskew} (1.0), each a 1 KiB response cacheable for {@code -Dttl} seconds (15), at {@code -Drate}
 * requests per second (500). Entries expire and are fetched again, so the hit ratio settles: with the
 * defaults about 90% hits and 10% misses once the first TTL has passed. The ratio is read from each
 * response's {@code Cache-Status}, reported for the whole run and for its second half (the steady
 * state), and {@code -DminHitRatio} (0.8) is required of the steady state. Keys are under a fresh
 * prefix per run ({@code -Dprefix}), so every run starts cold.
 */
public class CacheSimulation extends FlotillaSimulation {
    public CacheSimulation() {
        super("cache");
    }

    private final CacheStatusTally tally = new CacheStatusTally();
    private final Duration steady = Knobs.steady();

    {
        int keys = Knobs.integer("keys", 1000);
        double skew = Knobs.number("skew", 1.0);
        int ttl = Knobs.integer("ttl", 15);
        double rate = Knobs.number("rate", 500);
        double minHitRatio = Knobs.number("minHitRatio", 0.8);
        String prefix = Knobs.text("prefix", Long.toString(System.currentTimeMillis(), 36));
        Zipf zipf = new Zipf(keys, skew);
        Iterator<Map<String, Object>> feeder = Stream.generate(() -> Map.<String, Object>of("key", zipf.next()))
                .iterator();
        var protocol = Knobs.http(Knobs.target()).shareConnections();
        var load = scenario("cache")
                .feed(feeder)
                .exec(http("cache GET")
                        .get("/cache/" + prefix + "/k#{key}?ttl=" + ttl)
                        .check(
                                status().is(200),
                                header("Cache-Status").transform(tally::record).exists()))
                .injectOpen(Knobs.open(rate, steady))
                .protocols(protocol);
        Verdicts verdicts = new Verdicts()
                .require(
                        "steady-state hit ratio >= " + minHitRatio,
                        () -> tally.steadyTotal() > 0
                                        && (double) tally.steadyHits() / tally.steadyTotal() >= minHitRatio
                                ? null
                                : tally.describe());
        summary.line(keys + " keys, skew " + skew + ", ttl " + ttl + " s, " + Knobs.perSecond(rate) + " for "
                + steady.toSeconds() + " s, prefix /cache/" + prefix + "/");
        setUp(verdicts.after(load, protocol)).assertions(verdicts.andSlo());
    }

    @Override
    protected void started() {
        tally.steadyFrom(
                System.nanoTime() + Knobs.ramp().plus(steady.dividedBy(2)).toNanos());
    }

    @Override
    protected void finished() {
        summary.line(tally.describe());
    }
}
