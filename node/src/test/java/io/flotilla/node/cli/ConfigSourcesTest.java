package io.flotilla.node.cli;

import static io.flotilla.node.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestOrigin;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a config reaches a lone node (its file at start, SIGHUP, the CLI's push, a rollback)
 * goes through one history (issue 19), on a real node process that is sent real signals; the
 * node's routes, /config/versions, /fleet and the version metric are what is asserted.
 */
class ConfigSourcesTest {
    private static final Pattern STARTED =
            Pattern.compile("serving on \\[/127\\.0\\.0\\.1:(\\d+)].*admin on 127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path dir;

    private TestOrigin origin;
    private final List<Process> processes = new ArrayList<>();
    private Path log;
    private int port;
    private int admin;

    @BeforeEach
    void origin() throws Exception {
        origin = TestOrigin.start((request, out) -> {
            TestOrigin.writeResponse(
                    out,
                    200,
                    Map.of(),
                    ("origin:" + request.target()).getBytes(StandardCharsets.US_ASCII),
                    !request.method().equals("HEAD"));
            return true;
        });
        Files.createDirectory(dir.resolve("www"));
        Files.writeString(dir.resolve("www/index.html"), "static from www\n");
    }

    @AfterEach
    void stop() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        origin.close();
    }

    private String config(String extraRoutes) {
        return "node: {name: lone, admin: '127.0.0.1:0', event_loops: 1, drain_grace: 0s}\n"
                + "listeners: [{bind: '127.0.0.1:0'}]\n"
                + "upstreams:\n"
                + "  app: {servers: ['" + origin.address() + "']}\n"
                + "routes:\n"
                + "  - {path: /www/, static: ./www, strip_prefix: true}\n"
                + extraRoutes
                + "  - {path: /, upstream: app}\n";
    }

    private Process spawn(Path config) throws IOException {
        log = dir.resolve("node.log");
        String java = ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = new ProcessBuilder(
                        java,
                        "-Xmx128m",
                        "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        System.getProperty("java.class.path"),
                        "io.flotilla.node.cli.Main",
                        "node",
                        "--config",
                        config.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        processes.add(p);
        return p;
    }

    private void awaitStarted(Process p) throws Exception {
        await("the node to start", 60, () -> {
            if (!p.isAlive()) {
                fail("the node exited with " + p.exitValue() + ":\n" + read());
            }
            Matcher m = STARTED.matcher(read());
            if (!m.find()) {
                return false;
            }
            port = Integer.parseInt(m.group(1));
            admin = Integer.parseInt(m.group(2));
            return true;
        });
    }

    private String read() {
        try {
            return Files.readString(log, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    private static void hangup(Process p) throws Exception {
        Process kill = new ProcessBuilder("sh", "-c", "kill -HUP " + p.pid())
                .inheritIO()
                .start();
        assertEquals(0, kill.waitFor(), "kill -HUP");
    }

    private RawClient.Response get(String target) throws IOException {
        try (RawClient c = new RawClient(port)) {
            return c.timeout(10_000).get(target, "config.test");
        }
    }

    private RawClient.Response admin(String method, String target, String body) throws IOException {
        try (RawClient c = new RawClient(admin)) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            c.send(method + " " + target + " HTTP/1.1\r\nHost: admin\r\nContent-Length: " + bytes.length + "\r\n\r\n");
            c.send(bytes);
            return c.timeout(20_000).read();
        }
    }

    private List<String> sources() throws IOException {
        Matcher m = Pattern.compile("\"source\":\"([^\"]*)\"")
                .matcher(admin("GET", "/config/versions", "").bodyText());
        List<String> found = new ArrayList<>();
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    @Test
    void aRollbackAfterASighupReloadRestoresTheReloadedRoutes() throws Exception {
        Path file = Files.writeString(dir.resolve("flotilla.yaml"), config(""));
        Process p = spawn(file);
        awaitStarted(p);
        assertEquals(List.of("file"), sources());

        Files.writeString(file, config("  - {path: /hup/, upstream: app, rewrite: /reloaded/}\n"));
        hangup(p);
        await("the SIGHUP reload", 10, () -> read().contains("SIGHUP: applied"));
        assertEquals("origin:/reloaded/x", get("/hup/x").bodyText());
        assertEquals(List.of("sighup", "file"), sources());

        Path pushed = Files.writeString(
                dir.resolve("pushed.yaml"), config("  - {path: /pushed/, upstream: app, rewrite: /cli/}\n"));
        String to = "127.0.0.1:" + admin;
        CliRun push = CliRun.of("config", "push", pushed.toString(), "--to", to);
        assertEquals(0, push.code(), push.err());
        assertEquals("origin:/cli/x", get("/pushed/x").bodyText());
        assertEquals("origin:/hup/x", get("/hup/x").bodyText(), "the push replaced the reloaded routes");

        CliRun rollback = CliRun.of("config", "rollback", "--to", to);
        assertEquals(0, rollback.code(), rollback.err());
        assertTrue(rollback.out().contains("version 4 is the config of version 2"), rollback.out());
        assertEquals("origin:/reloaded/x", get("/hup/x").bodyText(), "the SIGHUP's routes are back");
        assertEquals("origin:/pushed/x", get("/pushed/x").bodyText());
        assertEquals(List.of("rollback to v2", "cli push", "sighup", "file"), sources());

        String history = CliRun.of("config", "history", "--json", "--to", to).out();
        assertTrue(
                history.contains("\"running\":4")
                        && history.contains("lone (SIGHUP, " + file + ")")
                        && history.contains("lone (admin API, from 127.0.0.1)"),
                history);
        String table = CliRun.of("config", "history", "--to", to).out();
        assertTrue(
                table.startsWith("version ")
                        && table.contains("\n*4 ")
                        && table.contains(" rollback to v2 ")
                        && table.contains(" sighup ")
                        && table.contains("lone (SIGHUP, " + file + ")"),
                table);
        String fleet = admin("GET", "/fleet", "").bodyText();
        assertTrue(fleet.contains("\"config_version\":4"), fleet);
        assertTrue(admin("GET", "/metrics", "").bodyText().contains("flotilla_config_version 4"), "metric");
        assertEquals(
                "static from www\n", get("/www/index.html").bodyText(), "./www still resolves against the file's dir");
    }

    @Test
    void aPushedTextResolvesRelativePathsAgainstTheNodesFileDirectoryAndSaysSo() throws Exception {
        Path file = Files.writeString(dir.resolve("flotilla.yaml"), config(""));
        awaitStarted(spawn(file));
        // The same `static: ./www` the file has, pushed as text: the node's working directory is elsewhere.
        RawClient.Response ok = admin("POST", "/config", config("  - {path: /more/, upstream: app}\n"));
        assertEquals(200, ok.status(), ok.bodyText());
        RawClient.Response bad = admin("POST", "/config", config("").replace("./www", "./nowhere"));
        assertEquals(400, bad.status(), bad.bodyText());
        assertTrue(
                bad.bodyText()
                                .contains("resolve against " + dir.toRealPath()
                                        + " (the directory of the node's config file")
                        || bad.bodyText()
                                .contains("resolve against " + dir + " (the directory of the node's config file"),
                bad.bodyText());
        assertEquals(List.of("push", "file"), sources());
    }

    @Test
    void aSighupDuringStartIsAReloadNotATermination() throws Exception {
        Path file = Files.writeString(dir.resolve("flotilla.yaml"), config(""));
        Process p = spawn(file);
        // As early as the node says it is starting (its config read, its fleet state not yet opened,
        // no listener bound); the JVM's own handler would end it with 129 until the node installs its own.
        await("the node to say it is starting", 60, () -> read().contains("starting from"));
        Files.writeString(file, config("  - {path: /early/, upstream: app, rewrite: /hup/}\n"));
        // SIGHUPs every few milliseconds through the whole start (bounded: 300 at most), so some arrive
        // while the config is checked, the fleet state opened and the listeners bound.
        for (int sent = 0; sent < 300 && !STARTED.matcher(read()).find(); sent++) {
            assertTrue(p.isAlive(), "ended by SIGHUP number " + (sent + 1) + ":\n" + read());
            hangup(p);
        }
        awaitStarted(p);
        await("the queued reload", 10, () -> read().contains("a SIGHUP arrived during start"));
        await("the reload's result", 10, () -> read().contains("SIGHUP: "));
        assertTrue(p.isAlive(), read());
        assertEquals("origin:/hup/x", get("/early/x").bodyText());
        assertEquals(List.of("sighup", "file"), sources(), "the later SIGHUPs found the file unchanged");
    }

    @Test
    void diffAndDryRunShowAPushBeforeItHappensAndChangeNothing() throws Exception {
        Path file = Files.writeString(dir.resolve("flotilla.yaml"), config(""));
        awaitStarted(spawn(file));
        Path next = Files.writeString(dir.resolve("next.yaml"), config("  - {path: /next/, upstream: app}\n"));
        String to = "127.0.0.1:" + admin;
        CliRun diff = CliRun.of("config", "diff", next.toString(), "--to", to);
        assertEquals(0, diff.code(), diff.err());
        assertTrue(
                diff.out().contains("upstreams: unchanged")
                        && diff.out().contains("routes: changed\n" + "  +   - {path: /next/, upstream: app}\n")
                        && diff.out().contains("1 section(s) differ"),
                diff.out());
        CliRun dry = CliRun.of("config", "push", "--dry-run", next.toString(), "--to", to);
        assertEquals(0, dry.code(), dry.err());
        assertTrue(dry.out().contains("valid; a push would make it version 2"), dry.out());
        Path bad = Files.writeString(
                dir.resolve("bad.yaml"),
                config("").replace("[{bind: '127.0.0.1:0'}]", "[{bind: '127.0.0.1:0'}, {bind: '127.0.0.1:0'}]"));
        CliRun refused = CliRun.of("config", "push", "--dry-run", bad.toString(), "--to", to);
        assertEquals(Main.FAILED, refused.code(), refused.out());
        assertTrue(refused.err().contains("listeners differ"), refused.err());
        assertEquals(List.of("file"), sources(), "a dry run publishes nothing");
        assertEquals("origin:/next/x", get("/next/x").bodyText(), "the catch-all, not a /next/ route");
        assertTrue(
                CliRun.of("config", "diff", file.toString(), "--to", to).out().contains("no changes"));
    }
}
