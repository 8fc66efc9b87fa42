package io.flotilla.node.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.node.testing.ExternalTool;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.flotilla.node.testing.TlsClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's testssl.sh against a TLS listener, judged from its JSON findings: only TLS 1.2 and 1.3, no
 * weak cipher class, not vulnerable to any check, nothing at MEDIUM or above except what follows from
 * a self-signed test certificate. Loopback only: no DNS lookups ({@code --nodns none}), no OCSP or CRL
 * fetches (testssl's {@code --phone-out} stays off).
 */
class TestSslScanTest {
    private static final Path TESTSSL = Path.of("/usr/bin/testssl");
    private static final List<String> VULNERABILITIES = List.of(
            "heartbleed",
            "CCS",
            "ticketbleed",
            "ROBOT",
            "secure_client_renego",
            "CRIME_TLS",
            "BREACH",
            "POODLE_SSL",
            "fallback_SCSV",
            "SWEET32",
            "FREAK",
            "DROWN",
            "LOGJAM",
            "BEAST",
            "LUCKY13",
            "RC4");
    private static final Set<String> SERIOUS = Set.of("MEDIUM", "HIGH", "CRITICAL", "FATAL");

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS) // testssl has its own bound below; this is the backstop
    void testsslFindsOnlyModernTlsAndNoVulnerability() throws Exception {
        ExternalTool.require(TESTSSL.toString(), "testssl.sh");
        var cert = TlsClient.certificate(dir, "site", "localhost", true);
        Path json = dir.resolve("testssl.json");
        try (TestOrigin origin = TestOrigin.start(TestOrigin.ok("ok"));
                TestNode node = TestNode.startWith("node: {event_loops: 1}\nlisteners:\n  - bind: 127.0.0.1:0\n"
                        + "    tls: {certificates: [" + cert.yaml() + "]}\n"
                        + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                        + "routes:\n  - {path: /, upstream: app}\n")) {
            // Protocols, cipher classes, forward secrecy, server preferences, server defaults, vulnerabilities.
            String output = ExternalTool.run(
                    Duration.ofSeconds(200),
                    "",
                    List.of(
                            TESTSSL.toString(),
                            "--quiet",
                            "--color",
                            "0",
                            "--warnings",
                            "batch",
                            "--sneaky",
                            "--nodns",
                            "none",
                            "--ip",
                            "127.0.0.1",
                            "--connect-timeout",
                            "10",
                            "--openssl-timeout",
                            "10",
                            "-p",
                            "-s",
                            "-f",
                            "-P",
                            "-S",
                            "-U",
                            "--jsonfile",
                            json.toString(),
                            "127.0.0.1:" + node.port()));
            assertTrue(Files.size(json) > 0, "testssl wrote no JSON:\n" + output);
        }
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode finding : new ObjectMapper().readTree(json.toFile())) {
            byId.put(finding.path("id").asText(), finding);
        }

        for (String offered : List.of("TLS1_2", "TLS1_3")) {
            assertTrue(finding(byId, offered).startsWith("offered"), offered + ": " + finding(byId, offered));
        }
        for (String refused : List.of("SSLv2", "SSLv3", "TLS1", "TLS1_1")) {
            assertEquals("not offered", finding(byId, refused), refused);
        }
        for (String weak : List.of(
                "cipherlist_NULL",
                "cipherlist_aNULL",
                "cipherlist_EXPORT",
                "cipherlist_LOW",
                "cipherlist_3DES_IDEA",
                "cipherlist_AVERAGE")) {
            assertEquals("not offered", finding(byId, weak), weak);
        }
        assertTrue(finding(byId, "PFS_ECDHE_curves").contains("X25519"), finding(byId, "PFS_ECDHE_curves"));
        assertTrue(finding(byId, "ALPN").contains("http/1.1"), finding(byId, "ALPN"));
        for (String vulnerability : VULNERABILITIES) {
            JsonNode found = byId.get(vulnerability);
            assertNotNull(found, vulnerability + " was not checked");
            assertEquals("OK", found.path("severity").asText(), vulnerability + ": " + found);
            assertFalse(found.path("finding").asText().contains("VULNERABLE"), vulnerability + ": " + found);
        }
        List<String> serious = new ArrayList<>();
        for (JsonNode finding : byId.values()) {
            String id = finding.path("id").asText();
            boolean aboutTheTestCertificate =
                    id.startsWith("cert") || id.startsWith("OCSP") || id.startsWith("DNS_CAA");
            if (SERIOUS.contains(finding.path("severity").asText()) && !aboutTheTestCertificate) {
                serious.add(id + " " + finding.path("severity").asText() + ": "
                        + finding.path("finding").asText());
            }
        }
        assertEquals(List.of(), serious, "findings at MEDIUM or above that are not about the self-signed certificate");
    }

    private static String finding(Map<String, JsonNode> byId, String id) {
        JsonNode found = byId.get(id);
        assertNotNull(found, id + " is missing from testssl's findings");
        return found.path("finding").asText();
    }
}
