package io.flotilla.node.accesslog;

import io.flotilla.node.config.NodeSettings;
import io.netty.util.internal.PlatformDependent;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The access log: event loops hand records to a lock-free bounded queue and one writer thread formats
 * and writes them, so the event loop never waits on a disk. When the queue is full (the disk cannot
 * keep up), records are dropped and counted rather than slowing the proxy.
 */
public final class AccessLog implements AutoCloseable {
    private static final int CAPACITY = 64 * 1024;
    private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_INSTANT;
    private static final DateTimeFormatter CLF =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

    private final Queue<AccessRecord> queue = PlatformDependent.newFixedMpscQueue(CAPACITY);
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final boolean json;
    private final Writer out;
    private final Thread writer;
    private volatile boolean running = true;

    private AccessLog(Writer out, boolean json) {
        this.out = out;
        this.json = json;
        this.writer = new Thread(this::drainLoop, "flotilla-access-log");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Opens the log the settings describe: a file (appended to) or {@code -} for standard output. */
    public static AccessLog open(NodeSettings.AccessLogConfig config) throws IOException {
        Writer out = config.path().equals("-")
                ? new OutputStreamWriter(System.out, StandardCharsets.UTF_8)
                : Files.newBufferedWriter(
                        Path.of(config.path()),
                        StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND,
                        StandardOpenOption.WRITE);
        return new AccessLog(
                new BufferedWriter(out, 64 * 1024), NodeSettings.AccessLogConfig.JSON.equals(config.format()));
    }

    /** Never blocks: a full queue drops the record and counts it. */
    public void log(AccessRecord record) {
        if (!queue.offer(record)) {
            dropped.incrementAndGet();
        }
    }

    public long dropped() {
        return dropped.get();
    }

    public long written() {
        return written.get();
    }

    private void drainLoop() {
        StringBuilder line = new StringBuilder(512);
        while (running || !queue.isEmpty()) {
            AccessRecord record = queue.poll();
            if (record == null) {
                try {
                    out.flush();
                } catch (IOException e) {
                    // a full or gone disk: keep the proxy running; the counters show the gap
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                continue;
            }
            line.setLength(0);
            if (json) {
                formatJson(record, line);
            } else {
                formatCombined(record, line);
            }
            try {
                out.write(line.append('\n').toString());
                written.incrementAndGet();
            } catch (IOException e) {
                dropped.incrementAndGet();
            }
        }
        try {
            out.flush();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** The formatted second of the last record: consecutive records mostly share it. */
    private long cachedSecond = Long.MIN_VALUE;

    private String cachedPrefix;

    private void appendIsoTime(StringBuilder b, long millis) {
        long second = Math.floorDiv(millis, 1000);
        if (second != cachedSecond) {
            String full = ISO.format(Instant.ofEpochSecond(second)); // "2026-11-23T13:24:39Z"
            cachedPrefix = full.substring(0, full.length() - 1) + ".";
            cachedSecond = second;
        }
        int ms = (int) Math.floorMod(millis, 1000);
        b.append(cachedPrefix)
                .append((char) ('0' + ms / 100))
                .append((char) ('0' + ms / 10 % 10))
                .append((char) ('0' + ms % 10))
                .append('Z');
    }

    /** Milliseconds with three decimals, without String.format (which costs more than the rest of a line). */
    static void appendMillis(StringBuilder b, long nanos) {
        long micros = Math.max(0, nanos / 1000);
        b.append(micros / 1000).append('.');
        long frac = micros % 1000;
        b.append((char) ('0' + frac / 100))
                .append((char) ('0' + frac / 10 % 10))
                .append((char) ('0' + frac % 10));
    }

    void formatJson(AccessRecord r, StringBuilder b) {
        b.append("{\"time\":\"");
        appendIsoTime(b, r.startMillis());
        b.append('"');
        field(b, "request_id", r.requestId());
        field(b, "client", r.client());
        field(b, "method", r.method());
        field(b, "target", r.target());
        field(b, "version", r.version());
        field(b, "host", r.host());
        b.append(",\"status\":").append(r.status());
        b.append(",\"request_bytes\":").append(r.requestBytes());
        b.append(",\"response_bytes\":").append(r.responseBytes());
        b.append(",\"duration_ms\":");
        appendMillis(b, r.durationNanos());
        field(b, "route", r.route());
        field(b, "upstream", r.upstream());
        if (r.upstreamNanos() >= 0) {
            b.append(",\"upstream_ms\":");
            appendMillis(b, r.upstreamNanos());
        }
        field(b, "user_agent", r.userAgent());
        field(b, "referer", r.referer());
        b.append('}');
    }

    private static void field(StringBuilder b, String name, String value) {
        if (value == null) {
            return;
        }
        b.append(",\"").append(name).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /** NGINX's combined format, with request id, duration, route and upstream appended. */
    static void formatCombined(AccessRecord r, StringBuilder b) {
        b.append(r.client())
                .append(" - - [")
                .append(CLF.format(Instant.ofEpochMilli(r.startMillis())))
                .append("] \"")
                .append(clean(r.method()))
                .append(' ')
                .append(clean(r.target()))
                .append(' ')
                .append(r.version())
                .append("\" ")
                .append(r.status())
                .append(' ')
                .append(r.responseBytes())
                .append(" \"")
                .append(r.referer() == null ? "-" : clean(r.referer()))
                .append("\" \"")
                .append(r.userAgent() == null ? "-" : clean(r.userAgent()))
                .append("\" ")
                .append(r.requestId() == null ? "-" : r.requestId())
                .append(' ');
        appendMillis(b, r.durationNanos() / 1000); // seconds with three decimals, as NGINX's $request_time
        b.append(' ').append(r.route()).append(' ').append(r.upstream());
    }

    private static String clean(String s) {
        return s.replace("\"", "\\\"");
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        writer.join(5000);
    }
}
