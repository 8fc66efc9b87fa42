package io.flotilla.cluster.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One published config document. The store keeps the document opaque: the node validates it
 * before publishing and parses it when it changes.
 *
 * @param version     1 for the first published document, then one more per publish or rollback
 * @param document    the config text as published
 * @param publishedAt epoch millis
 * @param publisher   who published it: the node's name and, for a push, the address it came from
 * @param source      how it arrived: {@code file}, {@code sighup}, {@code push}, {@code rollback}
 */
public record ConfigVersion(long version, String document, long publishedAt, String publisher, String source) {

    /** A source for versions written before sources were recorded. */
    public static final String UNKNOWN_SOURCE = "unknown";

    public ConfigVersion {
        Objects.requireNonNull(document, "document");
        Objects.requireNonNull(publisher, "publisher");
        source = source == null ? UNKNOWN_SOURCE : source;
    }

    public ConfigVersion(long version, String document, long publishedAt, String publisher) {
        this(version, document, publishedAt, publisher, UNKNOWN_SOURCE);
    }

    /** The first 12 hex digits of the document's SHA-256: what tells two texts apart in a listing. */
    public String digest() {
        return digest(document);
    }

    /** As {@link #digest()}, for any text (a file not published yet). */
    public static String digest(String text) {
        try {
            byte[] sum = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sum, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
