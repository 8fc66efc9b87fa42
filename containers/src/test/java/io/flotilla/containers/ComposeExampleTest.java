package io.flotilla.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The README's quickest way to see a fleet, run the way the README runs it: docker/compose-up.sh
 * brings up docker/compose/compose.yaml (three nodes, the origin, HAProxy, Prometheus) under a
 * project of its own with ephemeral ports; the fleet answers through the front with one shared cache,
 * and Prometheus scrapes all three nodes. {@code compose-up.sh down} removes it all, whatever happened.
 * Grafana is left out: its image comes only from a registry.
 */
@ExtendWith(DockerRequired.class)
class ComposeExampleTest {
    private static final Path REPO = Path.of(System.getProperty("flotilla.repo", ".."));

    @Test
    void theComposeFleetAnswersThroughTheFrontAndPrometheusScrapesEveryNode() throws Exception {
        assumeTrue(
                "true".equals(System.getenv("CI")) || onPath("docker-compose"),
                "docker-compose is not installed (Debian package docker-compose; .ci/run installs it)");
        String project = "flotilla-test-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env =
                Map.of("COMPOSE_PROJECT_NAME", project, "FLOTILLA_FRONT_PORT", "0", "FLOTILLA_PROMETHEUS_PORT", "0");
        try {
            long t0 = System.nanoTime();
            run(env, "docker/compose-up.sh");
            System.out.printf("compose-up answered after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            int front = port(run(
                    env, "docker-compose", "-p", project, "-f", "docker/compose/compose.yaml", "port", "front", "80"));
            int prometheus = port(run(
                    env,
                    "docker-compose",
                    "-p",
                    project,
                    "-f",
                    "docker/compose/compose.yaml",
                    "port",
                    "prometheus",
                    "9090"));

            String path = "/cached/compose-" + UUID.randomUUID();
            assertFalse(RawHttp.get("127.0.0.1", front, path, "compose.test").hit());
            // Round robin over three nodes: six requests reach each node twice, all served by the fleet's copy.
            Await.until(
                    Duration.ofSeconds(120),
                    () -> {
                        for (int i = 0; i < 6; i++) {
                            if (!RawHttp.get("127.0.0.1", front, path, "compose.test")
                                    .hit()) {
                                return false;
                            }
                        }
                        return true;
                    },
                    () -> "not a hit on every node for " + path);

            Await.until(
                    Duration.ofSeconds(120),
                    () -> upTargets(prometheus) == 3,
                    () -> "Prometheus targets: " + targets(prometheus));
        } finally {
            run(env, "docker/compose-up.sh", "down");
        }
    }

    private static int upTargets(int prometheus) throws IOException {
        String json = query(prometheus);
        return json.split("\"1\"\\]", -1).length - 1;
    }

    private static String targets(int prometheus) {
        try {
            return query(prometheus);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String query(int prometheus) throws IOException {
        RawHttp.Response r =
                RawHttp.get("127.0.0.1", prometheus, "/api/v1/query?query=up%7Bjob%3D%22flotilla%22%7D", "127.0.0.1");
        assertEquals(200, r.status());
        return r.body();
    }

    private static int port(String hostPort) {
        String last = hostPort.strip();
        return Integer.parseInt(last.substring(last.lastIndexOf(':') + 1));
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Path.of(dir, program).toFile().canExecute()) {
                return true;
            }
        }
        return false;
    }

    /** Runs a command in the repository and returns its output; fails with the output if the command fails. */
    private static String run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb =
                new ProcessBuilder(List.of(command)).directory(REPO.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes(); // compose-up.sh bounds its own waits
        p.waitFor();
        String text = new String(out, StandardCharsets.UTF_8);
        assertTrue(p.exitValue() == 0, String.join(" ", command) + " failed:\n" + text);
        return text;
    }
}
