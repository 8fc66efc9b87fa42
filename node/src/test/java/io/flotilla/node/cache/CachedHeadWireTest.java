package io.flotilla.node.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A stored head's bytes are the fleet's wire format: another node, possibly of another build, reads
 * them. They round-trip, and their layout is pinned, so a change to it shows up here first.
 */
class CachedHeadWireTest {
    @Test
    void aHeadRoundTripsWithEveryFieldInOrder() {
        HttpHeaders h = new DefaultHttpHeaders(false)
                .add("Content-Type", "text/plain")
                .add("Set-Cookie", "a=1")
                .add("Set-Cookie", "b=2")
                .add("X-Long", "v".repeat(70_000))
                .add("X-Empty", "");
        CachedHead head = CachedHead.of(203, "Non-Authoritative", h, 1_000L, 2_000L);
        CachedHead back = CachedHead.decode(head.encode());
        assertEquals(head, back);
        assertEquals(List.of("a=1", "b=2"), back.headerValues("set-cookie"), "repeated fields keep their order");
    }

    @Test
    void aVaryMarkerRoundTrips() {
        CachedHead marker = CachedHead.varyMarker(List.of("accept-encoding", "x-device"), 5_000L);
        assertEquals(marker, CachedHead.decode(marker.encode()));
    }

    @Test
    void theLayoutIsPinned() {
        HttpHeaders h = new DefaultHttpHeaders(false).add("ETag", "\"x\"");
        byte[] bytes = CachedHead.of(200, "OK", h, 1L, 2L).encode();
        assertEquals(
                "0100c800024f4b000000000000000100000000000000020001000445546167",
                HexFormat.of().formatHex(bytes, 0, 31),
                "version 1, status, reason, times, header count, name");
        assertEquals(
                HexFormat.of().formatHex(CachedHead.decode(bytes).encode()),
                HexFormat.of().formatHex(bytes));
    }

    @Test
    void anUnknownLayoutIsAMissNotACrash() {
        byte[] bytes =
                CachedHead.of(200, "OK", new DefaultHttpHeaders(), 1L, 2L).encode();
        bytes[0] = 9;
        assertNull(CachedHead.decode(bytes));
        assertNull(CachedHead.decode(new byte[] {1, 0}), "truncated");
    }
}
