package io.flotilla.node.server;

import io.flotilla.cluster.config.ConfigStore;
import io.flotilla.cluster.config.ConfigVersion;
import io.flotilla.node.admin.NodeOperations;
import io.flotilla.node.admin.NodeOperations.ReloadRefused;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.proxy.ProxyRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * The node's config as one history with the fleet's: the version it runs, publishing its start
 * file as version 1, following the fleet's versions (their shared sections, with this node's own
 * node, listeners and cluster), push, dry run, SIGHUP reload and rollback. Alone, the history is
 * the node's own (in-process store). Changes are applied through the node's reload, under the
 * node's lock, as before the split.
 */
final class LiveConfig {
    private static final Logger LOG = Logger.getLogger(LiveConfig.class.getName());

    private final FlotillaNode node;
    private final ConfigStore store;
    /** Where the node's config came from at start: its file's absolute path, or a name for a text. */
    private final Path startSource;

    private final AtomicReference<String> text = new AtomicReference<>();
    /** The fleet config version this node runs (0: its own file, not yet published). */
    private volatile long version;

    private volatile String runningDigest;
    private volatile String fileDigest;
    private volatile String rule = "no version yet";
    private Runnable subscription = () -> {};

    LiveConfig(FlotillaNode node, ConfigStore store, Path startSource) {
        this.node = node;
        this.store = store;
        this.startSource = startSource;
    }

    long version() {
        return version;
    }

    String runningDigest() {
        return runningDigest;
    }

    String fileDigest() {
        return fileDigest;
    }

    String rule() {
        return rule;
    }

    /** Remembers the YAML applied (a reload, a fleet version) or the node was started from. */
    void applied(String appliedText) {
        text.set(appliedText);
    }

    /**
     * The file the node was started from, or null (a node started from text). Relative paths of a
     * pushed or rolled-back text resolve against its directory, as they did in the file.
     */
    private Path startFile() {
        Path source = startSource;
        return source != null && source.isAbsolute() && Files.isRegularFile(source) ? source : null;
    }

    /** As {@link NodeOperations#parseText}. */
    FlotillaConfig parseText(String document, String sourceName) throws ConfigException {
        Path file = startFile();
        return file == null
                ? ConfigLoader.parse(
                        document,
                        sourceName,
                        Path.of(""),
                        "the node's working directory: it " + "was not started from a file")
                : ConfigLoader.parse(
                        document, sourceName, file.getParent(), "the directory of the node's config file " + file);
    }

    /** The YAML in force: the last one applied by reload, else the file the node started from. */
    String text() throws IOException {
        String current = text.get();
        if (current != null) {
            return current;
        }
        Path source = startFile();
        return source == null ? null : Files.readString(source);
    }

    /**
     * At start: the first node of a fleet (or a lone node) publishes its own file as version 1; a
     * node joining a fleet that has a config runs the fleet's shared sections and its file's own
     * (node, listeners, cluster), says so in its log and in /fleet, and follows later versions.
     */
    void join() {
        String start = null;
        try {
            start = text();
        } catch (IOException | RuntimeException e) {
            LOG.fine(() -> "no start config text to publish yet: " + e);
        }
        fileDigest = start == null ? null : ConfigVersion.digest(start);
        publishStart(start);
        if (node.inFleet()) {
            subscription = store.onChange(this::follow);
            ConfigVersion current = store.current();
            if (current != null && current.version() > version) {
                rule = "fleet version " + current.version() + " (" + current.digest() + ") for the shared "
                        + "sections, this node's file (" + fileDigest + ") for node, listeners and cluster";
                LOG.info(() -> "config: the fleet runs version " + current.version() + " (" + current.source() + " by "
                        + current.publisher() + ", digest " + current.digest() + ")"
                        + (current.digest().equals(fileDigest)
                                ? ", the same text as this node's file"
                                : "; this node's file differs (digest " + fileDigest + ")")
                        + ": the fleet's version wins for upstreams, routes, timeouts, limits, headers and cache; "
                        + "the file for node, listeners and cluster");
                follow(current);
            }
        }
    }

    /** Remembers the YAML the node was started from, when it did not come from a file. */
    void startedFrom(String start) {
        text.compareAndSet(null, start);
        fileDigest = ConfigVersion.digest(start);
        publishStart(start);
    }

    /** Version 1 is the config the first node started with (nothing happens when there is one already). */
    private void publishStart(String start) {
        synchronized (node) {
            if (start != null && version == 0) {
                store.publish(
                                0,
                                start,
                                FlotillaNode.FROM_FILE,
                                node.config().node().name() + " (" + startSource + ")")
                        .ifPresent(v -> {
                            running(v);
                            rule = "this node's file";
                        });
            }
        }
    }

    private void running(ConfigVersion v) {
        version = v.version();
        runningDigest = v.digest();
    }

