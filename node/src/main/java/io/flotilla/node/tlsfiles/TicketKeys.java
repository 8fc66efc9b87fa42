package io.flotilla.node.tlsfiles;

import io.flotilla.cluster.security.FleetKeys;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Session-ticket keys as written in config or a key file: base64 of 48 bytes each (16 key name,
 * 16 HMAC key, 16 AES key, the layout NGINX's {@code ssl_session_ticket_key} uses), first the one that
 * encrypts new tickets, then older ones still accepted.
 */
public final class TicketKeys {
    public static final int KEY_BYTES = 48;

    private TicketKeys() {}

    /** Decodes keys; a problem names the key by its position. */
    public static List<byte[]> decode(List<String> encoded) {
        if (encoded.isEmpty()) {
            throw new IllegalArgumentException("no session ticket key (make one with: openssl rand -base64 48)");
        }
        List<byte[]> keys = new ArrayList<>();
        for (String text : encoded) {
            byte[] key;
            try {
                key = Base64.getDecoder().decode(text.trim());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("key " + (keys.size() + 1) + " is not base64");
            }
            if (key.length != KEY_BYTES) {
                throw new IllegalArgumentException("key " + (keys.size() + 1) + " has " + key.length + " bytes, not "
                        + KEY_BYTES + " (make one with: openssl rand -base64 48)");
            }
            keys.add(key);
        }
        return keys;
    }

    /** The keys in a key file: one per line, blank lines and {@code #} comments ignored (the fleet key file's format). */
    public static List<String> lines(Path file) {
        return FleetKeys.lines(file);
    }
}
