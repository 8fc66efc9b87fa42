package io.flotilla.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * What a simulation measured beyond Gatling's own statistics (hit ratio, admitted per window, origin
 * requests, hook results): printed, and appended to {@code -Dsummary} ({@code target/gatling/summary.txt})
 * as {@code time simulation: line}, which is where docs/benchmarks.md's figures come from.
 */
final class Summary {
    private final String simulation;

    Summary(String simulation) {
        this.simulation = simulation;
    }

    void line(String text) {
        String line = Instant.now().truncatedTo(ChronoUnit.SECONDS) + " " + simulation + ": " + text;
        System.out.println(line);
        Path file = Path.of(Knobs.text("summary", "target/gatling/summary.txt"));
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.writeString(
                    file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("cannot append to " + file + ": " + e);
        }
    }

    static String ratio(long part, long whole) {
        return whole == 0 ? "n/a" : String.format(java.util.Locale.ROOT, "%.3f", (double) part / whole);
    }
}
