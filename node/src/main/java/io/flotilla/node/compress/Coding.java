package io.flotilla.node.compress;

import com.aayushatharva.brotli4j.encoder.Encoder;
import io.flotilla.node.config.CompressionConfig;
import io.netty.handler.codec.compression.Brotli;
import io.netty.handler.codec.compression.BrotliEncoder;
import io.netty.handler.codec.compression.Zstd;

/** A content coding (RFC 9110 §8.4.1) this node can apply, and how to make its streaming encoder. */
public enum Coding {
    BR("br"),
    ZSTD("zstd"),
    GZIP("gzip"),
    /** No coding: the response goes as the origin sent it. */
    IDENTITY("identity");

    /**
     * Brotli's window as log2 of its size: 2^18 = 256 KiB instead of the library's 4 MiB, so a
     * response being encoded holds at most a few hundred KiB whatever its length; web assets rarely
     * repeat at greater distances.
     */
    static final int BROTLI_WINDOW = 18;
    /** zstd's window, likewise (its level 3 default is 2 MiB). */
    static final int ZSTD_WINDOW = 18;

    private final String token;

    Coding(String token) {
        this.token = token;
    }

    /** The name in Accept-Encoding and Content-Encoding. */
    public String token() {
        return token;
    }

    /** The coding named {@code token} (case-insensitive; {@code x-gzip} is gzip, RFC 9110 §8.4.1.3), or null. */
    static Coding of(String token) {
        for (Coding c : values()) {
            if (c.token.equalsIgnoreCase(token)) {
                return c;
            }
        }
        return "x-gzip".equalsIgnoreCase(token) ? GZIP : null;
    }

    /** Whether this build can encode it here (brotli and zstd need their native libraries). */
    boolean available() {
        return switch (this) {
            case BR -> Brotli.isAvailable();
            case ZSTD -> Zstd.isAvailable();
            default -> true;
        };
    }

    /**
     * A new encoder for one response: Netty's, streaming, at the configured level. Only for an
     * {@link #available()} coding (which also loads the native library).
     */
    BodyCodec newEncoder(CompressionConfig config) {
        if (!available()) {
            throw new IllegalStateException(token + " is not available here");
        }
        return switch (this) {
            case BR ->
                BodyCodec.netty(new BrotliEncoder(
                        new Encoder.Parameters()
                                .setQuality(config.brotliLevel())
                                .setWindow(BROTLI_WINDOW)
                                .setMode(Encoder.Mode.TEXT),
                        false));
            case ZSTD -> BodyCodec.zstd(config.zstdLevel(), ZSTD_WINDOW);
            case GZIP -> BodyCodec.gzip(config.gzipLevel());
            case IDENTITY -> throw new IllegalStateException("identity has no encoder");
        };
    }
}