    /** A new fleet version: its shared sections applied here, with this node's own node, listeners and cluster. */
    private void follow(ConfigVersion next) {
        synchronized (node) {
            if (next.version() <= version) {
                return;
            }
            try {
                FlotillaConfig pushed = parseText(next.document(), "<fleet config v" + next.version() + ">");
                node.reloadShared(withLocalSections(pushed), next.document());
                running(next);
            } catch (ConfigException | ReloadRefused | RuntimeException e) {
                // Validated by the node that published it; here it can only fail on local files (TLS, static).
                LOG.warning(() -> "fleet config version " + next.version() + " not applied: " + e.getMessage());
            }
        }
    }

    /** The shared sections of {@code pushed} with this node's own node, listeners and cluster sections. */
    private FlotillaConfig withLocalSections(FlotillaConfig pushed) {
        FlotillaConfig local = node.config();
        return new FlotillaConfig(
                pushed.source(),
                local.node(),
                local.listeners(),
                pushed.upstreams(),
                pushed.routes(),
                pushed.timeouts(),
                pushed.limits(),
                pushed.headers(),
                pushed.cache(),
                local.cluster(),
                pushed.websocket(),
                pushed.compression());
    }

    /** As {@link NodeOperations#push}. */
    String push(FlotillaConfig next, String document, String source, String who) throws ReloadRefused {
        synchronized (node) {
            ConfigVersion current = store.current();
            long expected = current == null ? 0 : current.version();
            if (!node.inFleet()) {
                node.reload(next, document);
                store.publish(expected, document, source, who).ifPresent(this::running);
                return "applied (reload " + node.reloads() + ", version " + version + ")";
            }
            try {
                ProxyRuntime.compile(
                        withLocalSections(next)); // what cannot be compiled is refused before anyone sees it
            } catch (IllegalArgumentException e) {
                throw new ReloadRefused(e.getMessage());
            }
            ConfigVersion published = store.publish(expected, document, source, who)
                    .orElseThrow(() -> new ReloadRefused("another config was published meanwhile (now version "
                            + store.current().version() + "); push again"));
            follow(published);
            return "published version " + published.version() + " to the fleet; applied here";
        }
    }

    /** As {@link NodeOperations#dryRun}. */
    String dryRun(FlotillaConfig next, String document) throws ReloadRefused {
        if (!node.inFleet()) {
            node.requireSameLocalSections(next);
        }
        try {
            ProxyRuntime.compile(node.inFleet() ? withLocalSections(next) : next);
        } catch (IllegalArgumentException e) {
            throw new ReloadRefused(e.getMessage());
        }
        String digest = ConfigVersion.digest(document);
        if (digest.equals(runningDigest)) {
            return "valid; unchanged: version " + version + " is this text (" + digest + "); nothing applied";
        }
        return "valid; a push would make it version " + (store.history().currentVersion() + 1)
                + " (" + digest + ", running version " + version + " is " + runningDigest + ")"
                + (node.inFleet() ? " on every node of the fleet" : "") + "; nothing applied";
    }

    /** As {@link FlotillaNode#reloadFile}. */
    String reloadFile() throws ConfigException, IOException, ReloadRefused {
        synchronized (node) {
            Path file = startFile();
            if (file == null) {
                throw new ReloadRefused(
                        "the node was not started from a file (" + startSource + "); push a config instead");
            }
            ConfigLoader.Loaded loaded = ConfigLoader.loadWithText(file);
            FlotillaConfig next = loaded.config();
            String document = loaded.text();
            node.requireSameLocalSections(next);
            ConfigVersion current = store.current();
            if (current != null && current.document().equals(document) && current.version() == version) {
                return "unchanged: version " + version + " is this file (" + current.digest() + ")";
            }
            return push(
                    next,
                    document,
                    FlotillaNode.FROM_SIGHUP,
                    node.config().node().name() + " (SIGHUP, " + file + ")");
        }
    }

    /** As {@link NodeOperations#rollback}. */
    String rollback(String who) throws ReloadRefused {
        synchronized (node) {
            ConfigVersion current = store.current();
            if (current == null || store.versions().size() < 2) {
                throw new ReloadRefused("there is no previous config version to roll back to");
            }
            ConfigVersion previous = store.versions().get(1);
            if (!node.inFleet()) {
                try { // applied before it is recorded: a version that does not apply here is not published
                    node.reload(
                            parseText(previous.document(), "<config v" + previous.version() + ">"),
                            previous.document());
                } catch (ConfigException e) {
                    throw new ReloadRefused(e.getMessage());
                }
            }
            ConfigVersion rolled = store.rollback(current.version(), who)
                    .orElseThrow(() -> new ReloadRefused(
                            "another config was published meanwhile; look at GET /config/versions and try again"));
            if (node.inFleet()) {
                follow(rolled);
            } else {
                running(rolled);
            }
            return "rolled back: version " + rolled.version() + " is the config of version " + previous.version() + " ("
                    + rolled.digest() + ")";
        }
    }

    /** Stops following the fleet's versions. */
    void close() {
        subscription.run();
    }
}
