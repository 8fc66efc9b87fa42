package io.flotilla.node.tls;

import static io.flotilla.node.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.node.testing.ExternalTool;
import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.flotilla.node.testing.TlsClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Session-ticket keys kept by the fleet ({@code session_tickets: {fleet: true}}), on two real nodes
 * joined into one fleet and OpenSSL's own client: a session from one node resumes on the other; a
 * rotation asked of one node through its admin API reaches the other; tickets under the key before
 * still resume, and a ticket whose key was dropped three rotations later does not. A lone node rotates
 * its own keys by age.
 */
class FleetTicketKeysTest {
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(20);
    private static final Pattern VERSION = Pattern.compile("\"version\":(\\d+)");
    private static final Pattern FIRST_NAME = Pattern.compile("\"key_names\":\\[\"([0-9a-f]{32})\"");

    @TempDir
    Path dir;

    private Path openssl;
    private TestOrigin origin;
    private TlsClient.CertFiles cert;
    private final String fleet = "tk" + UUID.randomUUID().toString().substring(0, 8);
    private final String fleetKey = FleetKeys.generate();

    @BeforeEach
    void start() throws Exception {
        openssl = ExternalTool.require("/usr/bin/openssl", "openssl");
        origin = TestOrigin.start();
        cert = TlsClient.certificate(dir, "site", "site.test", true);
    }

    @AfterEach
    void stop() throws Exception {
        if (origin != null) {
            origin.close();
        }
    }

    private TestNode node(String name, String tickets, String cluster) throws Exception {
        return TestNode.startWith("node: {name: " + name + ", event_loops: 1, admin: '127.0.0.1:0', drain_grace: 0s}\n"
                + "listeners:\n  - bind: 127.0.0.1:0\n"
                + "    tls: {provider: openssl, certificates: [" + cert.yaml() + "], session_tickets: " + tickets
                + "}\n"
                + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n" + cluster);
    }

    private String cluster(String peer) {
        return "cluster:\n  name: " + fleet + "\n  bind: '127.0.0.1:0'\n  gossip_port: 0\n  expected_size: 2\n"
                + "  keys: ['" + fleetKey + "']\n" + (peer == null ? "" : "  peers: ['" + peer + "']\n");
    }

    private String sClient(int port, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                openssl.toString(),
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-servername",
                "site.test",
                "-ign_eof",
                "-tls1_3"));
        command.addAll(List.of(options));
        return ExternalTool.run(
                CLIENT_TIMEOUT, "GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n", command);
    }

    /** A new session on {@code port}, kept in {@code file}. */
    private void newSession(int port, Path file) throws Exception {
        String output = sClient(port, "-sess_out", file.toString());
        assertTrue(output.contains("New, TLSv1.3"), output);
        assertTrue(Files.size(file) > 0, "s_client kept the session");
    }

    private boolean resumes(int port, Path file) throws Exception {
        String output = sClient(port, "-sess_in", file.toString());
        assertTrue(output.contains(", TLSv1.3"), "a handshake happened:\n" + output);
        return output.contains("Reused, TLSv1.3");
    }

    private static String admin(TestNode node, String method, String path) {
        try (RawClient c = new RawClient(node.adminPort())) {
            c.send(method + " " + path + " HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n");
            RawClient.Response r = c.timeout(20_000).read();
            assertEquals(200, r.status(), r.bodyText());
            return r.bodyText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long version(String json) {
        Matcher m = VERSION.matcher(json);
        assertTrue(m.find(), json);
        return Long.parseLong(m.group(1));
    }

    private static String firstName(String json) {
        Matcher m = FIRST_NAME.matcher(json);
        assertTrue(m.find(), json);
        return m.group(1);
    }

    @Test
    void aRotationPushedToOneNodeReachesTheOtherAndOldTicketsResumeUntilTheirKeyIsDropped() throws Exception {
        try (TestNode a = node("tk-a", "{fleet: true}", cluster(null));
                TestNode b = node(
                        "tk-b",
                        "{fleet: true}",
                        cluster(a.node().fleet().membership().gossipAddress()))) {
            await(
                    "both nodes in one fleet",
                    30,
                    () -> a.node().fleet().membership().members().size() == 2
                            && b.node().fleet().membership().members().size() == 2);
            String before = admin(a, "GET", "/tls/session-tickets");
            assertEquals(before, admin(b, "GET", "/tls/session-tickets"), "both nodes run the fleet's keys");
            assertTrue(before.contains("\"key_names\""), before);
            assertTrue(!before.contains(fleetKey), "the API shows key names, never keys");

            Path first = dir.resolve("first.pem");
            newSession(a.port(), first);
            assertTrue(resumes(b.port(), first), "a session from node a resumes on node b");

            String rotated = admin(a, "POST", "/tls/session-tickets/rotate");
            assertEquals(version(before) + 1, version(rotated));
            await("node b to take the rotation", 10, () -> admin(b, "GET", "/tls/session-tickets")
                    .equals(rotated));
            Path second = dir.resolve("second.pem");
            newSession(b.port(), second);
            assertTrue(resumes(a.port(), second), "a ticket under the new key, issued by b, resumes on a");
            assertTrue(resumes(b.port(), first), "a ticket under the key before still resumes");

            for (int i = 0; i < 2; i++) {
                admin(b, "POST", "/tls/session-tickets/rotate");
            }
            String last = admin(b, "POST", "/tls/session-tickets/rotate");
            assertEquals(version(before) + 4, version(last));
            assertTrue(!last.contains(firstName(before)), "the first key is no longer kept: " + last);
            await("node a to take the last rotation", 10, () -> admin(a, "GET", "/tls/session-tickets")
                    .equals(last));
            assertTrue(!resumes(a.port(), first), "a ticket whose key was dropped gets a full handshake");
        }
    }

    @Test
    void aLoneNodeRotatesItsOwnKeysByAge() throws Exception {
        try (TestNode lone = node("tk-lone", "{fleet: true, rotate_every: 2s}", "")) {
            String start = admin(lone, "GET", "/tls/session-tickets");
            Path session = dir.resolve("lone.pem");
            newSession(lone.port(), session);
            await(
                    "the keys to rotate by age",
                    15,
                    () -> version(admin(lone, "GET", "/tls/session-tickets")) >= version(start) + 1);
            String after = admin(lone, "GET", "/tls/session-tickets");
            assertTrue(!firstName(after).equals(firstName(start)), "a new first key: " + after);
            assertTrue(resumes(lone.port(), session), "the key before is still accepted");
        }
    }
}
