package io.flotilla.cluster.tickets;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One generation of session-ticket keys: the first encrypts new tickets, all of them decrypt. Each key
 * is 48 random bytes (16 key name, 16 HMAC key, 16 AES key: the layout NGINX's
 * {@code ssl_session_ticket_key} and OpenSSL's ticket callback use).
 *
 * @param version     1 for the first generation, one more per rotation
 * @param rotatedAt   when the first key was made (epoch milliseconds, the rotating member's clock)
 * @param keys        newest first, at most {@link TicketKeyRing#KEPT}
 */
public record TicketKeySet(long version, long rotatedAt, List<byte[]> keys) {

    /** Bytes per key. */
    public static final int KEY_BYTES = 48;

    private static final SecureRandom RANDOM = new SecureRandom();

    public TicketKeySet {
        if (keys.isEmpty() || keys.size() > TicketKeyRing.KEPT) {
            throw new IllegalArgumentException(
                    "a ticket key set holds 1 to " + TicketKeyRing.KEPT + " keys, not " + keys.size());
        }
        for (byte[] key : keys) {
            if (key.length != KEY_BYTES) {
                throw new IllegalArgumentException("a ticket key has " + KEY_BYTES + " bytes, not " + key.length);
            }
        }
        keys = List.copyOf(keys);
    }

    /** A first generation: one fresh key. */
    public static TicketKeySet first(long now) {
        return new TicketKeySet(1, now, List.of(freshKey()));
    }

    /** The next generation: a fresh key first, then this one's keys, the oldest dropped past {@link TicketKeyRing#KEPT}. */
    public TicketKeySet next(long now) {
        List<byte[]> next = new ArrayList<>(TicketKeyRing.KEPT);
        next.add(freshKey());
        for (byte[] key : keys) {
            if (next.size() == TicketKeyRing.KEPT) {
                break;
            }
            next.add(key);
        }
        return new TicketKeySet(version + 1, now, next);
    }

    /** The 16-byte names of the keys, hex, newest first: what a ticket names and what may be logged. */
    public List<String> names() {
        List<String> names = new ArrayList<>(keys.size());
        for (byte[] key : keys) {
            StringBuilder hex = new StringBuilder(32);
            for (int i = 0; i < 16; i++) {
                hex.append(Character.forDigit((key[i] >> 4) & 0xf, 16)).append(Character.forDigit(key[i] & 0xf, 16));
            }
            names.add(hex.toString());
        }
        return names;
    }

    /** version, rotatedAt, count, keys. */
    public byte[] encode() {
        ByteBuffer out = ByteBuffer.allocate(8 + 8 + 1 + keys.size() * KEY_BYTES);
        out.putLong(version).putLong(rotatedAt).put((byte) keys.size());
        keys.forEach(out::put);
        return out.array();
    }

    /** The set {@link #encode()} wrote, or null if {@code bytes} is not one. */
    public static TicketKeySet decode(byte[] bytes) {
        if (bytes == null || bytes.length < 17) {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        long version = in.getLong();
        long rotatedAt = in.getLong();
        int count = in.get();
        if (count < 1 || count > TicketKeyRing.KEPT || in.remaining() != count * KEY_BYTES) {
            return null;
        }
        List<byte[]> keys = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] key = new byte[KEY_BYTES];
            in.get(key);
            keys.add(key);
        }
        return new TicketKeySet(version, rotatedAt, keys);
    }

    /** Same keys in the same order (versions aside): nothing for a TLS context to change. */
    public boolean sameKeys(TicketKeySet other) {
        if (other == null || other.keys.size() != keys.size()) {
            return false;
        }
        for (int i = 0; i < keys.size(); i++) {
            if (!Arrays.equals(keys.get(i), other.keys.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static byte[] freshKey() {
        byte[] key = new byte[KEY_BYTES];
        RANDOM.nextBytes(key);
        return key;
    }

    @Override
    public String toString() {
        return "TicketKeySet[version=" + version + ", rotatedAt=" + rotatedAt + ", keys=" + names() + "]";
    }
}
