package io.flotilla.node.tunnel;

import io.netty.buffer.ByteBuf;

/**
 * Follows one direction of a WebSocket byte stream just far enough to know where its frames start
 * (RFC 6455 §5.2: a 2-byte head, a 2- or 8-byte extended length, a 4-byte mask key, then the payload),
 * so the proxy can put a close frame of its own between two frames. Payloads are skipped, never read;
 * extensions do not change this framing.
 */
final class FrameBoundary {
    private final byte[] head = new byte[14];
    private int headHave;
    private int headNeed = 2;
    private long payloadLeft;

    /** Takes note of {@code bytes} (not consumed) as the next part of the stream. */
    void feed(ByteBuf bytes) {
        int i = bytes.readerIndex();
        int end = bytes.writerIndex();
        while (i < end) {
            if (payloadLeft > 0) {
                int skip = (int) Math.min(payloadLeft, end - i);
                i += skip;
                payloadLeft -= skip;
                continue;
            }
            head[headHave++] = bytes.getByte(i++);
            if (headHave == 2) {
                int length7 = head[1] & 0x7f;
                headNeed = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + ((head[1] & 0x80) != 0 ? 4 : 0);
            }
            if (headHave >= 2 && headHave == headNeed) {
                payloadLeft = payloadLength();
                headHave = 0;
                headNeed = 2;
            }
        }
    }

    /** Whether the stream so far ends exactly at the end of a frame. */
    boolean atBoundary() {
        return headHave == 0 && payloadLeft == 0;
    }

    private long payloadLength() {
        int length7 = head[1] & 0x7f;
        if (length7 < 126) {
            return length7;
        }
        int bytes = length7 == 126 ? 2 : 8;
        long length = 0;
        for (int i = 0; i < bytes; i++) {
            length = (length << 8) | (head[2 + i] & 0xff);
        }
        return length & Long.MAX_VALUE;
    }
}
