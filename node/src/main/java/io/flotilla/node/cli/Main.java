package io.flotilla.node.cli;

import com.beust.jcommander.JCommander;
import com.beust.jcommander.Parameter;
import com.beust.jcommander.ParameterException;
import java.io.PrintStream;

/**
 * {@code bin/flotilla}: the command line. Exit codes scripts can rely on: 0 done, 1 failed while
 * running (a port in use, say), 2 usage error, 3 invalid configuration.
 */
public final class Main {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    public static final int BAD_CONFIG = 3;

    @Parameter(
            names = {"-h", "--help"},
            help = true,
            description = "Show this help")
    private boolean help;

    @Parameter(
            names = {"-V", "--version"},
            description = "Print the version")
    private boolean version;

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        if (code != OK || !NodeCommand.running()) {
            System.exit(code);
        }
    }

    /** Runs a command; returns its exit code (a started node keeps running after this returns 0). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Main main = new Main();
        NodeCommand node = new NodeCommand();
        ValidateCommand validate = new ValidateCommand();
        DemoCommand demo = new DemoCommand();
        ConfigCommand configCommand = new ConfigCommand();
        FleetKeyCommand fleetKey = new FleetKeyCommand();
        JCommander commander = JCommander.newBuilder()
                .programName("flotilla")
                .addObject(main)
                .addCommand("node", node)
                .addCommand("validate", validate)
                .addCommand("demo", demo)
                .addCommand("config", configCommand)
                .addCommand("fleet-key", fleetKey)
                .build();
        try {
            commander.parse(args);
        } catch (ParameterException e) {
            err.println("flotilla: " + e.getMessage());
            err.println("Run 'flotilla --help' for usage.");
            return USAGE;
        }
        if (main.version) {
            out.println("flotilla " + Version.current());
            return OK;
        }
        String command = commander.getParsedCommand();
        if (main.help || command == null) {
            StringBuilder usage = new StringBuilder();
            commander.getUsageFormatter().usage(usage);
            (main.help ? out : err).print(usage);
            return main.help ? OK : USAGE;
        }
        switch (command) {
            case "node":
                return node.run(out, err);
            case "validate":
                return validate.run(out, err);
            case "demo":
                return demo.run(out, err);
            case "config":
                return configCommand.run(out, err);
            case "fleet-key":
                return fleetKey.run(out);
            default:
                err.println("flotilla: unknown command " + command);
                return USAGE;
        }
    }
}
