package io.flotilla.loadtest;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.http.HttpDsl.http;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What every simulation reads from system properties ({@code -Dname=value}), with its default, and the
 * pieces they share: the HTTP protocol, the open-model injection and the service-level assertions.
 * <ul>
 *   <li>{@code target}: where requests go, a node or the L4 front ({@code http://127.0.0.1:19100});</li>
 *   <li>{@code duration}: how long the steady load lasts ({@code 60s}), after {@code ramp} ({@code 5s})
 *       in which the arrival rate climbs from 1 to {@code rate} per second (each simulation has its own
 *       default rate);</li>
 *   <li>{@code maxErrorPercent} ({@code 0.1}), {@code p99} ({@code 50} ms), {@code p999} ({@code 200} ms):
 *       the run fails above them.</li>
 * </ul>
 */
final class Knobs {
    private Knobs() {}

    static String text(String name, String fallback) {
        String value = System.getProperty(name);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    static double number(String name, double fallback) {
        String value = text(name, null);
        if (value == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + name + "=" + value + ": not a number", e);
        }
    }

    static int integer(String name, int fallback) {
        return (int) number(name, fallback);
    }

    static Duration duration(String name, String fallback) {
        String value = text(name, fallback);
        try {
            return parseDuration(value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("-D" + name + "=" + value + ": not a duration (500ms, 10s, 2m)", e);
        }
    }

    /** {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h}; a bare number is seconds. */
    static Duration parseDuration(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        long n = Long.parseLong(v.replaceAll("[smh]$", ""));
        return switch (v.charAt(v.length() - 1)) {
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
    }

    static String target() {
        String target = text("target", "http://127.0.0.1:19100");
        return target.endsWith("/") ? target.substring(0, target.length() - 1) : target;
    }

    static Duration steady() {
        return duration("duration", "60s");
    }

    static Duration ramp() {
        return duration("ramp", "5s");
    }

    /** HTTP/1.1 to {@code baseUrl}; no warm-up request (Gatling's goes to the internet) and no client cache. */
    static HttpProtocolBuilder http(String baseUrl) {
        return http.baseUrl(baseUrl)
                .disableWarmUp()
                .disableCaching()
                .disableFollowRedirect()
                .userAgentHeader("flotilla-loadtest (Gatling)");
    }

    /** Open model: arrivals climb to {@code rate} per second over the ramp, then hold it for the duration. */
    static OpenInjectionStep[] open(double rate, Duration steady) {
        List<OpenInjectionStep> steps = new ArrayList<>();
        Duration ramp = ramp();
        if (!ramp.isZero()) {
            steps.add(rampUsersPerSec(Math.min(1, rate)).to(rate).during(ramp));
        }
        steps.add(constantUsersPerSec(rate).during(steady));
        return steps.toArray(OpenInjectionStep[]::new);
    }

    /** Error rate, p99 and p99.9 over every request of the run. */
    static List<Assertion> slo() {
        return List.of(
                global().failedRequests().percent().lte(number("maxErrorPercent", 0.1)),
                global().responseTime().percentile(99).lte(integer("p99", 50)),
                global().responseTime().percentile(99.9).lte(integer("p999", 200)));
    }

    /** Gatling's user count per second as a string for the console: "250/s". */
    static String perSecond(double rate) {
        return (rate == Math.rint(rate) ? String.valueOf((long) rate) : String.valueOf(rate)) + "/s";
    }
}
