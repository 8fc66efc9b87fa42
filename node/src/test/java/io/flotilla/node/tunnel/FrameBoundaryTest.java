package io.flotilla.node.tunnel;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/** Frame starts found in streams cut anywhere: short, 16-bit and 64-bit lengths, masked or not. */
class FrameBoundaryTest {
    private static byte[] frame(int payload, boolean masked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x82);
        int mask = masked ? 0x80 : 0;
        if (payload < 126) {
            out.write(mask | payload);
        } else if (payload < 65536) {
            out.write(mask | 126);
            out.write(payload >>> 8);
            out.write(payload & 0xff);
        } else {
            out.write(mask | 127);
            for (int i = 7; i >= 0; i--) {
                out.write((int) ((long) payload >>> (8 * i)) & 0xff);
            }
        }
        if (masked) {
            out.writeBytes(new byte[] {1, 2, 3, 4});
        }
        out.writeBytes(new byte[payload]);
        return out.toByteArray();
    }

    @Test
    void findsTheEndOfEveryFrameWhereverTheStreamIsCut() {
        for (boolean masked : new boolean[] {false, true}) {
            for (int payload : new int[] {0, 5, 125, 126, 300, 65535, 70_000}) {
                byte[] bytes = frame(payload, masked);
                for (int cut : new int[] {1, 2, 3, 7, 1000}) {
                    FrameBoundary boundary = new FrameBoundary();
                    for (int from = 0; from < bytes.length; from += cut) {
                        ByteBuf part = Unpooled.wrappedBuffer(bytes, from, Math.min(cut, bytes.length - from));
                        boundary.feed(part);
                        assertTrue(part.readerIndex() == 0, "fed bytes are not consumed");
                        boolean end = from + part.readableBytes() == bytes.length;
                        assertTrue(
                                boundary.atBoundary() == end,
                                "payload " + payload + " masked " + masked + " cut " + cut + " at " + from);
                    }
                }
            }
        }
    }

    @Test
    void twoFramesInOneRead() {
        FrameBoundary boundary = new FrameBoundary();
        byte[] a = frame(10, true);
        byte[] b = frame(200, true);
        boundary.feed(Unpooled.wrappedBuffer(a, b));
        assertTrue(boundary.atBoundary());
        boundary.feed(Unpooled.wrappedBuffer(a, 0, 3));
        assertFalse(boundary.atBoundary());
    }
}
