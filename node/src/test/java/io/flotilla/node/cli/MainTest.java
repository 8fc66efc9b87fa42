package io.flotilla.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exit codes and messages a script can rely on. */
class MainTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void versionAndHelp() {
        CliRun version = run("--version");
        assertEquals(Main.OK, version.code());
        assertTrue(version.out().startsWith("flotilla "), version.out());
        CliRun help = run("--help");
        assertEquals(Main.OK, help.code());
        assertTrue(help.out().contains("validate")
                && help.out().contains("node")
                && help.out().contains("demo"));
    }

    @Test
    void fleetKeyPrintsANewKeyEachTime() {
        CliRun first = run("fleet-key");
        assertEquals(Main.OK, first.code());
        String key = first.out().trim();
        assertEquals(32, java.util.Base64.getDecoder().decode(key).length);
        assertTrue(io.flotilla.cluster.security.FleetKeys.decode(java.util.List.of(key))
                .enabled());
        assertTrue(!key.equals(run("fleet-key").out().trim()), "random, not fixed");
    }

    @Test
    void usageErrorsExitWith2() {
        assertEquals(Main.USAGE, run().code());
        CliRun bogus = run("bogus");
        assertEquals(Main.USAGE, bogus.code());
        assertTrue(bogus.err().contains("flotilla --help"), bogus.err());
        CliRun missing = run("node");
        assertEquals(Main.USAGE, missing.code());
        assertTrue(missing.err().contains("--config"), missing.err());
        assertEquals(Main.USAGE, run("validate").code());
    }

    @Test
    void validateReportsFileLineAndField() throws Exception {
        Path good = dir.resolve("good.yaml");
        Files.writeString(
                good,
                "listeners: [{bind: 127.0.0.1:0}]\nupstreams:\n  app: {servers: [127.0.0.1:1]}\n"
                        + "routes:\n  - {path: /, upstream: app}\n");
        CliRun ok = run("validate", good.toString());
        assertEquals(Main.OK, ok.code(), ok.err());
        assertTrue(ok.out().contains("ok"));

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(
                bad,
                "listeners: [{bind: 127.0.0.1:0}]\nupstreams:\n  app: {servers: [127.0.0.1:1]}\n"
                        + "routes:\n  - {path: /, upstream: ap}\n");
        CliRun refused = run("validate", bad.toString());
        assertEquals(Main.BAD_CONFIG, refused.code());
        assertTrue(refused.err().startsWith(bad + ":5:"), refused.err());
        assertTrue(refused.err().contains("routes[0].upstream"), refused.err());
        assertTrue(refused.err().contains("did you mean 'app'"), refused.err());

        CliRun missing = run("validate", dir.resolve("nope.yaml").toString());
        assertEquals(Main.BAD_CONFIG, missing.code());
    }

    @Test
    void nodeWithABadConfigExitsWith3() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "listeners: []\n");
        assertEquals(Main.BAD_CONFIG, run("node", "--config", bad.toString()).code());
    }
}
