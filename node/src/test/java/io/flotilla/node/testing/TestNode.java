package io.flotilla.node.testing;

import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.server.FlotillaNode;

/**
 * A real node for integration tests, started from YAML text with its listener on 127.0.0.1 port 0;
 * the bound port is read back from the node.
 */
public final class TestNode implements AutoCloseable {
    private final FlotillaNode node;

    private TestNode(FlotillaNode node) {
        this.node = node;
    }

    /**
     * Starts a node from a config whose {@code listeners} section is added here.
     *
     * @param yamlBody everything but {@code listeners}: upstreams, routes, timeouts, ...
     */
    public static TestNode start(String yamlBody) throws Exception {
        return startWith("node: {name: test-node, event_loops: 1}\nlisteners:\n  - bind: 127.0.0.1:0\n" + yamlBody);
    }

    /** Starts a node from a complete config. */
    public static TestNode startWith(String yaml) throws Exception {
        FlotillaConfig config = ConfigLoader.parse(yaml, "test.yaml");
        FlotillaNode node = FlotillaNode.start(config);
        node.startedFrom(yaml);
        return new TestNode(node);
    }

    /** Starts a node from a complete config whose cache judges time by {@code cacheClock} (epoch millis). */
    public static TestNode startWith(String yaml, java.util.function.LongSupplier cacheClock) throws Exception {
        FlotillaNode node = FlotillaNode.start(ConfigLoader.parse(yaml, "test.yaml"), cacheClock);
        node.startedFrom(yaml);
        return new TestNode(node);
    }

    /** A one-route config in front of {@code origin}, plus any extra sections. */
    public static TestNode inFrontOf(TestOrigin origin, String extra) throws Exception {
        return start("upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                + "routes:\n  - {path: /, upstream: app}\n" + extra);
    }

    public int port() {
        return node.port(0);
    }

    /** Port of the admin API (the config must give node.admin). */
    public int adminPort() {
        return node.adminAddress().orElseThrow().getPort();
    }

    public FlotillaNode node() {
        return node;
    }

    public RawClient client() throws java.io.IOException {
        return new RawClient(port());
    }

    @Override
    public void close() throws Exception {
        node.close();
    }
}
