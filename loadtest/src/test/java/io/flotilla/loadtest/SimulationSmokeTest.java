package io.flotilla.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every simulation, run for a few seconds by Gatling in this JVM against a real node process built from
 * loadtest/config/node.yaml (ports of its own, a throwaway certificate) in front of a {@link LoadOrigin}:
 * each must pass there, and each must fail against a second node whose only upstream server is drained
 * (weight 0, so every request is answered 503), which shows its assertions can fail. The node runs from
 * the node module's classes on this test's classpath (a test-scope dependency, see loadtest/pom.xml),
 * as its own JVM, like the fleet tests' nodes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SimulationSmokeTest {
    private static final Pattern SERVING = Pattern.compile(
            "serving on \\[/127\\.0\\.0\\.1:(\\d+), /127\\.0\\.0\\.1:(\\d+)].*admin on 127\\.0\\.0\\.1:(\\d+)");
    /** Gatling's exit status when the run completed and an assertion failed (1 is a crash). */
    private static final int ASSERTIONS_FAILED = 2;

    private static final Duration RUN_LIMIT = Duration.ofSeconds(90);

    @TempDir
    static Path dir;

    private LoadOrigin origin;
    private final List<Process> processes = new ArrayList<>();
    private Node healthy;
    private Node unavailable;

    record Node(Process process, Path log, int http, int https, int admin) {}

    @BeforeAll
    void start() throws Exception {
        origin = LoadOrigin.start(new InetSocketAddress("127.0.0.1", 0), 4);
        Path tls = Files.createDirectories(dir.resolve("tls"));
        run(List.of(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                tls.resolve("loadtest.key").toString(),
                "-out",
                tls.resolve("loadtest.pem").toString(),
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1"));
        byte[] ticketKey = new byte[48];
        new SecureRandom().nextBytes(ticketKey);
        Files.writeString(tls.resolve("ticket-keys"), Base64.getEncoder().encodeToString(ticketKey) + "\n");
        String example = Files.readString(Path.of("config/node.yaml"));
        String ours = replace(
                example,
                Map.of(
                        "127.0.0.1:19110", "127.0.0.1:0",
                        "127.0.0.1:19120", "127.0.0.1:0",
                        "127.0.0.1:19130", "127.0.0.1:0",
                        "127.0.0.1:19102", "127.0.0.1:" + origin.port()));
        String drained = replace(
                ours,
                Map.of(
                        "servers: [127.0.0.1:" + origin.port() + "]",
                        "servers: [{address: '127.0.0.1:" + origin.port() + "', weight: 0}]"));
        Process a = launch("healthy", ours);
        Process b = launch("unavailable", drained);
        healthy = awaitServing("healthy", a);
        unavailable = awaitServing("unavailable", b);
    }

    @AfterAll
    void stop() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        if (origin != null) {
            origin.close();
        }
    }

    /** Each simulation with the knobs that make it a few seconds long ({@code {dir}} is the temp dir). */
    static Stream<Arguments> simulations() {
        return Stream.of(
                Arguments.of("PassThroughSimulation", Map.of("rate", "15")),
                Arguments.of(
                        "CacheSimulation", Map.of("rate", "60", "keys", "20", "duration", "4s", "minHitRatio", "0.6")),
                Arguments.of("ColdFillSimulation", Map.of("rate", "30")),
                Arguments.of("RateLimitSimulation", Map.of("rate", "150")),
                Arguments.of(
                        "FailoverSimulation",
                        Map.of(
                                "rate",
                                "30",
                                "maxFailed",
                                "0",
                                "hooks",
                                "1s=echo drain > {dir}/hook-1;2s=echo kill > {dir}/hook-2")),
                Arguments.of(
                        "ScaleOutSimulation",
                        Map.of(
                                "rate",
                                "30",
                                "nodes",
                                "1,2",
                                "duration",
                                "2s",
                                "settle",
                                "0s",
                                "scaleHook",
                                "echo {n} >> {dir}/scale.txt",
                                "originStats",
                                "{origin}/stats")),
                Arguments.of("TlsSimulation", Map.of("rate", "10", "resumptions", "2", "target", "{https}")));
    }

    @ParameterizedTest(name = "{0} passes against a healthy node")
    @MethodSource("simulations")
    void passesAgainstAHealthyNode(String simulation, Map<String, String> knobs) throws Exception {
        Path summary = dir.resolve(simulation + "-healthy.txt");
        int status = gatling(simulation, healthy, knobs, summary, false);
        String lines = Files.exists(summary) ? Files.readString(summary) : "";
        assertEquals(0, status, simulation + " failed against a healthy node; summary:\n" + lines);
        assertTrue(lines.contains("generator (Gatling JVM) used"), lines);
        switch (simulation) {
            case "CacheSimulation" ->
                assertTrue(
                        Pattern.compile("steady state (0\\.[6-9]|1\\.0)")
                                .matcher(lines)
                                .find(),
                        lines);
            case "ColdFillSimulation" -> assertTrue(lines.contains("hit ratio 0.000"), lines);
            case "RateLimitSimulation" ->
                assertTrue(
                        Pattern.compile("min (9\\d|100), max (9\\d|100) over [1-9]")
                                .matcher(lines)
                                .find(),
                        lines);
            case "FailoverSimulation" -> {
                assertEquals("drain", Files.readString(dir.resolve("hook-1")).strip());
                assertEquals("kill", Files.readString(dir.resolve("hook-2")).strip());
            }
            case "ScaleOutSimulation" -> {
                assertEquals("1\n2\n", Files.readString(dir.resolve("scale.txt")));
                assertTrue(
                        Pattern.compile("1 node: \\d+ requests.*origin requests [1-9]")
                                .matcher(lines)
                                .find(),
                        lines);
                assertTrue(
                        Pattern.compile("2 nodes: \\d+ requests.*origin requests [1-9]")
                                .matcher(lines)
                                .find(),
                        lines);
            }
            default -> {}
        }
    }

    @ParameterizedTest(name = "{0} fails against a node that answers 503")
    @MethodSource("simulations")
    void failsAgainstANodeAnswering503(String simulation, Map<String, String> knobs) throws Exception {
        int status = gatling(simulation, unavailable, knobs, dir.resolve(simulation + "-unavailable.txt"), false);
        assertEquals(
                ASSERTIONS_FAILED,
                status,
                simulation + " against a node that answers every request with 503: "
                        + "expected its assertions to fail (status 2), got " + status);
    }

    @Test
    void writesAnHtmlReport() throws Exception {
        int status = gatling(
                "PassThroughSimulation",
                healthy,
                Map.of("rate", "10", "duration", "1s"),
                dir.resolve("report-summary.txt"),
                true);
        assertEquals(0, status);
        try (Stream<Path> runs = Files.list(dir.resolve("results"))) {
            assertTrue(
                    runs.anyMatch(run -> run.getFileName().toString().startsWith("passthroughsimulation-")
                            && Files.isRegularFile(run.resolve("index.html"))),
                    "no passthroughsimulation-*/index.html");
        }
    }

    /** Runs one simulation in this JVM; Gatling's exit status (0 passed, non-zero assertions failed or crashed). */
    private int gatling(String simulation, Node node, Map<String, String> knobs, Path summary, boolean report) {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("target", "http://127.0.0.1:" + node.http());
        properties.put("duration", "2s");
        properties.put("ramp", "0s");
        // A few seconds on a shared 2-core machine, from a cold JIT: latency bounds that only catch a hang.
        properties.put("p99", "2000");
        properties.put("p999", "5000");
        properties.put("summary", summary.toString());
        knobs.forEach((k, v) -> properties.put(
                k,
                v.replace("{dir}", dir.toString())
                        .replace("{origin}", "http://127.0.0.1:" + origin.port())
                        .replace("{https}", "https://127.0.0.1:" + node.https())));
        List<String> args = new ArrayList<>(List.of(
                "-s",
                "io.flotilla.loadtest." + simulation,
                "-rf",
                dir.resolve("results").toString(),
                "-rd",
                "smoke"));
        if (!report) {
            args.add("-nr");
        }
        properties.forEach(System::setProperty);
        try {
            return assertTimeoutPreemptively(
                    RUN_LIMIT, () -> io.gatling.app.Gatling$.MODULE$.fromArgs(args.toArray(String[]::new)));
        } finally {
            properties.keySet().forEach(System::clearProperty);
        }
    }

    private static String replace(String text, Map<String, String> replacements) {
        String out = text;
        for (Map.Entry<String, String> r : replacements.entrySet()) {
            assertTrue(out.contains(r.getKey()), "loadtest/config/node.yaml no longer has " + r.getKey());
            out = out.replace(r.getKey(), r.getValue());
        }
        return out;
    }

    private Process launch(String name, String yaml) throws IOException {
        Path config = Files.writeString(dir.resolve(name + ".yaml"), yaml);
        String java = ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = new ProcessBuilder(
                        java,
                        "-Xmx256m",
                        "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        System.getProperty("java.class.path"),
                        "io.flotilla.node.cli.Main",
                        "node",
                        "--config",
                        config.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile())
                .start();
        processes.add(p);
        return p;
    }

    private Node awaitServing(String name, Process p) throws Exception {
        Path log = dir.resolve(name + ".log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log, StandardCharsets.UTF_8);
            Matcher m = SERVING.matcher(text);
            if (m.find()) {
                return new Node(
                        p,
                        log,
                        Integer.parseInt(m.group(1)),
                        Integer.parseInt(m.group(2)),
                        Integer.parseInt(m.group(3)));
            }
            if (!p.isAlive()) {
                fail(name + " node exited with " + p.exitValue() + ":\n" + text);
            }
            Thread.sleep(100);
        }
        return fail(name + " node did not start within 60 s:\n" + Files.readString(log));
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), command + " did not finish");
        assertEquals(0, p.exitValue(), command + ":\n" + out);
    }
}
