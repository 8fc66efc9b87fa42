package io.flotilla.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The allocation-free paths of ForwardingHeaders give the same answers as the plain ones (issue 16). */
class ForwardingHeadersTest {
    @Test
    void connectionListsFieldsToDropAndOptionsToIgnore() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("Connection", "Keep-Alive,X-Trace ,\tCLOSE, host,, Content-Length")
                .add("Connection", "x-other")
                .add("Keep-Alive", "timeout=5")
                .add("X-Trace", "1")
                .add("X-Other", "2")
                .add("X-Kept", "3")
                .add("Host", "a.test")
                .add("Content-Length", "0");
        ForwardingHeaders.stripHopByHop(headers);
        assertFalse(headers.contains("Connection"));
        assertFalse(headers.contains("Keep-Alive"));
        assertFalse(headers.contains("X-Trace"), "named in Connection, with spaces around");
        assertFalse(headers.contains("X-Other"), "named in a second Connection field");
        assertTrue(headers.contains("X-Kept"));
        assertEquals("a.test", headers.get("Host"), "framing and routing fields are never dropped");
        assertEquals("0", headers.get("Content-Length"));
    }

    @Test
    void onlyOptionsRemoveNothingElse() {
        HttpHeaders headers =
                new DefaultHttpHeaders().add("Connection", "keep-alive").add("X-Kept", "1");
        ForwardingHeaders.stripHopByHop(headers);
        assertEquals(1, headers.size());
        assertTrue(headers.contains("X-Kept"));
    }

    @Test
    void clientAddressTextFollowsTheAddressWhateverWasFormattedBefore() throws Exception {
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 1000);
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("2001:db8:0:0:0:0:0:1"), 1000);
        assertEquals("192.0.2.7", ForwardingHeaders.clientIp(v4));
        assertEquals("192.0.2.7", ForwardingHeaders.clientIp(new InetSocketAddress("192.0.2.7", 2000)));
        assertEquals("2001:db8::1", ForwardingHeaders.clientIp(v6), "RFC 5952 text");
        assertEquals("192.0.2.7", ForwardingHeaders.clientIp(v4));
        assertEquals("unknown", ForwardingHeaders.clientIp(null));
        assertEquals("a.test", ForwardingHeaders.clientIp(InetSocketAddress.createUnresolved("a.test", 1)));
    }
}
