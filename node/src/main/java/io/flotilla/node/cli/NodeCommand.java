package io.flotilla.node.cli;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.server.FlotillaNode;
import java.io.PrintStream;
import java.nio.file.Path;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/** {@code flotilla node --config FILE}: runs a node until it is stopped (SIGTERM or SIGINT). */
@Parameters(commandDescription = "Run a node with the given config")
final class NodeCommand {
    private static volatile boolean running;
    private static volatile boolean stopping;
    private static volatile FlotillaNode started;
    private static final java.util.concurrent.atomic.AtomicBoolean hangupPending =
            new java.util.concurrent.atomic.AtomicBoolean();
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(NodeCommand.class.getName());

    @Parameter(
            names = {"-c", "--config"},
            required = true,
            description = "Config file (YAML)")
    private String config;

    static boolean running() {
        return running;
    }

    static void markRunning() {
        running = true;
    }

    int run(PrintStream out, PrintStream err) {
        // First, before the config, the fleet and the listeners (seconds): until a handler is
        // installed the JVM's own ends the process on SIGHUP (exit 129), which is what a
        // `systemctl reload` or a logrotate hook right after a start would do.
        Signal.handle(new Signal("HUP"), signal -> hangup());
        ConfigLoader.Loaded loaded;
        try {
            loaded = ConfigLoader.loadWithText(Path.of(config));
        } catch (ConfigException e) {
            err.println(e.getMessage());
            return Main.BAD_CONFIG;
        }
        Logging.configure();
        LOG.info(() -> "starting from " + loaded.config().source() + " (pid "
                + ProcessHandle.current().pid() + "); a SIGHUP from now on reloads the file, once the node is up");
        try {
            FlotillaNode node = FlotillaNode.start(loaded);
            promoteStartupHeap();
            running = true;
            // SIGTERM and SIGINT drain (healthz 503, grace, in-flight requests finish) and exit 0,
            // as an orchestrator or a rolling restart expects; a second signal stops at once.
            SignalHandler drainAndExit = signal -> {
                if (stopping) {
                    Runtime.getRuntime().halt(Main.FAILED);
                }
                stopping = true;
                Thread stopper = new Thread(
                        () -> {
                            try {
                                node.drain().get();
                                node.close();
                            } catch (Exception e) {
                                Thread.currentThread().interrupt();
                            }
                            System.exit(Main.OK);
                        },
                        "flotilla-drain");
                stopper.start();
            };
            Signal.handle(new Signal("TERM"), drainAndExit);
            Signal.handle(new Signal("INT"), drainAndExit);
            started = node;
            if (hangupPending.getAndSet(false)) {
                LOG.info("a SIGHUP arrived during start: reloading now");
                reloadFile(node);
            }
            return Main.OK;
        } catch (Exception e) {
            err.println("flotilla: cannot start: " + describe(e));
            return Main.FAILED;
        }
    }

    /**
     * SIGHUP re-reads the config file, as {@code nginx -s reload} does, and records it as the next
     * version; a bad file is logged and ignored. During start it is queued: whichever of the handler
     * and the starting thread sees both the flag and the node does the reload, once.
     */
    private static void hangup() {
        hangupPending.set(true);
        FlotillaNode node = started;
        if (node != null && hangupPending.getAndSet(false)) {
            reloadFile(node);
        }
    }

    private static void reloadFile(FlotillaNode node) {
        try {
            String result = node.reloadFile();
            LOG.info(() -> "SIGHUP: " + result);
        } catch (ConfigException | FlotillaNode.ReloadRefused | java.io.IOException | RuntimeException e) {
            LOG.warning("SIGHUP reload refused: " + e.getMessage());
        }
    }

    /**
     * One full collection once the node is up, so what startup built and keeps (config, pools, Netty's
     * and the metrics' structures: about 5 MB) moves to the old generation now. Otherwise each of the
     * first young collections under traffic copies it between the survivor spaces until it is old
     * enough to be promoted (7 collections): pauses of 10-24 ms instead of 1-3 ms (GC log, ParallelGC,
     * node pinned to one CPU), and the survivor set after a collection 5 MB instead of 0.4 MB.
     * It costs one pause of about 30 ms before the first request, before it has served anything (a connection accepted meanwhile waits that long).
     */
    static void promoteStartupHeap() {
        System.gc();
    }

    static String describe(Throwable e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
