package io.flotilla.loadtest;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Requirements on what a whole run measured (a hit ratio, a hook's exit code) that Gatling's assertions
 * cannot express. Once the load is over, each is checked by one request named {@code verdict: ...} whose
 * check fails with the measured value when the requirement does not hold, so it shows in the report's
 * errors and its assertion ({@code verdict: ... failed requests = 0}) fails the run like any other.
 * A requirement returns null when it holds, or what was measured instead.
 */
final class Verdicts {
    private final List<String> names = new ArrayList<>();
    private final List<Supplier<String>> checks = new ArrayList<>();

    Verdicts require(String name, Supplier<String> failure) {
        names.add("verdict: " + name);
        checks.add(failure);
        return this;
    }

    /** {@code load}, then the verdict requests (sent to {@code protocol}'s base URL, whatever they answer). */
    PopulationBuilder after(PopulationBuilder load, HttpProtocolBuilder protocol) {
        if (names.isEmpty()) {
            return load;
        }
        ScenarioBuilder verdicts = scenario("verdicts");
        for (int i = 0; i < names.size(); i++) {
            Supplier<String> check = checks.get(i);
            verdicts = verdicts.exec(
                    http(names.get(i)).get("/verdict").check(status().validate("requirement", (actual, session) -> {
                        String failure = check.get();
                        if (failure != null) {
                            throw new IllegalStateException(failure);
                        }
                        return actual;
                    })));
        }
        return load.andThen(verdicts.injectOpen(atOnceUsers(1)).protocols(protocol));
    }

    /** The service-level assertions ({@link Knobs#slo()}) and one per requirement. */
    List<Assertion> andSlo() {
        List<Assertion> out = new ArrayList<>(Knobs.slo());
        for (String name : names) {
            out.add(details(name).failedRequests().count().is(0L));
        }
        return out;
    }
}
