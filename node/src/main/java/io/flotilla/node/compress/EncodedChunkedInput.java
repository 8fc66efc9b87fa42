package io.flotilla.node.compress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.stream.ChunkedInput;

/**
 * A body read in chunks (a static file) and encoded on the way: what {@code ChunkedWriteHandler}
 * pulls only while the connection is writable, so a slow client holds one chunk, not the file.
 * Ends with a {@link LastHttpContent} carrying the encoder's last bytes.
 */
public final class EncodedChunkedInput implements ChunkedInput<HttpContent> {
    private final ChunkedInput<ByteBuf> source;
    private final ContentEncoder encoder;
    private boolean ended;
    private long produced;

    public EncodedChunkedInput(ChunkedInput<ByteBuf> source, ContentEncoder encoder) {
        this.source = source;
        this.encoder = encoder;
    }

    @Override
    public boolean isEndOfInput() throws Exception {
        return ended;
    }

    @Override
    public void close() throws Exception {
        encoder.close();
        source.close();
    }

    @Deprecated
    @Override
    public HttpContent readChunk(ChannelHandlerContext ctx) throws Exception {
        return readChunk(ctx.alloc());
    }

    @Override
    public HttpContent readChunk(ByteBufAllocator allocator) throws Exception {
        if (ended) {
            return null;
        }
        HttpContent out;
        if (source.isEndOfInput()) {
            ended = true;
            out = encoder.encode(LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            ByteBuf chunk = source.readChunk(allocator);
            if (chunk == null) {
                return null;
            }
            out = encoder.encode(new DefaultHttpContent(chunk));
        }
        produced += out.content().readableBytes();
        return out;
    }

    @Override
    public long length() {
        return -1;
    }

    @Override
    public long progress() {
        return produced;
    }
}
