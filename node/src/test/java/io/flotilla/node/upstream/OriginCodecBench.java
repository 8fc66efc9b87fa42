package io.flotilla.node.upstream;

import io.flotilla.node.http.StrictResponseDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The upstream codec's cost per exchange (a request head encoded, an NGINX-like 1 KiB response decoded)
 * with Netty's {@code HttpClientCodec} as the node used it (validating header maps) against {@link
 * OriginCodec} (the node's byte scan, maps unvalidated). Not a test: a bounded in-process benchmark
 * (issue 16), run by hand, as docs/benchmarks.md says:
 *
 * <pre>
 * mvn -q -pl node dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp node/target/classes:node/target/test-classes:$(cat /tmp/cp.txt) \
 *     io.flotilla.node.upstream.OriginCodecBench
 * </pre>
 *
 * Bytes allocated per exchange come from the JVM's per-thread counter and do not depend on the
 * machine's load; the time is the thread's CPU time (not wall time, which a busy machine stretches),
 * and still varies with it, so the two codecs alternate, five rounds each, and the best round of
 * each is printed.
 */
public final class OriginCodecBench {
    private static final int OPS = 200_000;
    private static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\n"
                    + "Server: nginx/1.22.1\r\n"
                    + "Date: Thu, 03 Dec 2026 19:00:00 GMT\r\n"
                    + "Content-Type: application/octet-stream\r\n"
                    + "Content-Length: 1024\r\n"
                    + "Last-Modified: Thu, 03 Dec 2026 18:00:00 GMT\r\n"
                    + "Connection: keep-alive\r\n"
                    + "ETag: \"6932e8a0-400\"\r\n"
                    + "Accept-Ranges: bytes\r\n"
                    + "\r\n"
                    + "a".repeat(1024))
            .getBytes(StandardCharsets.US_ASCII);

    private OriginCodecBench() {}

    public static void main(String[] args) {
        HttpDecoderConfig validating = new HttpDecoderConfig()
                .setMaxInitialLineLength(8 * 1024)
                .setMaxHeaderSize(64 * 1024)
                .setMaxChunkSize(64 * 1024)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true);
        HttpDecoderConfig scanned = StrictResponseDecoder.config(8 * 1024, 64 * 1024, 64 * 1024);
        Supplier<ChannelHandler> netty = () -> new HttpClientCodec(validating, false, false);
        Supplier<ChannelHandler> node = () -> new OriginCodec(scanned, 8 * 1024, 64 * 1024);
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
        long[] bytes = new long[2];
        for (int round = 0; round < 5; round++) {
            for (int which = 0; which < 2; which++) {
                long[] result = run(which == 0 ? netty : node);
                best[which] = Math.min(best[which], (double) result[0] / OPS);
                bytes[which] = result[1] / OPS;
            }
        }
        System.out.printf(
                "HttpClientCodec (validating maps): %6.0f ns of CPU, %5d bytes per exchange%n", best[0], bytes[0]);
        System.out.printf(
                "OriginCodec (scanned heads):       %6.0f ns of CPU, %5d bytes per exchange%n", best[1], bytes[1]);
    }

    /** CPU nanoseconds and bytes allocated for OPS exchanges on one connection. */
    private static long[] run(Supplier<ChannelHandler> codec) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        EmbeddedChannel ch = new EmbeddedChannel(codec.get());
        ByteBuf response = Unpooled.wrappedBuffer(RESPONSE);
        long bytesBefore = threads.getCurrentThreadAllocatedBytes();
        long start = threads.getCurrentThreadCpuTime();
        int bodies = 0;
        for (int i = 0; i < OPS; i++) {
            DefaultHttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/small");
            request.headers().set(HttpHeaderNames.HOST, "127.0.0.1:21000");
            ch.writeOutbound(request, LastHttpContent.EMPTY_LAST_CONTENT);
            Object out;
            while ((out = ch.readOutbound()) != null) {
                ReferenceCountUtil.release(out);
            }
            ch.writeInbound(response.retainedDuplicate());
            Object in;
            while ((in = ch.readInbound()) != null) {
                if (in instanceof LastHttpContent) {
                    bodies++;
                }
                ReferenceCountUtil.release(in);
            }
        }
        long nanos = threads.getCurrentThreadCpuTime() - start;
        long allocated = threads.getCurrentThreadAllocatedBytes() - bytesBefore;
        response.release();
        ch.finishAndReleaseAll();
        if (bodies != OPS) {
            throw new IllegalStateException(bodies + " responses decoded of " + OPS);
        }
        return new long[] {nanos, allocated};
    }
}
