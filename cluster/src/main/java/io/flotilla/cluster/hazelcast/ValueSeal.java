package io.flotilla.cluster.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.cluster.security.Outsiders;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Seals the values this member writes to the shared maps and opens what it reads, each bound to its
 * map and key ({@link FleetKeys#aad}), so a value moved to another key does not open either. What
 * does not open is counted and logged in {@link Outsiders} as a forged value, and the caller treats
 * it as absent. Without a fleet secret, values pass through (plain).
 *
 * <p>Entry processors running on a key's owner find the owner's seal in the member's user context
 * ({@link #of(HazelcastInstance)}).
 */
final class ValueSeal {

    static final String CONTEXT_KEY = "flotilla.value-seal";
    private static final String TEXT_PREFIX = "sealed:";

    private final FleetKeys keys;
    private final Outsiders outsiders;

    ValueSeal(FleetKeys keys, Outsiders outsiders) {
        this.keys = keys;
        this.outsiders = outsiders;
    }

    /** Whether values are sealed at all (a fleet with a secret). */
    boolean enabled() {
        return keys.enabled();
    }

    /** The seal of the member {@code hz}, for code running on a key's owner. */
    static ValueSeal of(HazelcastInstance hz) {
        return (ValueSeal) hz.getUserContext().get(CONTEXT_KEY);
    }

    byte[] seal(byte[] plain, String map, String key) {
        return keys.seal(plain, FleetKeys.aad(map, key));
    }

    /** The plain value, or null (counted and logged) if it does not open; null in, null out. */
    byte[] open(byte[] sealed, String map, String key) {
        return open(sealed, map, key, true);
    }

    private byte[] open(byte[] sealed, String map, String key, boolean report) {
        if (sealed == null) {
            return null;
        }
        byte[] plain = keys.open(sealed, FleetKeys.aad(map, key));
        if (plain == null && report) {
            outsiders.refused(
                    Outsiders.Kind.VALUE,
                    map + "/" + key,
                    "the value does not verify with the fleet key (forged, or sealed with a key this node lacks)");
        }
        return plain;
    }

    /** Whether {@code sealed} opened with a key other than the one that seals now (a rotation is under way). */
    boolean sealedWithOlderKey(byte[] sealed) {
        return keys.sealedWithOlderKey(sealed);
    }

    byte[] sealLong(long value, String map, String key) {
        return seal(ByteBuffer.allocate(Long.BYTES).putLong(value).array(), map, key);
    }

    /** The number, or null if the value does not open (or has the wrong size). */
    Long openLong(byte[] sealed, String map, String key) {
        byte[] plain = open(sealed, map, key);
        return plain == null || plain.length != Long.BYTES
                ? null
                : ByteBuffer.wrap(plain).getLong();
    }

    /** Text sealed into text (base64 behind a prefix), for string fields of wire types; plain without a secret. */
    String sealText(String text, String map, String key) {
        if (!keys.enabled()) {
            return text;
        }
        return TEXT_PREFIX + Base64.getEncoder().encodeToString(seal(text.getBytes(StandardCharsets.UTF_8), map, key));
    }

    /** The text, or null (counted and logged) if it was not sealed with a fleet key. */
    String openText(String sealed, String map, String key) {
        return openText(sealed, map, key, true);
    }

    /**
     * The text, or null if it was not sealed with a fleet key; counted and logged only if
     * {@code report} (an old value whose key was retired since is no attack).
     */
    String openText(String sealed, String map, String key, boolean report) {
        if (!keys.enabled()) {
            return sealed;
        }
        byte[] raw = null;
        if (sealed.startsWith(TEXT_PREFIX)) {
            try {
                raw = Base64.getDecoder().decode(sealed.substring(TEXT_PREFIX.length()));
            } catch (IllegalArgumentException e) {
                raw = new byte[0];
            }
        }
        byte[] plain = open(raw == null ? new byte[0] : raw, map, key, report);
        return plain == null ? null : new String(plain, StandardCharsets.UTF_8);
    }
}
