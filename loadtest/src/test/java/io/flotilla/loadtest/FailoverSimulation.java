package io.flotilla.loadtest;

import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.Assertion;
import java.util.ArrayList;
import java.util.List;

/**
 * A steady open-model load through the L4 front ({@code -Drate}, default 300 per second, 1 KiB
 * responses, each request on a new connection as independent clients make them; {@code -DkeepAlive=true}
 * shares kept-alive connections instead) while the fleet changes under it: {@code -Dhooks} runs commands
 * at given times from the start of the run, e.g. {@code "20s=loadtest/fleet.sh drain 2;40s=loadtest/fleet.sh kill 3"}.
 * Asserts at most {@code -DmaxFailed} (default 5: requests in flight on a node killed with SIGKILL cannot
 * be answered) failed requests, the usual latency bounds, and that every hook ran and exited 0.
 */
public class FailoverSimulation extends FlotillaSimulation {
    public FailoverSimulation() {
        super("failover");
    }

    private final Hooks hooks = Hooks.parse(Knobs.text("hooks", ""));

    {
        double rate = Knobs.number("rate", 300);
        int maxFailed = Knobs.integer("maxFailed", 5);
        boolean keepAlive = Boolean.parseBoolean(Knobs.text("keepAlive", "false"));
        var protocol = Knobs.http(Knobs.target());
        protocol = keepAlive ? protocol.shareConnections() : protocol.connectionHeader("close");
        var load = scenario("failover")
                .exec(http("through the front").get("/bytes/1024").check(status().is(200)))
                .injectOpen(Knobs.open(rate, Knobs.steady()))
                .protocols(protocol);
        Verdicts verdicts = new Verdicts();
        if (!hooks.hooks().isEmpty()) {
            verdicts.require("every hook ran and exited 0", hooks::failures);
        }
        List<Assertion> assertions = new ArrayList<>(verdicts.andSlo());
        assertions.add(global().failedRequests().count().lte((long) maxFailed));
        summary.line(Knobs.perSecond(rate) + (keepAlive ? " keep-alive" : " new connections") + " for "
                + Knobs.steady().toSeconds() + " s, hooks " + hooks.hooks() + ", at most " + maxFailed + " failed");
        setUp(verdicts.after(load, protocol)).assertions(assertions);
    }

    @Override
    protected void started() {
        hooks.start();
    }

    @Override
    protected void finished() {
        hooks.stop();
        for (Hooks.Result r : hooks.results()) {
            summary.line("hook at " + r.hook().at().toMillis() / 1000.0 + " s '"
                    + r.hook().command() + "' exited " + r.exit());
        }
    }
}
