package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The compression section and a route's switch: defaults, forms, and errors that name line and field. */
class CompressionConfigTest {
    private static final String BASE = """
            listeners: [{bind: 127.0.0.1:8080}]
            upstreams: {app: {servers: [127.0.0.1:9001]}}
            routes:
              - {path: /, upstream: app}
              - {path: /secret/, upstream: app, compression: false}
            """;

    private static FlotillaConfig parse(String extra) throws ConfigException {
        return ConfigLoader.parse(BASE + extra, "edge.yaml");
    }

    private static String refused(String extra) {
        return assertThrows(ConfigException.class, () -> parse(extra)).getMessage();
    }

    @Test
    void defaultsAndForms() throws Exception {
        FlotillaConfig none = parse("");
        assertEquals(CompressionConfig.DEFAULT, none.compression());
        assertFalse(none.compression().enabled(), "off unless asked for (BREACH, CPU)");
        assertEquals(Optional.empty(), none.routes().get(0).compression());
        assertEquals(Optional.of(false), none.routes().get(1).compression());

        assertTrue(parse("compression: true\n").compression().enabled());
        CompressionConfig c = parse("compression: {codings: [gzip, br], types: [text/*, application/json], "
                        + "min_length: 1k, gzip_level: 6, brotli_level: 5, zstd_level: 7}\n")
                .compression();
        assertEquals(
                new CompressionConfig(true, List.of("gzip", "br"), Set.of("text/*", "application/json"), 1024, 6, 5, 7),
                c);
        assertFalse(parse("compression: {enabled: false, gzip_level: 2}\n")
                .compression()
                .enabled());
    }

    @Test
    void errors() {
        assertEquals(
                "edge.yaml:6:29: compression.codings[1]: unknown coding 'deflate'; known: br, zstd, gzip",
                refused("compression: {codings: [br, deflate]}\n"));
        assertEquals(
                "edge.yaml:6:27: compression.gzip_level: must be between 1 and 9, got 11",
                refused("compression: {gzip_level: 11}\n"));
        assertEquals(
                "edge.yaml:6:23: compression.types[0]: 'html' is not a media type such as text/html or text/*",
                refused("compression: {types: [html]}\n"));
        assertTrue(refused("compression: {level: 3}\n").contains("unknown key 'level'"));
    }
}
