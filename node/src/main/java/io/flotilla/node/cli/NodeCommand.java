package io.flotilla.node.cli;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.server.FlotillaNode;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code flotilla node --config FILE}: runs a node until it is stopped (SIGTERM or SIGINT). */
@Parameters(commandDescription = "Run a node with the given config")
final class NodeCommand {
    private static volatile boolean running;

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
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    node.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "flotilla-shutdown"));
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
