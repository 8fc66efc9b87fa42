package io.flotilla.node.config;

import java.util.Optional;

/**
 * The node's identity and process-wide settings.
 *
 * @param name       shown in {@code Via} and logs; defaults to the host name
 * @param admin      where the admin API listens; absent disables it
 * @param eventLoops I/O threads; 0 means one per core
 */
public record NodeSettings(String name, Optional<HostPort> admin, int eventLoops) {
    public static final int DEFAULT_EVENT_LOOPS = 0;
}
