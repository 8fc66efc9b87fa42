package io.flotilla.node.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A program a test drives as a real peer (openssl, testssl): skipped where it is not installed, except
 * under CI, where {@code .ci/run} installs it and its absence is a failure.
 */
public final class ExternalTool {
    private ExternalTool() {}

    /** Skips the test (fails it under CI=true) unless {@code program} is executable. */
    public static Path require(String program, String debianPackage) {
        Path path = Path.of(program);
        if (!Files.isExecutable(path)) {
            if ("true".equals(System.getenv("CI"))) {
                fail(program + " is missing: .ci/run should have installed Debian's " + debianPackage + " package");
            }
            Assumptions.abort(program + " is missing (apt-get install " + debianPackage + "); skipping");
        }
        return path;
    }

    /**
     * Runs a command to its end with {@code stdin} as its input and returns stdout and stderr together;
     * one that overruns {@code timeout} is killed (it is ours: we started it) and fails the test.
     */
    public static String run(Duration timeout, String stdin, List<String> command)
            throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            process.getOutputStream().write(stdin.getBytes(StandardCharsets.ISO_8859_1));
            process.getOutputStream().close();
            // Read on a thread of its own so a chatty process cannot block on a full pipe.
            StringBuilder output = new StringBuilder();
            Thread reader = new Thread(() -> {
                try {
                    output.append(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    output.append("[output not read: ").append(e).append(']');
                }
            });
            reader.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                fail(command.get(0) + " did not finish within " + timeout + ": " + command);
            }
            reader.join(5_000);
            synchronized (output) {
                return output.toString();
            }
        } finally {
            process.destroyForcibly();
        }
    }
}
