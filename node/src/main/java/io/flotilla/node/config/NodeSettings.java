package io.flotilla.node.config;

import java.time.Duration;
import java.util.Optional;

/**
 * The node's identity and process-wide settings.
 *
 * @param name         shown in {@code Via} and logs; defaults to the host name
 * @param admin        where the admin API listens; absent disables it
 * @param eventLoops   I/O threads; 0 means one per core
 * @param adminToken   bearer token the admin API requires; mandatory when admin is bound beyond loopback
 * @param drainGrace   after a drain starts, how long new connections are still accepted (so the L4
 *                     front sees /healthz fail first)
 * @param drainTimeout how long in-flight requests get to finish once the listeners are closed
 * @param accessLog    where and how requests are logged; absent means no access log
 * @param resolveEvery how often upstream servers named by DNS names are resolved again; 0 = never
 */
public record NodeSettings(
        String name,
        Optional<HostPort> admin,
        int eventLoops,
        Optional<String> adminToken,
        Duration drainGrace,
        Duration drainTimeout,
        Optional<AccessLogConfig> accessLog,
        Duration resolveEvery) {
    public static final Duration DEFAULT_RESOLVE_EVERY = Duration.ofSeconds(30);

    public NodeSettings(
            String name,
            Optional<HostPort> admin,
            int eventLoops,
            Optional<String> adminToken,
            Duration drainGrace,
            Duration drainTimeout,
            Optional<AccessLogConfig> accessLog) {
        this(name, admin, eventLoops, adminToken, drainGrace, drainTimeout, accessLog, DEFAULT_RESOLVE_EVERY);
    }

    public static final int DEFAULT_EVENT_LOOPS = 0;
    public static final Duration DEFAULT_DRAIN_GRACE = Duration.ofSeconds(5);
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

    public NodeSettings(String name, Optional<HostPort> admin, int eventLoops) {
        this(
                name,
                admin,
                eventLoops,
                Optional.empty(),
                DEFAULT_DRAIN_GRACE,
                DEFAULT_DRAIN_TIMEOUT,
                Optional.empty(),
                DEFAULT_RESOLVE_EVERY);
    }

    /**
     * Access log settings.
     *
     * @param path   file to append to, or {@code -} for standard output
     * @param format {@code json} or {@code combined}
     */
    public record AccessLogConfig(String path, String format) {
        public static final String JSON = "json";
        public static final String COMBINED = "combined";
    }
}
