package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.TlsClient;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener's HTTP/2 keys: defaults, limits, and the combinations refused with where they are. */
class Http2ConfigTest {
    private static final String TAIL =
            "upstreams:\n  app:\n    servers: [127.0.0.1:9001]\n" + "routes:\n  - {path: /, upstream: app}\n";

    private static ListenerConfig listener(String keys) throws ConfigException {
        return ConfigLoader.parse("listeners:\n  - {bind: 127.0.0.1:8080" + keys + "}\n" + TAIL, "h2.yaml")
                .listeners()
                .get(0);
    }

    @Test
    void tlsListenersSpeakH2ByDefaultAndPlainOnesOnlyWithH2c() throws Exception {
        ListenerConfig plain = listener("");
        assertEquals(Http2Config.defaults(), plain.http2());
        assertFalse(plain.speaksHttp2(), "h2c is off by default");
        assertTrue(listener(", h2c: true").speaksHttp2());
        assertFalse(listener(", http2: false").http2().enabled());
    }

    @Test
    void limitsAreReadWithSizesAndDurations() throws Exception {
        Http2Config h2 = listener(", h2c: true, http2_limits: {max_concurrent_streams: 10, initial_stream_window: 1m, "
                        + "max_frame_size: 32k, max_resets: 5, reset_window: 10s, max_control_frames_per_second: 50, "
                        + "max_queued_control_frames: 20, max_empty_frames: 1, max_small_continuations: 4}")
                .http2();
        assertEquals(new Http2Config(true, true, 10, 1 << 20, 32 << 10, 5, Duration.ofSeconds(10), 50, 20, 1, 4), h2);
    }

    @TempDir
    Path dir;

    @Test
    void misplacedOrOutOfRangeKeysAreRefusedWithTheirPlace() throws Exception {
        TlsClient.CertFiles cert = TlsClient.certificate(dir, "c", "c.test", true);
        ConfigException onTls = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(
                        "listeners:\n  - bind: 127.0.0.1:8443\n    h2c: true\n    tls: {certificates: [" + cert.yaml()
                                + "]}\n" + TAIL,
                        "h2.yaml"));
        assertEquals(3, onTls.line(), onTls.getMessage());
        assertTrue(onTls.getMessage().contains("ALPN"), onTls.getMessage());
        ConfigException tooSmall =
                assertThrows(ConfigException.class, () -> listener(", h2c: true, http2_limits: {max_frame_size: 1k}"));
        assertEquals(2, tooSmall.line(), tooSmall.getMessage());
        ConfigException unknown =
                assertThrows(ConfigException.class, () -> listener(", h2c: true, http2_limits: {max_streams: 10}"));
        assertTrue(unknown.getMessage().contains("max_concurrent_streams"), unknown.getMessage());
    }
}
