package io.flotilla.node.compress;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/** One response's encoder state: bytes in, encoded bytes out at once. Not thread-safe (one event loop). */
interface BodyCodec {
    /**
     * Encodes {@code in} (not released here) and returns what the coding produced for it, flushed so
     * the client can decode it now; with {@code last}, the coding's end too.
     */
    ByteBuf encode(ByteBuf in, boolean last);

    /** Frees the encoder's state (a body cut short); idempotent. */
    void close();

    /** Netty's encoder handler (gzip, brotli) in an {@link EmbeddedChannel}, as {@code HttpContentCompressor} runs it. */
    static BodyCodec netty(ChannelHandler encoder) {
        EmbeddedChannel channel = new EmbeddedChannel(encoder);
        return new BodyCodec() {
            private boolean closed;

            @Override
            public ByteBuf encode(ByteBuf in, boolean last) {
                if (in.isReadable()) {
                    channel.writeOutbound(in.retain());
                }
                if (last) {
                    channel.finish();
                }
                return drain(channel);
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    channel.finishAndReleaseAll();
                }
            }
        };
    }

    private static ByteBuf drain(EmbeddedChannel channel) {
        ByteBuf first = channel.readOutbound();
        if (first == null) {
            return Unpooled.EMPTY_BUFFER;
        }
        ByteBuf next = channel.readOutbound();
        if (next == null) {
            return first;
        }
        CompositeByteBuf all = channel.alloc().compositeBuffer(16);
        all.addComponent(true, first);
        do {
            all.addComponent(true, next);
        } while ((next = channel.readOutbound()) != null);
        return all;
    }

    /**
     * zstd through zstd-jni's streaming compressor (one frame, flushed per part). Netty's
     * {@code ZstdEncoder} (4.2.18) was not used: its flushed output was four times its input.
     */
    static BodyCodec zstd(int level, int windowLog) {
        final class Sink extends OutputStream {
            ByteBuf target;

            @Override
            public void write(int b) {
                if (target != null) {
                    target.writeByte(b);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) {
                if (target != null) {
                    target.writeBytes(b, off, len);
                }
            }
        }
        Sink sink = new Sink();
        ZstdOutputStreamNoFinalizer stream;
        try {
            stream = new ZstdOutputStreamNoFinalizer(sink, level);
            stream.setWindowLog(windowLog);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new BodyCodec() {
            private boolean closed;
            private byte[] scratch;

            @Override
            public ByteBuf encode(ByteBuf in, boolean last) {
                int n = in.readableBytes();
                sink.target = ByteBufAllocator.DEFAULT.buffer(Math.max(64, n / 2 + 64));
                try {
                    if (n > 0) {
                        if (in.hasArray()) {
                            stream.write(in.array(), in.arrayOffset() + in.readerIndex(), n);
                        } else {
                            if (scratch == null || scratch.length < n) {
                                scratch = new byte[Math.max(n, 16384)];
                            }
                            in.getBytes(in.readerIndex(), scratch, 0, n);
                            stream.write(scratch, 0, n);
                        }
                    }
                    if (last) {
                        closed = true;
                        stream.close();
                    } else {
                        stream.flush();
                    }
                    ByteBuf out = sink.target;
                    sink.target = null;
                    return out;
                } catch (IOException e) {
                    sink.target.release();
                    sink.target = null;
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    sink.target = null;
                    try {
                        stream.close();
                    } catch (IOException ignored) {
                        // the body was cut short: nothing of the frame's end goes anywhere
                    }
                }
            }
        };
    }
}
