package io.flotilla.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code flotilla config push|show} against a real node's admin API. */
class ConfigCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static String config(int port, String originAddress, String token, String routePath) {
        return "node: {name: cli-node, event_loops: 1, admin: 127.0.0.1:0, admin_token: " + token + "}\n"
                + "listeners:\n  - bind: 127.0.0.1:0\n"
                + "upstreams:\n  app: {servers: [" + originAddress + "]}\n"
                + "routes:\n  - {path: " + routePath + ", upstream: app}\n";
    }

    @Test
    void pushValidatesLocallyThenAppliesThroughTheAdminApi() throws Exception {
        String token = "0123456789abcdef0123";
        try (TestOrigin origin = TestOrigin.start(TestOrigin.ok("hi"));
                TestNode node = TestNode.startWith(config(0, origin.address(), token, "/old/"))) {
            String admin = "127.0.0.1:" + node.adminPort();
            try (RawClient c = node.client()) {
                assertEquals(404, c.get("/new/x", "a").status());
            }
            // The admin listener and node settings are the node's own (a push may not move them):
            // push the same node section with a new route.
            Path next = Files.writeString(dir.resolve("next.yaml"), config(0, origin.address(), token, "/new/"));
            CliRun pushed = run("config", "push", next.toString(), "--to", admin, "--token", token);
            assertEquals(Main.OK, pushed.code(), pushed.err());
            assertTrue(pushed.out().contains("applied"), pushed.out());
            try (RawClient c = node.client()) {
                assertEquals(200, c.get("/new/x", "a").status());
            }
            CliRun history = run("config", "history", "--json", "--to", admin, "--token", token);
            assertEquals(Main.OK, history.code(), history.err());
            assertTrue(history.out().startsWith("{\"running\":2,\"versions\":[{\"version\":2,"), history.out());
            assertTrue(history.out().contains("{\"version\":1,"), history.out());
            String table =
                    run("config", "history", "--to", admin, "--token", token).out();
            assertTrue(table.contains("\n*2 ") && table.contains("\n 1 "), table + history.out());
            CliRun rolledBack = run("config", "rollback", "--to", admin, "--token", token);
            assertEquals(Main.OK, rolledBack.code(), rolledBack.err());
            assertTrue(rolledBack.out().contains("version 3 is the config of version 1"), rolledBack.out());
            try (RawClient c = node.client()) {
                assertEquals(404, c.get("/new/x", "a").status());
                assertEquals(200, c.get("/old/x", "a").status());
            }
            assertEquals(
                    Main.OK,
                    run("config", "push", next.toString(), "--to", admin, "--token", token)
                            .code());
            CliRun shown = run("config", "show", "--to", admin, "--token", token);
            assertEquals(Main.OK, shown.code());
            assertTrue(shown.out().contains("path: /new/"), shown.out());

            Path bad = Files.writeString(
                    dir.resolve("bad.yaml"),
                    config(0, origin.address(), token, "/x/").replace("upstream: app", "upstream: ap"));
            CliRun refused = run("config", "push", bad.toString(), "--to", admin, "--token", token);
            assertEquals(Main.BAD_CONFIG, refused.code());
            assertTrue(refused.err().startsWith(bad + ":7:27: routes[0].upstream:"), refused.err());
            assertTrue(refused.err().contains("did you mean 'app'"), refused.err());

            CliRun noToken = run("config", "show", "--to", admin, "--token", "wrong-token-wrong-token");
            assertEquals(Main.FAILED, noToken.code());
            assertTrue(noToken.err().contains("bearer token"), noToken.err());
        }
    }

    @Test
    void usageAndUnreachableNode() throws Exception {
        assertEquals(Main.USAGE, run("config", "push", "--to", "127.0.0.1:1").code());
        assertEquals(
                Main.USAGE, run("config", "frobnicate", "--to", "127.0.0.1:1").code());
        assertEquals(Main.USAGE, run("config", "show", "--to", "nowhere").code());
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        CliRun down = run("config", "show", "--to", "127.0.0.1:" + closedPort, "--timeout", "2s");
        assertEquals(Main.FAILED, down.code());
        assertTrue(down.err().contains("cannot reach the admin API"), down.err());
    }
}
