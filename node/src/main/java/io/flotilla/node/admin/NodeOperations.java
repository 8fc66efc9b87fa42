package io.flotilla.node.admin;

import io.flotilla.cluster.FleetState;
import io.flotilla.cluster.config.ConfigVersion;
import io.flotilla.node.cache.ResponseCache;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.metrics.NodeMetrics;
import io.flotilla.node.proxy.ProxyRuntime;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the admin API sees of its node and may do to it: config versions (push, dry run, rollback),
 * drain, the cache, metrics and the fleet. The node implements it; the admin package names no node
 * class, so the two do not depend on each other.
 */
public interface NodeOperations {
    /** The source recorded for a config pushed through the admin API. */
    String FROM_PUSH = "push";

    /** Why a pushed config was not applied. */
    final class ReloadRefused extends Exception {
        public ReloadRefused(String message) {
            super(message);
        }
    }

    FlotillaConfig config();

    ProxyRuntime runtime();

    /** Parses a config text the way the node's own file is (relative paths from its directory). */
    FlotillaConfig parseText(String text, String sourceName) throws ConfigException;

    /** Validates and applies {@code next}, recorded as a version from {@code source} by {@code who}. */
    String push(FlotillaConfig next, String text, String source, String who) throws ReloadRefused;

    /** What {@link #push} would do, without doing it. */
    String dryRun(FlotillaConfig next, String text) throws ReloadRefused;

    /** Applies the version before the current one again, as a new version. */
    String rollback(String who) throws ReloadRefused;

    long configVersion();

    List<ConfigVersion> configVersions();

    String configDigest();

    String configText() throws IOException;

    /** Which sections a fleet version takes from this node's own file. */
    String configRule();

    /** The digest of the node's start file, or null. */
    String fileDigest();

    boolean inFleet();

    FleetState fleet();

    CompletableFuture<Void> drain();

    boolean draining();

    ResponseCache cache();

    NodeMetrics metrics();
}
