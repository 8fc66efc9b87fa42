package io.flotilla.node.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How an upstream's servers are judged healthy.
 *
 * @param active  periodic probes; absent means none (servers count as healthy)
 * @param passive ejection on consecutive failures seen in real traffic (outlier detection)
 * @param retries further tries on another server for a request that failed before any response
 *                byte (connect refused or timed out; for idempotent requests without a body, also a
 *                reset or close)
 * @param slowStart a server that becomes available again ramps its weight up over this; 0 = at once
 * @param circuit   circuit-breaking limits and the retry budget
 * @param tryTimeout for idempotent requests without a body: a try whose response head has not come
 *                  within this is abandoned and retried on another server; 0 = no per-try timeout
 */
public record HealthConfig(
        Optional<Active> active,
        Passive passive,
        int retries,
        Duration slowStart,
        Circuit circuit,
        Duration tryTimeout) {
    public static final int DEFAULT_RETRIES = 1;

    public HealthConfig(Optional<Active> active, Passive passive, int retries, Duration slowStart) {
        this(active, passive, retries, slowStart, Circuit.defaults(), Duration.ZERO);
    }

    public HealthConfig(Optional<Active> active, Passive passive, int retries, Duration slowStart, Circuit circuit) {
        this(active, passive, retries, slowStart, circuit, Duration.ZERO);
    }

    public static HealthConfig defaults() {
        return new HealthConfig(Optional.empty(), Passive.defaults(), DEFAULT_RETRIES, Duration.ZERO);
    }

    /**
     * Circuit breaking: past these limits a request gets a fast 503 instead of piling onto an
     * upstream that is not keeping up (node-wide counts, all event loops together).
     *
     * @param maxRequests    requests in flight to the upstream
     * @param maxPending     requests waiting for a new connection to be established
     * @param maxConnections connections open to all the upstream's servers
     * @param retryBudgetPercent retries in flight may be at most this share of the requests in flight
     *                       (Envoy's retry budget), so retries cannot multiply an overload
     * @param minRetries     ...but this many concurrent retries are always allowed, so a quiet
     *                       upstream can still retry
     */
    public record Circuit(int maxRequests, int maxPending, int maxConnections, int retryBudgetPercent, int minRetries) {
        public static final int DEFAULT_MAX_REQUESTS = 10_000;
        public static final int DEFAULT_MAX_PENDING = 1_000;
        public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
        public static final int DEFAULT_RETRY_BUDGET_PERCENT = 20;
        public static final int DEFAULT_MIN_RETRIES = 3;

        public static Circuit defaults() {
            return new Circuit(
                    DEFAULT_MAX_REQUESTS,
                    DEFAULT_MAX_PENDING,
                    DEFAULT_MAX_CONNECTIONS,
                    DEFAULT_RETRY_BUDGET_PERCENT,
                    DEFAULT_MIN_RETRIES);
        }
    }

    /**
     * An active probe.
     *
     * @param tcp       a TCP connect probe instead of HTTP
     * @param method    HTTP probe method (GET, HEAD or OPTIONS)
     * @param path      HTTP probe path
     * @param host      Host header of the probe; absent = the server's address
     * @param minStatus lowest status that counts as healthy
     * @param maxStatus highest status that counts as healthy
     * @param body      a substring the response body must contain; absent = any body
     * @param interval  time between probes of one server
     * @param timeout   a probe not answered within this fails
     * @param rise      consecutive successes that mark an unhealthy server healthy
     * @param fall      consecutive failures that mark a healthy server unhealthy
     */
    public record Active(
            boolean tcp,
            String method,
            String path,
            Optional<String> host,
            int minStatus,
            int maxStatus,
            Optional<String> body,
            Duration interval,
            Duration timeout,
            int rise,
            int fall) {
        public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
        public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
        public static final int DEFAULT_RISE = 2;
        public static final int DEFAULT_FALL = 3;
    }

    /**
     * Passive health: outlier ejection.
     *
     * @param failures       consecutive failures that eject a server; 0 disables passive ejection
     * @param ejection       first ejection time; each further ejection lasts one more multiple, up to 10
     * @param maxEjectedPercent at most this share of the pool is ejected at once, so a bad deploy
     *                       cannot empty it
     * @param failureStatuses response statuses that count as failures (connect errors, resets and
     *                       timeouts always do)
     */
    public record Passive(int failures, Duration ejection, int maxEjectedPercent, List<Integer> failureStatuses) {
        public static final int DEFAULT_FAILURES = 5;
        public static final Duration DEFAULT_EJECTION = Duration.ofSeconds(30);
        public static final int DEFAULT_MAX_EJECTED_PERCENT = 50;
        public static final List<Integer> DEFAULT_FAILURE_STATUSES = List.of(502, 503, 504);

        public Passive {
            failureStatuses = List.copyOf(failureStatuses);
        }

        public static Passive defaults() {
            return new Passive(
                    DEFAULT_FAILURES, DEFAULT_EJECTION, DEFAULT_MAX_EJECTED_PERCENT, DEFAULT_FAILURE_STATUSES);
        }
    }
}
