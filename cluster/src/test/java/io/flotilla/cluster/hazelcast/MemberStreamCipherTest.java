package io.flotilla.cluster.hazelcast;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.hazelcast.internal.networking.HandlerStatus;
import io.flotilla.cluster.security.RecordCipher;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The member connection's encryption handlers, driven by hand as Hazelcast's pipelines drive them. */
class MemberStreamCipherTest {

    private static final byte[] SECRET = new byte[32];
    private static final byte[] TRANSCRIPT = "nonces and public keys".getBytes(StandardCharsets.US_ASCII);

    /** 100 KiB of what a member sends: map keys in the clear, before encryption. */
    private static byte[] traffic() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Random r = new Random(1);
        while (b.size() < 100 * 1024) {
            b.writeBytes(
                    ("GET http://secret-marker.example/" + r.nextInt() + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        return b.toByteArray();
    }

    /** Runs the encoder over {@code plain} with a small socket buffer, as the outbound pipeline would. */
    private static byte[] encode(RecordCipher cipher, byte[] plain) {
        MemberStreamCipher.Encoder e = new MemberStreamCipher.Encoder(cipher);
        e.src(ByteBuffer.wrap(plain)); // the previous handler's output, read mode
        e.dst(ByteBuffer.allocate(7000).flip());
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        HandlerStatus status;
        do {
            status = e.onWrite();
            ByteBuffer out = e.dst(); // read mode: what the socket would send
            byte[] chunk = new byte[out.remaining()];
            out.get(chunk);
            wire.writeBytes(chunk);
        } while (status != HandlerStatus.CLEAN);
        return wire.toByteArray();
    }

    /** Feeds {@code wire} to the decoder in uneven pieces, as reads from a socket arrive. */
    private static byte[] decode(RecordCipher cipher, byte[] wire) throws Exception {
        MemberStreamCipher.Decoder d = new MemberStreamCipher.Decoder(cipher);
        d.src(ByteBuffer.allocate(80 * 1024)); // write mode, as the socket fills it
        d.dst(ByteBuffer.allocate(5000)); // the next handler's input, write mode
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        int at = 0;
        Random r = new Random(2);
        while (at < wire.length || d.dst().position() > 0) {
            int n = Math.min(wire.length - at, Math.min(d.src().remaining(), 1 + r.nextInt(9000)));
            d.src().put(wire, at, n);
            at += n;
            HandlerStatus status;
            do {
                status = d.onRead();
                ByteBuffer out = d.dst();
                out.flip();
                byte[] chunk = new byte[out.remaining()];
                out.get(chunk);
                plain.writeBytes(chunk);
                out.clear();
            } while (status == HandlerStatus.DIRTY);
        }
        return plain.toByteArray();
    }

    @Test
    void whatOneSideSendsTheOtherReadsAndTheWireShowsNothing() throws Exception {
        RecordCipher[] connector = RecordCipher.session(SECRET, TRANSCRIPT, true);
        RecordCipher[] acceptor = RecordCipher.session(SECRET, TRANSCRIPT, false);
        byte[] plain = traffic();
        byte[] wire = encode(connector[0], plain);
        assertFalse(
                new String(wire, StandardCharsets.ISO_8859_1).contains("secret-marker"),
                "map keys are not on the wire");
        assertEquals(plain.length + 7 * (4 + RecordCipher.TAG_BYTES), wire.length, "16 KiB records: 7 for 100 KiB");
        assertArrayEquals(plain, decode(acceptor[1], wire));
    }

    @Test
    void aTamperedReplayedOrReflectedRecordClosesTheConnection() {
        RecordCipher[] connector = RecordCipher.session(SECRET, TRANSCRIPT, true);
        byte[] wire = encode(connector[0], traffic());
        byte[] tampered = wire.clone();
        tampered[100] ^= 1;
        assertThrows(
                GeneralSecurityException.class,
                () -> decode(RecordCipher.session(SECRET, TRANSCRIPT, false)[1], tampered));
        byte[] first = Arrays.copyOf(wire, 4 + RecordCipher.MAX_PLAIN + RecordCipher.TAG_BYTES);
        byte[] replayed = new byte[first.length * 2];
        System.arraycopy(first, 0, replayed, 0, first.length);
        System.arraycopy(first, 0, replayed, first.length, first.length);
        assertThrows(
                GeneralSecurityException.class,
                () -> decode(RecordCipher.session(SECRET, TRANSCRIPT, false)[1], replayed),
                "a record sent twice");
        assertThrows(
                GeneralSecurityException.class,
                () -> decode(RecordCipher.session(SECRET, TRANSCRIPT, true)[1], wire),
                "sent back to its sender");
        assertThrows(
                GeneralSecurityException.class,
                () -> decode(
                        RecordCipher.session(SECRET, "another handshake".getBytes(StandardCharsets.US_ASCII), false)[1],
                        wire),
                "another connection's keys");
    }
}
