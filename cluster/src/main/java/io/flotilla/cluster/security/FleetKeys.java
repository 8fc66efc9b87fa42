package io.flotilla.cluster.security;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The fleet secret: one or more 32-byte keys, the first sealing, all opening, so a key is rotated in
 * on every node before any node seals with it (the way shared TLS session-ticket keys rotate).
 *
 * <p>A sealed value is {@code version(1) | key id(2) | nonce(12) | AES-256-GCM ciphertext and
 * tag(16)}: 31 bytes more than the plain value. The AES key is never the configured secret itself but
 * derived from it with HKDF-SHA256 for one purpose ({@link #derive(String)}), so the keys that seal
 * shared values, encrypt gossip and sign join proofs are independent. The key id (the first two bytes
 * of an HMAC of the secret) lets {@link #open} try only the key that sealed; it reveals nothing of
 * the key. Nonces are random: safe for well over 2^32 seals per key (NIST SP 800-38D §8.3), far more
 * than a fleet writes before its keys are rotated.
 *
 * <p>{@link #none()} is a fleet without a secret (a lone node, a loopback test fleet): seal and open
 * pass values through unchanged. Instances are immutable and thread-safe.
 */
public final class FleetKeys {

    /** Bytes of one configured key. */
    public static final int KEY_BYTES = 32;
    /** Bytes a sealed value has beyond its plain one. */
    public static final int OVERHEAD = 1 + 2 + 12 + 16;

    private static final byte VERSION = 1;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final String VALUES = "values";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    });
    private static final FleetKeys NONE = new FleetKeys(List.of(), List.of(), "");

    private final List<byte[]> secrets; // as configured, first seals; kept only to derive other purposes
    private final List<Key> keys; // derived for this instance's purpose, same order
    private final String purpose;
    private final LongAdder rejected = new LongAdder();

    private record Key(short id, SecretKeySpec aes) {}

    private FleetKeys(List<byte[]> secrets, List<Key> keys, String purpose) {
        this.secrets = secrets;
        this.keys = keys;
        this.purpose = purpose;
    }

    /** No secret: values pass through unsealed. For a lone node or a fleet on loopback only. */
    public static FleetKeys none() {
        return NONE;
    }

    /** Keys for sealing shared values from the configured secrets, the first sealing; each must have 32 bytes. */
    public static FleetKeys of(List<byte[]> secrets) {
        if (secrets.isEmpty()) {
            throw new IllegalArgumentException("no fleet key (make one with: flotilla fleet-key)");
        }
        for (int i = 0; i < secrets.size(); i++) {
            if (secrets.get(i).length != KEY_BYTES) {
                throw new IllegalArgumentException("fleet key " + (i + 1) + " has " + secrets.get(i).length
                        + " bytes, not " + KEY_BYTES + " (make one with: flotilla fleet-key)");
            }
        }
        List<byte[]> copies = secrets.stream().map(byte[]::clone).toList();
        return new FleetKeys(copies, derived(copies, VALUES), VALUES);
    }

    /** Keys from base64 text (config or a key file); a problem names the key by its position. */
    public static FleetKeys decode(List<String> encoded) {
        List<byte[]> secrets = new ArrayList<>();
        for (String text : encoded) {
            try {
                secrets.add(Base64.getDecoder().decode(text.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("fleet key " + (secrets.size() + 1) + " is not base64");
            }
        }
        return of(secrets);
    }

    /** The keys in a key file: one base64 key per line, blank lines and {@code #} comments ignored. */
    public static List<String> lines(Path file) {
        try {
            List<String> out = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
                String t = line.trim();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    out.add(t);
                }
            }
            return out;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** A new random key, base64, for a key file or config. */
    public static String generate() {
        byte[] k = new byte[KEY_BYTES];
        RANDOM.nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    /**
     * The same secrets, derived for another purpose (gossip, join proofs): keys independent of these,
     * with the same ids and order, and their own count of rejected values.
     */
    public FleetKeys derive(String otherPurpose) {
        if (!enabled()) {
            return NONE;
        }
        return new FleetKeys(secrets, derived(secrets, otherPurpose), otherPurpose);
    }

    /** Whether there is a secret at all; without one, seal and open pass values through. */
    public boolean enabled() {
        return !keys.isEmpty();
    }

    /** Ids of the keys, hex, the sealing one first; empty without a secret. For logs and {@code /fleet}. */
    public List<String> ids() {
        return keys.stream().map(k -> HexFormat.of().toHexDigits(k.id)).toList();
    }

    /**
     * {@code plain} sealed with the first key, bound to {@code aad} (say, the map and key it is stored
     * under, so a sealed value moved elsewhere does not open). Without a secret, {@code plain} itself.
     */
    public byte[] seal(byte[] plain, byte[] aad) {
        if (!enabled()) {
            return plain;
        }
        Key k = keys.get(0);
        byte[] out = new byte[OVERHEAD + plain.length];
        out[0] = VERSION;
        out[1] = (byte) (k.id >> 8);
        out[2] = (byte) k.id;
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        System.arraycopy(nonce, 0, out, 3, NONCE_BYTES);
        try {
            Cipher c = CIPHER.get();
            c.init(Cipher.ENCRYPT_MODE, k.aes, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(aad);
            c.doFinal(plain, 0, plain.length, out, 3 + NONCE_BYTES);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot seal", e);
        }
    }

    /**
     * The plain value of {@code sealed}, or null if no key opens it for this {@code aad} (forged,
     * sealed with a key this node does not have, moved from another key, or not sealed at all), which
     * is counted in {@link #rejected()}. Without a secret, {@code sealed} itself.
     */
    public byte[] open(byte[] sealed, byte[] aad) {
        if (!enabled()) {
            return sealed;
        }
        if (sealed == null || sealed.length < OVERHEAD || sealed[0] != VERSION) {
            rejected.increment();
            return null;
        }
        short id = (short) (((sealed[1] & 0xff) << 8) | (sealed[2] & 0xff));
        for (Key k : keys) {
            if (k.id != id) {
                continue;
            }
            try {
                Cipher c = CIPHER.get();
                c.init(Cipher.DECRYPT_MODE, k.aes, new GCMParameterSpec(TAG_BITS, sealed, 3, NONCE_BYTES));
                c.updateAAD(aad);
                return c.doFinal(sealed, 3 + NONCE_BYTES, sealed.length - 3 - NONCE_BYTES);
            } catch (GeneralSecurityException e) {
                // another key may share the id (2 bytes); try it
            }
        }
        rejected.increment();
        return null;
    }

    /**
     * Whether {@code sealed} was sealed with a key other than the first (during or after a rotation):
     * worth sealing again, before the old key is retired. False without a secret.
     */
    public boolean sealedWithOlderKey(byte[] sealed) {
        if (!enabled() || sealed == null || sealed.length < OVERHEAD) {
            return false;
        }
        short id = (short) (((sealed[1] & 0xff) << 8) | (sealed[2] & 0xff));
        return id != keys.get(0).id;
    }

    /** Values {@link #open} refused since this instance was made. */
    public long rejected() {
        return rejected.sum();
    }

    /**
     * Associated data from parts (map name, key, ...), each length-prefixed, so {@code ("a", "bc")}
     * and {@code ("ab", "c")} differ.
     */
    public static byte[] aad(String... parts) {
        int size = 0;
        byte[][] encoded = new byte[parts.length][];
        for (int i = 0; i < parts.length; i++) {
            encoded[i] = parts[i].getBytes(StandardCharsets.UTF_8);
            size += 4 + encoded[i].length;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        for (byte[] e : encoded) {
            b.putInt(e.length).put(e);
        }
        return b.array();
    }

    @Override
    public String toString() {
        return enabled() ? "FleetKeys[" + purpose + ", ids " + ids() + "]" : "FleetKeys[none]";
    }

    private static List<Key> derived(List<byte[]> secrets, String purpose) {
        List<Key> out = new ArrayList<>();
        for (byte[] s : secrets) {
            byte[] idBytes = hkdf(s, "flotilla key id", 2);
            short id = (short) (((idBytes[0] & 0xff) << 8) | (idBytes[1] & 0xff));
            out.add(new Key(id, new SecretKeySpec(hkdf(s, "flotilla " + purpose, KEY_BYTES), "AES")));
        }
        return List.copyOf(out);
    }

    /** HKDF-SHA256 (RFC 5869) with an all-zero salt: extract once, expand to {@code length} bytes. */
    static byte[] hkdf(byte[] secret, String info, int length) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(new byte[32], "HmacSHA256"));
            byte[] prk = mac.doFinal(secret);
            mac.init(new SecretKeySpec(prk, "HmacSHA256"));
            byte[] out = new byte[length];
            byte[] t = new byte[0];
            byte[] infoBytes = info.getBytes(StandardCharsets.UTF_8);
            for (int done = 0, i = 1; done < length; i++) {
                mac.update(t);
                mac.update(infoBytes);
                mac.update((byte) i);
                t = mac.doFinal();
                int n = Math.min(t.length, length - done);
                System.arraycopy(t, 0, out, done, n);
                done += n;
            }
            Arrays.fill(prk, (byte) 0);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available in this JVM", e);
        }
    }
}
