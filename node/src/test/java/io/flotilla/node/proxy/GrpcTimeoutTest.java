package io.flotilla.node.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.http.GrpcTimeout;
import io.flotilla.node.testing.H2Client;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A gRPC call's {@code grpc-timeout} bounds how long the node waits for the origin's answer when it is
 * shorter than {@code timeouts.upstream_read}: raw HTTP/2 requests shaped as gRPC calls, to an origin
 * that never answers, so only the node can end them.
 */
class GrpcTimeoutTest {
    private static HttpHeaders timeout(String value) {
        return new DefaultHttpHeaders().set("grpc-timeout", value);
    }

    @Test
    void readsEveryUnitAndIgnoresWhatIsMalformed() {
        assertEquals(TimeUnit.HOURS.toNanos(2), GrpcTimeout.nanos(timeout("2H")));
        assertEquals(TimeUnit.MINUTES.toNanos(3), GrpcTimeout.nanos(timeout("3M")));
        assertEquals(TimeUnit.SECONDS.toNanos(99999999), GrpcTimeout.nanos(timeout("99999999S")));
        assertEquals(TimeUnit.MILLISECONDS.toNanos(250), GrpcTimeout.nanos(timeout("250m")));
        assertEquals(TimeUnit.MICROSECONDS.toNanos(7), GrpcTimeout.nanos(timeout("7u")));
        assertEquals(5, GrpcTimeout.nanos(timeout("5n")));
        assertEquals(-1, GrpcTimeout.nanos(new DefaultHttpHeaders()));
        assertEquals(-1, GrpcTimeout.nanos(timeout("123456789S")), "at most 8 digits");
        assertEquals(-1, GrpcTimeout.nanos(timeout("10s")), "units are case-sensitive");
        assertEquals(-1, GrpcTimeout.nanos(timeout("S")));
        assertEquals(-1, GrpcTimeout.nanos(timeout("-1S")));
        long start = 1_000;
        assertEquals(400, GrpcTimeout.cap(timeout("500n"), start, start + 100, 10_000), "what is left of it");
        assertEquals(300, GrpcTimeout.cap(timeout("500n"), start, start + 100, 300), "the shorter one");
        assertEquals(0, GrpcTimeout.cap(timeout("500n"), start, start + 900, 10_000), "already past");
        assertEquals(300, GrpcTimeout.cap(new DefaultHttpHeaders(), start, start + 900, 300));
    }

    @Test
    void theShorterOfGrpcTimeoutAndUpstreamReadEndsTheWait() throws Exception {
        TestOrigin silent = TestOrigin.start((request, out) -> {
            try {
                Thread.sleep(10_000); // never answers in time
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        });
        try (silent;
                TestNode node = TestNode.startWith("node: {name: grpc-node, event_loops: 1}\n"
                        + "listeners:\n  - {bind: 127.0.0.1:0, h2c: true}\n"
                        + "timeouts: {upstream_read: 2s}\n"
                        + "upstreams:\n  app:\n    servers: [" + silent.address() + "]\n"
                        + "routes:\n  - {path: /, upstream: app}\n");
                H2Client client = H2Client.connect(node.port())) {
            assertAnsweredWithin(client, 1, call("300m"), 250, 1500);
            assertAnsweredWithin(client, 3, call("20S"), 1900, 4000); // upstream_read is the shorter
            assertAnsweredWithin(client, 5, call("soon"), 1900, 4000); // malformed: ignored
            assertEquals(3, silent.requestCount(), "each call reached the origin, which kept it waiting");
            assertEquals("300m", silent.received().get(0).header("grpc-timeout"), "passed on to the origin");
        }
    }

    private static Http2Headers call(String grpcTimeout) {
        return H2Client.request("POST", "/pkg.Service/Method", "localhost")
                .set("content-type", "application/grpc")
                .set("te", "trailers")
                .set("grpc-timeout", grpcTimeout);
    }

    private static void assertAnsweredWithin(
            H2Client client, int stream, Http2Headers call, long atLeastMillis, long atMostMillis) throws Exception {
        long start = System.nanoTime();
        client.headers(stream, call, false)
                .data(stream, new byte[] {0, 0, 0, 0, 0}, true)
                .flush();
        H2Client.Response response = client.response(stream);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(504, response.status(), "the node's gateway timeout");
        assertTrue(
                millis >= atLeastMillis && millis <= atMostMillis,
                "answered after " + millis + " ms, expected " + atLeastMillis + "-" + atMostMillis);
    }
}
