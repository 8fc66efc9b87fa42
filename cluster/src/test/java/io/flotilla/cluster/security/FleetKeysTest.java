package io.flotilla.cluster.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FleetKeysTest {

    private static final String OLD = FleetKeys.generate();
    private static final String NEW = FleetKeys.generate();
    private static final byte[] PLAIN = "backend app-1 is down".getBytes(StandardCharsets.UTF_8);
    private static final byte[] AAD = FleetKeys.aad("flotilla.health", "app-1");

    @Test
    void sealedOpensWithItsAadOnly() {
        FleetKeys k = FleetKeys.decode(List.of(OLD));
        byte[] sealed = k.seal(PLAIN, AAD);
        assertEquals(PLAIN.length + FleetKeys.OVERHEAD, sealed.length);
        assertArrayEquals(PLAIN, k.open(sealed, AAD));
        assertNull(k.open(sealed, FleetKeys.aad("flotilla.health", "app-2")), "moved to another key");
        assertEquals(1, k.rejected());
        assertFalse(new String(sealed, StandardCharsets.ISO_8859_1).contains("backend"), "not readable");
        assertNotEquals(HexFormat.of().formatHex(sealed), HexFormat.of().formatHex(k.seal(PLAIN, AAD)), "fresh nonce");
    }

    @Test
    void forgedTamperedOrUnsealedValuesAreRejectedAndCounted() {
        FleetKeys mine = FleetKeys.decode(List.of(OLD));
        FleetKeys theirs = FleetKeys.decode(List.of(NEW));
        assertNull(mine.open(theirs.seal(PLAIN, AAD), AAD), "another key");
        byte[] sealed = mine.seal(PLAIN, AAD);
        for (int i = 0; i < sealed.length; i += 7) {
            byte[] tampered = sealed.clone();
            tampered[i] ^= 1;
            assertNull(mine.open(tampered, AAD), "byte " + i + " flipped");
        }
        assertNull(mine.open(PLAIN, AAD), "never sealed");
        assertNull(mine.open(new byte[3], AAD), "too short");
        assertNull(mine.open(null, AAD), "absent");
        assertEquals(4 + (sealed.length + 6) / 7, mine.rejected());
    }

    @Test
    void rotationFirstSealsAllOpen() {
        FleetKeys before = FleetKeys.decode(List.of(OLD));
        FleetKeys added = FleetKeys.decode(List.of(OLD, NEW)); // step 1 on every node: new key accepted
        FleetKeys switched = FleetKeys.decode(List.of(NEW, OLD)); // step 2: new key seals, old still opens
        FleetKeys after = FleetKeys.decode(List.of(NEW)); // step 3: old key gone
        assertArrayEquals(PLAIN, added.open(before.seal(PLAIN, AAD), AAD));
        assertArrayEquals(PLAIN, before.open(added.seal(PLAIN, AAD), AAD), "step 1 still seals with the old key");
        assertArrayEquals(PLAIN, added.open(switched.seal(PLAIN, AAD), AAD));
        assertArrayEquals(PLAIN, switched.open(added.seal(PLAIN, AAD), AAD));
        assertArrayEquals(PLAIN, after.open(switched.seal(PLAIN, AAD), AAD));
        assertNull(after.open(before.seal(PLAIN, AAD), AAD), "the retired key opens nothing");
        assertEquals(List.of(switched.ids().get(1), switched.ids().get(0)), added.ids());
        assertTrue(switched.sealedWithOlderKey(added.seal(PLAIN, AAD)), "worth sealing again");
        assertFalse(switched.sealedWithOlderKey(switched.seal(PLAIN, AAD)));
    }

    @Test
    void purposesHaveIndependentKeys() {
        FleetKeys values = FleetKeys.decode(List.of(OLD));
        FleetKeys gossip = values.derive("gossip");
        assertNull(gossip.open(values.seal(PLAIN, AAD), AAD));
        assertArrayEquals(PLAIN, values.derive("gossip").open(gossip.seal(PLAIN, AAD), AAD));
        assertEquals(values.ids(), gossip.ids());
        assertEquals(1, gossip.rejected());
        assertEquals(0, values.rejected(), "each purpose counts its own");
    }

    @Test
    void noneIsAPassThrough() {
        FleetKeys none = FleetKeys.none();
        assertFalse(none.enabled());
        assertSame(PLAIN, none.seal(PLAIN, AAD));
        assertSame(PLAIN, none.open(PLAIN, AAD));
        assertSame(none, none.derive("gossip"));
        assertTrue(none.ids().isEmpty());
        assertNull(FleetKeys.decode(List.of(OLD)).open(PLAIN, AAD), "a keyed node takes nothing unsealed");
    }

    @Test
    void badKeysAreNamedByPosition(@TempDir Path dir) throws Exception {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> FleetKeys.decode(List.of(OLD, "not base64!")));
        assertEquals("fleet key 2 is not base64", e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> FleetKeys.decode(List.of(Base64.getEncoder().encodeToString(new byte[16]))));
        assertTrue(e.getMessage().startsWith("fleet key 1 has 16 bytes, not 32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FleetKeys.decode(List.of()));
        Path file = dir.resolve("fleet.key");
        Files.writeString(file, "# rotated in on 3 Dec\n" + NEW + "\n\n" + OLD + "\n");
        assertEquals(List.of(NEW, OLD), FleetKeys.lines(file));
    }

    @Test
    void hkdfMatchesRfc5869TestCase3() {
        byte[] ikm = new byte[22];
        java.util.Arrays.fill(ikm, (byte) 0x0b);
        assertEquals(
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
                HexFormat.of().formatHex(FleetKeys.hkdf(ikm, "", 42)));
    }
}
