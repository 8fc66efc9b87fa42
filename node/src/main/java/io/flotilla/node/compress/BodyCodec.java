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
import java.util.ArrayDeque;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

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
     * gzip (RFC 1952) on the JDK's {@link Deflater}, one per event loop thread reused across
     * responses ({@code reset()}, not a new zlib stream each time: its set-up and 256 KiB of state
     * were most of a small response's cost through Netty's {@code JdkZlibEncoder}). Each part is
     * deflated with SYNC_FLUSH, so what arrived can be decoded at once.
     */
    static BodyCodec gzip(int level) {
        return new GzipCodec(level);
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

    /** See {@link BodyCodec#gzip}. */
    final class GzipCodec implements BodyCodec {
        /** Idle deflaters of this thread, by level; a handful at most (one per concurrent response is not kept). */
        private static final ThreadLocal<ArrayDeque<Deflater>[]> IDLE = ThreadLocal.withInitial(() -> {
            @SuppressWarnings("unchecked")
            ArrayDeque<Deflater>[] byLevel = new ArrayDeque[10];
            return byLevel;
        });

        private static final int KEEP_IDLE = 8;
        private static final byte[] HEADER = {0x1f, (byte) 0x8b, Deflater.DEFLATED, 0, 0, 0, 0, 0, 0, (byte) 0xff};

        private final int level;
        private final CRC32 crc = new CRC32();
        private Deflater deflater;
        private long length;
        private boolean started;

        GzipCodec(int level) {
            this.level = level;
            ArrayDeque<Deflater>[] idle = IDLE.get();
            Deflater reused = idle[level] == null ? null : idle[level].poll();
            this.deflater = reused != null ? reused : new Deflater(level, true);
        }

        @Override
        public ByteBuf encode(ByteBuf in, boolean last) {
            int n = in.readableBytes();
            ByteBuf out = ByteBufAllocator.DEFAULT.heapBuffer(n / 2 + 64 + (started ? 0 : HEADER.length));
            if (!started) {
                started = true;
                out.writeBytes(HEADER);
            }
            if (n > 0) {
                java.nio.ByteBuffer input = in.nioBuffer(in.readerIndex(), n);
                crc.update(input.duplicate());
                length += n;
                deflater.setInput(input);
                deflate(out, Deflater.NO_FLUSH);
            }
            if (last) {
                deflater.finish();
                deflate(out, Deflater.NO_FLUSH);
                int sum = (int) crc.getValue();
                out.writeIntLE(sum);
                out.writeIntLE((int) length);
                close();
            } else {
                deflate(out, Deflater.SYNC_FLUSH);
            }
            return out;
        }

        /** Deflates what is set as input (with {@code flush}) into {@code out}, growing it as needed. */
        private void deflate(ByteBuf out, int flush) {
            while (true) {
                if (out.writableBytes() < 64) {
                    out.ensureWritable(Math.max(256, out.capacity() / 2));
                }
                int before = out.writerIndex();
                int written = deflater.deflate(out.array(), out.arrayOffset() + before, out.writableBytes(), flush);
                out.writerIndex(before + written);
                boolean full = out.writableBytes() == 0;
                if (deflater.finished() || (!full && deflater.needsInput())) {
                    return;
                }
            }
        }

        @Override
        public void close() {
            if (deflater == null) {
                return;
            }
            Deflater done = deflater;
            deflater = null;
            ArrayDeque<Deflater>[] idle = IDLE.get();
            if (idle[level] == null) {
                idle[level] = new ArrayDeque<>(KEEP_IDLE);
            }
            if (idle[level].size() < KEEP_IDLE) {
                done.reset();
                idle[level].push(done);
            } else {
                done.end();
            }
        }
    }
}
