package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.TlsClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener TLS and redirect fields: read as written, and refused with file, line, column and field. */
class TlsConfigErrorsTest {
    private static final String KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v";
    private static final String TAIL =
            "upstreams:\n  app:\n    servers: [127.0.0.1:9001]\nroutes:\n  - {path: /, upstream: app}\n";

    @TempDir
    Path dir;

    private TlsClient.CertFiles site;
    private TlsClient.CertFiles other;

    @BeforeEach
    void certificates() throws Exception {
        site = TlsClient.certificate(dir, "site", "site.test", true);
        other = TlsClient.certificate(dir, "other", "other.test", false);
    }

    /** Line 1 is "listeners:", line 2 the listener, line 3 its tls mapping's first key. */
    private static String listener(String tlsLines) {
        return "listeners:\n  - bind: 127.0.0.1:8443\n" + tlsLines + TAIL;
    }

    private static ConfigException refused(String yaml) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "edge.yaml"));
    }

    private static void assertRefused(ConfigException e, int line, int column, String field, String fragment) {
        assertEquals(line, e.line(), e.getMessage());
        assertEquals(column, e.column(), e.getMessage());
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().startsWith("edge.yaml:" + line + ":" + column + ": " + field + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), () -> "'" + fragment + "' not in: " + e.getMessage());
    }

    @Test
    void readsEveryField() throws Exception {
        Path keys = Files.writeString(dir.resolve("keys"), KEY + "\n");
        FlotillaConfig config = ConfigLoader.parse(
                listener("    tls:\n      provider: jdk\n      check_every: 2s\n"
                        + "      certificates:\n        - " + site.yaml() + "\n"
                        + "        - {cert: " + other.cert() + ", key: " + other.key()
                        + ", names: [\"*.Other.test\"]}\n"
                        + "      session_tickets: {file: " + keys + "}\n"
                        + "      hsts: {max_age: 365d, include_subdomains: true, preload: true}\n"
                        + "  - {bind: 127.0.0.1:8080, redirect_https: {port: 8443}}\n"),
                "edge.yaml");
        ListenerTlsConfig tls = config.listeners().get(0).tls().orElseThrow();
        assertEquals(ListenerTlsConfig.Provider.JDK, tls.provider());
        assertEquals(Duration.ofSeconds(2), tls.checkEvery());
        assertEquals(List.of("*.other.test"), tls.certificates().get(1).names());
        assertEquals(
                Optional.of(keys.toAbsolutePath()),
                tls.sessionTickets().orElseThrow().file());
        assertEquals(Optional.of("max-age=31536000; includeSubDomains; preload"), tls.hsts());
        assertEquals(
                Optional.of(new RedirectConfig(8443, 308)),
                config.listeners().get(1).redirectHttps());
    }

    @Test
    void misspelledKeyAndProviderGetSuggestions() {
        assertRefused(
                refused(listener("    tls:\n      certificats: []\n")),
                4,
                7,
                "listeners[0].tls.certificats",
                "did you mean 'certificates'?");
        assertRefused(
                refused(listener("    tls:\n      provider: opensl\n      certificates: [" + site.yaml() + "]\n")),
                4,
                17,
                "listeners[0].tls.provider",
                "did you mean 'openssl'?");
    }

    @Test
    void aListenerWithTlsNeedsACertificate() {
        assertRefused(
                refused(listener("    tls:\n      certificates: []\n")),
                4,
                21,
                "listeners[0].tls.certificates",
                "at least one certificate");
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsRefused() {
        assertRefused(
                refused(listener("    tls:\n      certificates:\n        - {cert: " + site.cert() + ", key: "
                        + other.key() + "}\n")),
                5,
                25 + site.cert().toString().length(),
                "listeners[0].tls.certificates[0].key",
                "is not the key of the certificate for CN=site.test");
    }

    @Test
    void aKeyThatIsNotPkcs8SaysHowToConvertIt() throws Exception {
        Path sec1 = Files.writeString(
                dir.resolve("ec.key"), "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
        ConfigException e = refused(listener("    tls:\n      certificates:\n        - cert: " + site.cert() + "\n"
                + "          key: " + sec1 + "\n"));
        assertRefused(e, 6, 16, "listeners[0].tls.certificates[0].key", "openssl pkcs8 -topk8 -nocrypt");
    }

    @Test
    void ticketKeysMustBe48BytesAndComeFromOnePlace() throws Exception {
        String tls = "    tls:\n      certificates: [" + site.yaml() + "]\n      session_tickets:\n";
        assertRefused(
                refused(listener(tls + "        keys: [" + KEY + ", AAECAwQFBgcICQoLDA0ODw==]\n")),
                6,
                15,
                "listeners[0].tls.session_tickets.keys",
                "key 2 has 16 bytes, not 48");
        Path file = Files.writeString(dir.resolve("keys"), KEY + "\n");
        assertRefused(
                refused(listener(tls + "        file: " + file + "\n        keys: [" + KEY + "]\n")),
                6,
                9,
                "listeners[0].tls.session_tickets",
                "exactly one of fleet: true");
        assertRefused(
                refused(listener(tls + "        fleet: true\n        keys: [" + KEY + "]\n")),
                6,
                9,
                "listeners[0].tls.session_tickets",
                "exactly one of fleet: true");
        assertRefused(
                refused(listener(tls + "        keys: [" + KEY + "]\n        rotate_every: 1h\n")),
                7,
                23,
                "listeners[0].tls.session_tickets.rotate_every",
                "applies to fleet: true only");
        assertRefused(
                refused(listener(tls + "        fleet: true\n        rotate_every: 10ms\n")),
                7,
                23,
                "listeners[0].tls.session_tickets.rotate_every",
                "at least 1s");
        ListenerTlsConfig.SessionTickets fleet = ConfigLoader.parse(
                        listener(tls + "        fleet: true\n"), "edge.yaml")
                .listeners()
                .get(0)
                .tls()
                .orElseThrow()
                .sessionTickets()
                .orElseThrow();
        assertTrue(fleet.fleet());
        assertEquals(ListenerTlsConfig.SessionTickets.DEFAULT_ROTATE_EVERY, fleet.rotateEvery());
    }

    @Test
    void redirectBelongsOnAPlainListenerWithA301Or308() {
        assertRefused(
                refused(listener("    tls: {certificates: [" + site.yaml() + "]}\n    redirect_https: true\n")),
                4,
                21,
                "listeners[0].redirect_https",
                "already speaks https");
        assertRefused(
                refused(listener("    redirect_https: {status: 302}\n")),
                3,
                30,
                "listeners[0].redirect_https.status",
                "expected 301 or 308");
    }

    @Test
    void hstsPreloadNeedsSubdomainsAndAYear() {
        assertRefused(
                refused(listener("    tls:\n      certificates: [" + site.yaml() + "]\n"
                        + "      hsts: {max_age: 30d, preload: true}\n")),
                5,
                37,
                "listeners[0].tls.hsts.preload",
                "at least 365d");
    }
}
