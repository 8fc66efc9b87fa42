package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The shipped example must stay loadable, since operators start from it. */
class ConfigExampleTest {
    private static final Path EXAMPLE = Path.of("../examples/flotilla.yaml");

    @Test
    void exampleLoads() throws Exception {
        FlotillaConfig c = ConfigLoader.load(EXAMPLE);

        assertEquals("edge-1", c.node().name());
        assertEquals(1, c.listeners().size());
        assertEquals(2, c.upstreams().size());
        assertEquals(4, c.routes().size());
        assertTrue(c.cluster().isPresent());
        Path www = EXAMPLE.toAbsolutePath().normalize().resolveSibling("www");
        assertEquals(Optional.of(www), c.routes().get(1).staticRoot());
        assertTrue(Files.isRegularFile(www.resolve("index.html")));
    }

    @Test
    void exampleShowsTheDefaults() throws Exception {
        FlotillaConfig c = ConfigLoader.load(EXAMPLE);

        assertEquals(TimeoutConfig.defaults(), c.timeouts());
        assertEquals(LimitConfig.defaults(), c.limits());
        assertEquals(HeaderPolicy.defaults(), c.headers());
        assertEquals(CacheConfig.defaults(), c.cache());
        assertEquals(WebSocketConfig.defaults(), c.websocket());
        assertEquals(CompressionConfig.DEFAULT, c.compression());
        assertTrue(c.routes().get(3).cache().isPresent());
        assertTrue(c.routes().get(0).rateLimit().isPresent());
        assertEquals(3, c.cluster().orElseThrow().expectedSize());
        assertEquals(PoolConfig.defaults(), c.upstreams().get("app").pool());
        assertEquals(
                ListenerConfig.DEFAULT_MAX_CONNECTIONS, c.listeners().get(0).maxConnections());
    }
}
