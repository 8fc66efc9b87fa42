package io.flotilla.node.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.server.FlotillaNode;
import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestOrigin;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A server named by a DNS name follows the name when it moves to another address. */
class DnsRefresherTest {
    @Test
    void newConnectionsFollowTheNameToItsNewAddress() throws Exception {
        try (TestOrigin first = TestOrigin.start(TestOrigin.ok("first"));
                TestOrigin second =
                        TestOrigin.start(TestOrigin.ok("second"), InetAddress.getByName("127.0.0.2"), first.port())) {
            AtomicReference<String> where = new AtomicReference<>("127.0.0.1");
            FlotillaNode node = FlotillaNode.start(
                    ConfigLoader.parse(
                            "node: {name: d, event_loops: 1, resolve_every: 100ms}\n"
                                    + "listeners: [{bind: \"127.0.0.1:0\"}]\n"
                                    + "upstreams:\n  app: {servers: [\"svc.flotilla.test:" + first.port()
                                    + "\"], pool: {max_idle: 0}}\n"
                                    + "routes: [{upstream: app}]\n",
                            "t.yaml"),
                    host -> {
                        if (!host.equals("svc.flotilla.test")) {
                            throw new IllegalStateException("unexpected lookup " + host);
                        }
                        try {
                            return InetAddress.getByName(where.get()); // a literal: no real lookup
                        } catch (UnknownHostException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            try (RawClient client = new RawClient(node.port(0))) {
                assertEquals("first", waitForBody(client, "first"));
                where.set("127.0.0.2");
                assertEquals("second", waitForBody(client, "second"), "the name moved; new connections follow");
            } finally {
                node.close();
            }
        }
    }

    /** Requests until one answers {@code expected} (bounded at 5 s), returning that body. */
    private static String waitForBody(RawClient client, String expected) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        String last = null;
        while (System.nanoTime() < deadline) {
            RawClient.Response response = client.get("/", "x");
            last = response.status() + " " + response.bodyText();
            if (response.status() == 200 && response.bodyText().equals(expected)) {
                return expected;
            }
            Thread.sleep(30);
        }
        throw new AssertionError("never answered " + expected + "; last: " + last);
    }
}
