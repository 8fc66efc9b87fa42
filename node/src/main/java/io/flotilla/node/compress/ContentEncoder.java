package io.flotilla.node.compress;

import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Encodes one response body as it streams: each part in, its encoded bytes out at once (the coding
 * is flushed after every part), so nothing waits for the whole body, and the relay's backpressure
 * (read the origin only while the client can take more) bounds memory as it does without
 * compression. Lives on the exchange's event loop. Every part handed in is released;
 * {@link #close()} frees what a body cut short left inside.
 */
public final class ContentEncoder {
    private final BodyCodec codec;

    ContentEncoder(BodyCodec codec) {
        this.codec = codec;
    }

    /**
     * The encoded form of {@code part} (released here): a {@link LastHttpContent}, with the part's
     * trailers, when it is the last one, and then the encoder is done.
     */
    public HttpContent encode(HttpContent part) {
        boolean last = part instanceof LastHttpContent;
        try {
            if (!last) {
                return new DefaultHttpContent(codec.encode(part.content(), false));
            }
            LastHttpContent end = new DefaultLastHttpContent(codec.encode(part.content(), true));
            end.trailingHeaders().set(((LastHttpContent) part).trailingHeaders());
            codec.close();
            return end;
        } finally {
            part.release();
        }
    }

    /** Ends the encoder, dropping whatever it still held (a body cut short); idempotent. */
    public void close() {
        codec.close();
    }
}
