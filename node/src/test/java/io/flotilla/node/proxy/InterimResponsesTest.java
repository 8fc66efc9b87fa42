package io.flotilla.node.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** RFC 9110 §15.2: 1xx responses reach HTTP/1.1 clients ahead of the final one; HTTP/1.0 clients never see them. */
class InterimResponsesTest {
    private static final byte[] EARLY_HINTS_THEN_OK =
            ("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .getBytes(StandardCharsets.US_ASCII);

    @Test
    void earlyHintsAreForwardedToHttp11Clients() throws Exception {
        try (TestOrigin origin = TestOrigin.start((request, out) -> {
                    out.write(EARLY_HINTS_THEN_OK);
                    return true;
                });
                TestNode node = TestNode.inFrontOf(origin, "")) {
            String all;
            try (RawClient client = node.client()) {
                all = client.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                        .readAll();
            }
            int hints = all.indexOf("HTTP/1.1 103 Early Hints\r\n");
            int ok = all.indexOf("HTTP/1.1 200 OK\r\n");
            assertTrue(hints == 0 && ok > hints, all);
            assertTrue(all.substring(0, ok).contains("Link: </style.css>; rel=preload\r\n"), all);
            assertTrue(all.endsWith("\r\n\r\nok"), all);

            try (RawClient client = node.client()) {
                String old = client.send("GET / HTTP/1.0\r\nHost: a\r\n\r\n").readAll();
                assertFalse(old.contains("103"), old);
                assertTrue(old.startsWith("HTTP/1.1 200 OK\r\n"), old);
            }
            try (RawClient client = node.client()) {
                RawClient.Response twice =
                        client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").read();
                assertEquals(200, twice.status());
                assertEquals(
                        200,
                        client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").read().status(),
                        "the connection stays usable after an interim response");
            }
        }
    }
}
