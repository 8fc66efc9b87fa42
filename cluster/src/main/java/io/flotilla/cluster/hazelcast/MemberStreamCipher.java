package io.flotilla.cluster.hazelcast;

import com.hazelcast.internal.networking.HandlerStatus;
import com.hazelcast.internal.networking.InboundHandler;
import com.hazelcast.internal.networking.OutboundHandler;
import io.flotilla.cluster.security.RecordCipher;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;

/**
 * The two ends of a member connection's encryption, as Hazelcast channel handlers: {@link Decoder}
 * first in the inbound pipeline (bytes from the socket, records in, plain bytes to Hazelcast's own
 * decoders), {@link Encoder} last in the outbound one (Hazelcast's bytes in, records to the socket).
 * A record is {@code length(4) | AES-GCM ciphertext and tag}, at most {@link RecordCipher#MAX_PLAIN}
 * plain bytes. Buffers follow Hazelcast's conventions: an inbound handler's source is in write mode
 * between calls, an outbound handler's destination in read mode.
 */
final class MemberStreamCipher {

    private static final int MAX_RECORD = RecordCipher.MAX_PLAIN + RecordCipher.TAG_BYTES;
    /** Records sealed by every encoder in this JVM: tests check that member traffic went through here. */
    static final LongAdder SEALED = new LongAdder();

    private static final int BUFFER_BYTES = 4 * (MAX_RECORD + Integer.BYTES);

    private MemberStreamCipher() {}

    /** Opens records from the socket and passes their bytes on; a record that does not open closes the connection. */
    static final class Decoder extends InboundHandler<ByteBuffer, ByteBuffer> {
        private final RecordCipher cipher;
        private ByteBuffer pending; // opened bytes the next handler had no room for yet, read mode

        Decoder(RecordCipher cipher) {
            this.cipher = cipher;
        }

        @Override
        public void handlerAdded() {
            initSrcBuffer(BUFFER_BYTES); // must hold a whole record
        }

        @Override
        public HandlerStatus onRead() throws Exception {
            src.flip();
            try {
                while (true) {
                    if (pending != null && !moveAll(pending, dst)) {
                        return HandlerStatus.DIRTY; // the rest when the other side has room
                    }
                    pending = null;
                    if (src.remaining() < Integer.BYTES) {
                        return HandlerStatus.CLEAN;
                    }
                    int length = src.getInt(src.position());
                    if (length < RecordCipher.TAG_BYTES || length > MAX_RECORD) {
                        throw new IOException("flotilla: a member connection sent a record of " + length + " bytes");
                    }
                    if (src.remaining() < Integer.BYTES + length) {
                        return HandlerStatus.CLEAN;
                    }
                    src.getInt();
                    byte[] sealed = new byte[length];
                    src.get(sealed);
                    pending = ByteBuffer.wrap(cipher.open(sealed, 0, length));
                }
            } finally {
                compactOrClear(src);
            }
        }
    }

    /** Seals what Hazelcast writes into records for the socket. */
    static final class Encoder extends OutboundHandler<ByteBuffer, ByteBuffer> {
        private final RecordCipher cipher;
        private ByteBuffer pending; // a sealed record the socket buffer had no room for yet, read mode

        Encoder(RecordCipher cipher) {
            this.cipher = cipher;
        }

        @Override
        public void handlerAdded() {
            initDstBuffer(BUFFER_BYTES);
        }

        @Override
        public HandlerStatus onWrite() {
            compactOrClear(dst);
            try {
                while (true) {
                    if (pending != null && !moveAll(pending, dst)) {
                        return HandlerStatus.DIRTY; // the rest when the other side has room
                    }
                    pending = null;
                    if (src == null || !src.hasRemaining()) {
                        return HandlerStatus.CLEAN;
                    }
                    int n = Math.min(src.remaining(), RecordCipher.MAX_PLAIN);
                    byte[] plain = new byte[n];
                    src.get(plain);
                    byte[] sealed = cipher.seal(plain, 0, n);
                    SEALED.increment();
                    pending = ByteBuffer.allocate(Integer.BYTES + sealed.length)
                            .putInt(sealed.length)
                            .put(sealed)
                            .flip();
                }
            } finally {
                dst.flip();
            }
        }
    }

    /** Copies as much of {@code from} (read mode) as fits into {@code to} (write mode); true if all of it. */
    private static boolean moveAll(ByteBuffer from, ByteBuffer to) {
        int n = Math.min(from.remaining(), to.remaining());
        ByteBuffer part = from.slice();
        part.limit(n);
        to.put(part);
        from.position(from.position() + n);
        return !from.hasRemaining();
    }

    private static void compactOrClear(ByteBuffer b) {
        if (b.hasRemaining()) {
            b.compact();
        } else {
            b.clear();
        }
    }
}
