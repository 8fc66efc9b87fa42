package io.flotilla.node.cli;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.server.FlotillaNode;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code flotilla node --config FILE}: runs a node until it is stopped (SIGTERM or SIGINT). */
@Parameters(commandDescription = "Run a node with the given config")
final class NodeCommand {
    private static volatile boolean running;
    private static volatile boolean stopping;

    @Parameter(names = {"-c", "--config"}, required = true, description = "Config file (YAML)")
    private String config;

    static boolean running() {
        return running;
    }

    static void markRunning() {
        running = true;
    }

    int run(PrintStream out, PrintStream err) {
        FlotillaConfig loaded;
        try {
            loaded = ConfigLoader.load(Path.of(config));
        } catch (ConfigException e) {
            err.println(e.getMessage());
            return Main.BAD_CONFIG;
        }
        Logging.configure();
        try {
            FlotillaNode node = FlotillaNode.start(loaded);
            running = true;
            // SIGTERM and SIGINT drain (healthz 503, grace, in-flight requests finish) and exit 0,
            // as an orchestrator or a rolling restart expects; a second signal stops at once.
            SignalHandler drainAndExit = signal -> {
                if (stopping) {
                    Runtime.getRuntime().halt(Main.FAILED);
                }
                stopping = true;
                Thread stopper = new Thread(() -> {
                    try {
                        node.drain().get();
                        node.close();
                    } catch (Exception e) {
                        Thread.currentThread().interrupt();
                    }
                    System.exit(Main.OK);
                }, "flotilla-drain");
                stopper.start();
            };
            // SIGHUP re-reads the config file, as `nginx -s reload` does; a bad file is logged and ignored.
            Signal.handle(new Signal("HUP"), signal -> {
                try {
                    node.reload(ConfigLoader.load(Path.of(config)), null);
                } catch (ConfigException e) {
                    java.util.logging.Logger.getLogger(NodeCommand.class.getName()).warning("reload refused: " + e.getMessage());
                } catch (FlotillaNode.ReloadRefused e) {
                    java.util.logging.Logger.getLogger(NodeCommand.class.getName()).warning("reload refused: " + e.getMessage());
                }
            });
            Signal.handle(new Signal("TERM"), drainAndExit);
            Signal.handle(new Signal("INT"), drainAndExit);
            return Main.OK;
        } catch (Exception e) {
            err.println("flotilla: cannot start: " + describe(e));
            return Main.FAILED;
        }
    }

    static String describe(Throwable e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
