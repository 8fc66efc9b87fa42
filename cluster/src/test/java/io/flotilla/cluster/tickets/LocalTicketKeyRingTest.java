package io.flotilla.cluster.tickets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LocalTicketKeyRingTest {

    @Test
    void rotatesByAgeKeepsThreeKeysAndTellsListeners() {
        AtomicLong clock = new AtomicLong(1_000);
        try (TicketKeyRing ring = TicketKeyRing.local(clock::get)) {
            List<TicketKeySet> heard = new CopyOnWriteArrayList<>();
            ring.onChange(heard::add);
            TicketKeySet first = ring.current();
            assertEquals(1, first.version());
            assertEquals(1, first.keys().size());

            clock.addAndGet(59_000);
            assertSame(first, ring.rotateIfOlderThan(Duration.ofMinutes(1), clock.get()), "not old enough yet");
            clock.addAndGet(1_000);
            TicketKeySet second = ring.rotateIfOlderThan(Duration.ofMinutes(1), clock.get());
            assertEquals(2, second.version());
            assertEquals(60_000 + 1_000, second.rotatedAt());
            assertArrayEquals(first.keys().get(0), second.keys().get(1), "the old key still decrypts");
            assertEquals(List.of(second), heard);

            assertTrue(ring.rotate(1).isEmpty(), "a stale expectation loses");
            TicketKeySet third = ring.rotate(2).orElseThrow();
            TicketKeySet fourth = ring.rotate(3).orElseThrow();
            assertEquals(TicketKeyRing.KEPT, fourth.keys().size());
            assertArrayEquals(second.keys().get(0), fourth.keys().get(2));
            assertTrue(
                    fourth.keys().stream()
                            .noneMatch(
                                    k -> java.util.Arrays.equals(k, first.keys().get(0))),
                    "the first key is gone after three rotations");
            assertEquals(List.of(second, third, fourth), heard);
        }
    }

    @Test
    void encodingRoundTripsAndRefusesWhatIsNotASet() {
        TicketKeySet set = TicketKeySet.first(5).next(6).next(7);
        TicketKeySet back = TicketKeySet.decode(set.encode());
        assertEquals(set.version(), back.version());
        assertEquals(set.rotatedAt(), back.rotatedAt());
        assertTrue(set.sameKeys(back));
        assertEquals(set.names(), back.names());
        assertEquals(32, set.names().get(0).length());
        byte[] truncated = java.util.Arrays.copyOf(set.encode(), set.encode().length - 1);
        assertNull(TicketKeySet.decode(truncated));
        assertNull(TicketKeySet.decode(new byte[3]));
    }
}
