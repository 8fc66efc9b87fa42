package io.flotilla.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/flotilla sizes the default heap from the machine's memory, within its bounds (issue 16). */
class LauncherHeapTest {
    private static final Path LAUNCHER =
            Path.of("").toAbsolutePath().getParent().resolve("bin/flotilla");
    private static final Pattern HEAP = Pattern.compile("-Xms(\\d+)m -Xmx(\\d+)m -Xmn(\\d+)m ");

    @TempDir
    Path dir;

    /** The options the launcher would start java with, given these environment variables. */
    private String options(Map<String, String> env) throws IOException, InterruptedException {
        Path jar = Files.writeString(dir.resolve("stand-in.jar"), "");
        ProcessBuilder builder = new ProcessBuilder("sh", LAUNCHER.toString()).redirectErrorStream(true);
        builder.environment().remove("JAVA_OPTS");
        builder.environment().put("FLOTILLA_JAR", jar.toString());
        builder.environment().put("FLOTILLA_PRINT_JAVA_OPTS", "1");
        builder.environment().putAll(env);
        Process process = builder.start();
        assertTrue(process.waitFor(10, TimeUnit.SECONDS));
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, process.exitValue(), out);
        return out;
    }

    private static long[] heap(String options) {
        Matcher m = HEAP.matcher(options);
        assertTrue(m.find(), options);
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))};
    }

    @Test
    void aQuarterOfThisMachinesMemoryWithinTheBounds() throws Exception {
        long hostMb = Files.readAllLines(Path.of("/proc/meminfo")).stream()
                .filter(l -> l.startsWith("MemTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")) / 1024)
                .findFirst()
                .orElseThrow();
        long[] h = heap(options(Map.of()));
        assertEquals(h[0], h[1], "a fixed heap");
        assertEquals(h[1] / 2, h[2], "the young generation is half of it");
        // A container limit can only make it smaller than a quarter of the host's memory.
        assertTrue(
                h[1] >= 128 && h[1] <= Math.max(128, Math.min(4096, hostMb / 4)), "heap " + h[1] + " MB on " + hostMb);
    }

    @Test
    void floorCeilingAndReplacement() throws Exception {
        assertEquals(128, heap(options(Map.of("FLOTILLA_HEAP_PERCENT", "0")))[1]);
        assertEquals(200, heap(options(Map.of("FLOTILLA_HEAP_MAX_MB", "200", "FLOTILLA_HEAP_MIN_MB", "64")))[1]);
        String options = options(Map.of("FLOTILLA_HEAP_PERCENT", "100", "FLOTILLA_HEAP_MAX_MB", "300"));
        assertEquals(300, heap(options)[1]);
        assertTrue(options.contains("-XX:+UseParallelGC") && options.contains("leakDetection.level=disabled"), options);
        assertEquals("-Xmx64m", options(Map.of("JAVA_OPTS", "-Xmx64m")), "JAVA_OPTS replaces every default");
    }
}
