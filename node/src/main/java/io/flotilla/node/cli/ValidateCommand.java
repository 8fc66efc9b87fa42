package io.flotilla.node.cli;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.config.FlotillaConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/** {@code flotilla validate FILE}: loads and checks a config without starting anything. */
@Parameters(commandDescription = "Check a config file; prints the first problem with its file, line and field")
final class ValidateCommand {
    @Parameter(description = "FILE", required = true, arity = 1)
    private List<String> files;

    int run(PrintStream out, PrintStream err) {
        try {
            FlotillaConfig config = ConfigLoader.load(Path.of(files.get(0)));
            out.println(files.get(0) + ": ok (" + config.listeners().size() + " listener(s), "
                    + config.upstreams().size() + " upstream(s), "
                    + config.routes().size() + " route(s))");
            return Main.OK;
        } catch (ConfigException e) {
            err.println(e.getMessage());
            return Main.BAD_CONFIG;
        }
    }
}
