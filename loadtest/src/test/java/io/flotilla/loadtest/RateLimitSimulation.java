package io.flotilla.loadtest;

import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.time.Duration;
import java.util.Map;

/**
 * A rate-limited route ({@code /limited/}, limited per {@code X-Api-Key}; loadtest/config/node.yaml allows
 * 100 per 1 s) with two clients: one over its limit at {@code -Drate} per second (default twice the limit)
 * and one at half its limit. Asserted from the responses:
 * <ul>
 *   <li>the over-limit client's refusals are 429 with a {@code Retry-After} of 0 to the window's length;</li>
 *   <li>it is never admitted more than {@code -Dlimit} (100) + {@code -Dslack} (0) per {@code -Dwindow}
 *       (1s) window: each admitted answer that proves a window over that fails its check as it arrives
 *       (see {@link RateLimitLedger} for which window an answer counts in);</li>
 *   <li>in every window wholly inside the steady load it is admitted at least limit - slack (the limit is
 *       a rate it gets, not only a ceiling);</li>
 *   <li>the client under its limit is never refused.</li>
 * </ul>
 * In a fleet, counts are synchronised every 50 ms, so give it a few requests of slack per node.
 */
public class RateLimitSimulation extends FlotillaSimulation {
    public RateLimitSimulation() {
        super("rate-limit");
    }

    private final int limit = Knobs.integer("limit", 100);
    private final Duration window = Knobs.duration("window", "1s");
    private final int slack = Knobs.integer("slack", 0);
    private final RateLimitLedger ledger = new RateLimitLedger(window.toMillis(), limit + slack);
    private volatile long steadyFrom;
    private volatile long steadyTo;

    {
        double perWindow = limit / (window.toMillis() / 1000.0);
        double rate = Knobs.number("rate", 2 * perWindow);
        String run = Long.toString(System.currentTimeMillis(), 36);
        long retryAfterMax = (window.toMillis() + 999) / 1000;
        var protocol = Knobs.http(Knobs.target()).shareConnections();
        var over = scenario("over its limit")
                .exec(http("over its limit")
                        .get("/limited/over")
                        .header("X-Api-Key", "over-" + run)
                        .checkIf((response, session) -> ledger.admittedOverLimit(response))
                        .then(status().is(429).name("admitted beyond " + (limit + slack) + " per window"))
                        .check(status().in(200, 429))
                        .checkIf((response, session) -> response.status().code() == 429)
                        .then(header("Retry-After")
                                .transform(Long::parseLong)
                                .validate("Retry-After within the window", (v, s) -> {
                                    if (v < 0 || v > retryAfterMax) {
                                        throw new IllegalStateException(
                                                "Retry-After " + v + " outside 0.." + retryAfterMax);
                                    }
                                    return v;
                                })))
                .injectOpen(Knobs.open(rate, Knobs.steady()))
                .protocols(protocol);
        var under = scenario("under its limit")
                .exec(http("under its limit")
                        .get("/limited/under")
                        .header("X-Api-Key", "under-" + run)
                        .check(status().is(200)))
                .injectOpen(Knobs.open(perWindow / 2, Knobs.steady()))
                .protocols(protocol);
        Verdicts verdicts = new Verdicts()
                .require("admitted at least " + (limit - slack) + " per full window", this::underAdmitted);
        summary.line(
                "limit " + limit + " per " + window.toMillis() + " ms (+" + slack + " slack), over-limit client at "
                        + Knobs.perSecond(rate) + " for " + Knobs.steady().toSeconds() + " s");
        setUp(verdicts.after(over, protocol), under).assertions(verdicts.andSlo());
    }

    @Override
    protected void started() {
        steadyFrom = System.currentTimeMillis() + Knobs.ramp().toMillis();
        steadyTo = steadyFrom + Knobs.steady().toMillis();
    }

    private String underAdmitted() {
        Map<Long, Integer> possible = ledger.possiblePerWindow(steadyFrom, steadyTo);
        return possible.values().stream().allMatch(n -> n >= limit - slack)
                ? null
                : "admitted per full window, at most: " + possible.values();
    }

    @Override
    protected void finished() {
        Map<Long, Integer> full = ledger.certainPerWindow(steadyFrom, steadyTo);
        summary.line("over-limit client admitted per full window: min "
                + full.values().stream().mapToInt(Integer::intValue).min().orElse(0) + ", max "
                + full.values().stream().mapToInt(Integer::intValue).max().orElse(0) + " over " + full.size()
                + " windows (answers wholly inside a window; " + ledger.crossing() + " crossed a boundary)");
    }
}
