package io.flotilla.cluster.security;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * One direction of an encrypted byte stream, as records: each record is AES-256-GCM under a key of
 * this direction alone, its nonce the record's sequence number, so records cannot be replayed,
 * reordered, dropped or moved to the other direction without the next {@link #open} failing. Not
 * thread-safe: one instance per direction of one connection, used by one thread at a time.
 */
public final class RecordCipher {

    /** Largest plain record; bigger writes are cut into several. */
    public static final int MAX_PLAIN = 16 * 1024;
    /** Bytes a record adds: the tag. */
    public static final int TAG_BYTES = 16;

    private final SecretKeySpec key;
    private final Cipher cipher;
    private long sequence;

    private RecordCipher(byte[] key) {
        this.key = new SecretKeySpec(key, "AES");
        try {
            this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    }

    /**
     * The two directions of a connection from a shared secret agreed on in a handshake and the
     * handshake's transcript (both ends compute the same), for the side that connected or accepted.
     * Element 0 seals what this side sends, element 1 opens what it receives.
     */
    public static RecordCipher[] session(byte[] sharedSecret, byte[] transcript, boolean connected) {
        byte[] material = new byte[sharedSecret.length + transcript.length];
        System.arraycopy(sharedSecret, 0, material, 0, sharedSecret.length);
        System.arraycopy(transcript, 0, material, sharedSecret.length, transcript.length);
        RecordCipher toAcceptor = new RecordCipher(FleetKeys.hkdf(material, "flotilla member stream c2a", 32));
        RecordCipher toConnector = new RecordCipher(FleetKeys.hkdf(material, "flotilla member stream a2c", 32));
        return connected ? new RecordCipher[] {toAcceptor, toConnector} : new RecordCipher[] {toConnector, toAcceptor};
    }

    /** Seals {@code length} bytes of {@code plain} (at most {@link #MAX_PLAIN}) as the next record. */
    public byte[] seal(byte[] plain, int offset, int length) {
        try {
            cipher.init(Cipher.ENCRYPT_MODE, key, nextNonce());
            return cipher.doFinal(plain, offset, length);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot seal a record", e);
        }
    }

    /** Opens the next record; throws if it was not sealed as the next record of this direction. */
    public byte[] open(byte[] sealed, int offset, int length) throws GeneralSecurityException {
        cipher.init(Cipher.DECRYPT_MODE, key, nextNonce());
        return cipher.doFinal(sealed, offset, length);
    }

    private GCMParameterSpec nextNonce() {
        byte[] nonce = ByteBuffer.allocate(12).putInt(0).putLong(sequence++).array();
        return new GCMParameterSpec(TAG_BYTES * 8, nonce);
    }
}
