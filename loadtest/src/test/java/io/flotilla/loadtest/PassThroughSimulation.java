package io.flotilla.loadtest;

import static io.gatling.javaapi.core.CoreDsl.bodyLength;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * The proxy path without the cache: 1 KiB and 64 KiB responses ({@code /bytes/N}, {@code no-store}),
 * each over kept-alive connections shared by all virtual users and over a new connection per request
 * ({@code Connection: close}), four open-model streams at {@code -Drate} (default 250) requests per
 * second each.
 */
public class PassThroughSimulation extends FlotillaSimulation {
    public PassThroughSimulation() {
        super("pass-through");
    }

    {
        double rate = Knobs.number("rate", 250);
        String target = Knobs.target();
        List<PopulationBuilder> streams = new ArrayList<>();
        for (int size : new int[] {1024, 64 * 1024}) {
            for (boolean keepAlive : new boolean[] {true, false}) {
                String name = size / 1024 + " KiB " + (keepAlive ? "keep-alive" : "new connection");
                HttpProtocolBuilder protocol = Knobs.http(target);
                protocol = keepAlive ? protocol.shareConnections() : protocol.connectionHeader("close");
                streams.add(scenario(name)
                        .exec(http(name)
                                .get("/bytes/" + size)
                                .check(status().is(200), bodyLength().is(size)))
                        .injectOpen(Knobs.open(rate, Knobs.steady()))
                        .protocols(protocol));
            }
        }
        summary.line("4 streams at " + Knobs.perSecond(rate) + " each, "
                + Knobs.steady().toSeconds() + " s, against " + target);
        setUp(streams).assertions(Knobs.slo());
    }
}
