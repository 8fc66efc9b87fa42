package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The websocket section and the route switch: defaults, values, and errors that name the field. */
class WebSocketConfigTest {
    private static final String BASE = """
            listeners: [{bind: "127.0.0.1:8080"}]
            upstreams: {app: {servers: [127.0.0.1:9001]}}
            """;

    private static FlotillaConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(BASE + yaml, "edge.yaml");
    }

    @Test
    void defaultsTunnelOnRoutesToAnUpstream() throws ConfigException {
        FlotillaConfig config =
                parse("routes: [{path: /, upstream: app}, {path: /off, upstream: app, websocket: false}]\n");
        assertEquals(WebSocketConfig.defaults(), config.websocket());
        assertEquals(Duration.ofHours(1), config.websocket().idleTimeout());
        assertTrue(config.routes().get(0).websocket());
        assertFalse(config.routes().get(1).websocket());
    }

    @Test
    void readsTheSection() throws ConfigException {
        FlotillaConfig config =
                parse("routes: [{path: /, upstream: app}]\nwebsocket: {max_tunnels: 2, idle_timeout: 90s}\n");
        assertEquals(new WebSocketConfig(2, Duration.ofSeconds(90), true), config.websocket());
        assertFalse(parse("routes: [{path: /, upstream: app}]\nwebsocket: {http2: false}\n")
                .websocket()
                .overHttp2());
        assertFalse(parse("routes: [{path: /, upstream: app}]\nwebsocket: {max_tunnels: 0}\n")
                .websocket()
                .overHttp2());
    }

    @Test
    void refusesWhatCannotWork() {
        ConfigException unknown = assertThrows(
                ConfigException.class, () -> parse("routes: [{path: /, upstream: app}]\nwebsocket: {max_tunnel: 2}\n"));
        assertEquals(4, unknown.line(), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("did you mean 'max_tunnels'"), unknown.getMessage());
        ConfigException statics = assertThrows(
                ConfigException.class, () -> parse("routes: [{path: /, static: /tmp, websocket: true}]\n"));
        assertTrue(statics.getMessage().contains("websocket"), statics.getMessage());
        assertThrows(
                ConfigException.class,
                () -> parse("routes: [{path: /, upstream: app}]\nwebsocket: {idle_timeout: 0s}\n"));
    }
}
