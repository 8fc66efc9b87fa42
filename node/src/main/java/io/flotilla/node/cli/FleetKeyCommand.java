package io.flotilla.node.cli;

import com.beust.jcommander.Parameters;
import io.flotilla.cluster.security.FleetKeys;
import java.io.PrintStream;

/** {@code flotilla fleet-key}: prints a new fleet secret, one base64 line for a key file or {@code cluster.keys}. */
@Parameters(commandDescription = "Print a new fleet key (32 random bytes, base64) for cluster.key_file or cluster.keys")
final class FleetKeyCommand {
    int run(PrintStream out) {
        out.println(FleetKeys.generate());
        return Main.OK;
    }
}
