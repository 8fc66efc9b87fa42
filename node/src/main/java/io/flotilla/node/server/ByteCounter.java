package io.flotilla.node.server;

import io.flotilla.node.http.ServerCodec;
import java.util.concurrent.atomic.LongAdder;

/**
 * A listener's byte counts on the client side. Each connection's codec counts its own bytes in plain
 * fields and adds them here once per exchange, so the shared adders are touched twice per request,
 * not on every read and write (and no handler sits in the pipeline for it).
 */
final class ByteCounter implements ServerCodec.ByteSink {
    private final LongAdder received = new LongAdder();
    private final LongAdder sent = new LongAdder();

    @Override
    public void add(long in, long out) {
        if (in != 0) {
            received.add(in);
        }
        if (out != 0) {
            sent.add(out);
        }
    }

    long received() {
        return received.sum();
    }

    long sent() {
        return sent.sum();
    }
}
