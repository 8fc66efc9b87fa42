package io.flotilla.node.config;

import java.time.Duration;
import java.util.Optional;

/**
 * HTTP/2 to clients on one listener ({@code docs/http2.md}): whether it is offered, and the limits that
 * keep one connection from costing the node more than its share. The defaults are NGINX's and
 * Netty's where those are the safe ones (issue 15).
 *
 * @param enabled               offer {@code h2} by ALPN on a TLS listener ({@code http2}, default true)
 * @param cleartext             on a plain listener, accept HTTP/2 with prior knowledge (h2c) beside HTTP/1.1
 *                              ({@code h2c}, default false)
 * @param maxConcurrentStreams  SETTINGS_MAX_CONCURRENT_STREAMS; a stream over it is refused (REFUSED_STREAM)
 * @param initialStreamWindow   SETTINGS_INITIAL_WINDOW_SIZE: request body bytes a client may send on a
 *                              stream before the proxy reads them, so also what one stream may buffer
 * @param maxFrameSize          SETTINGS_MAX_FRAME_SIZE
 * @param maxResets             RST_STREAM frames a client may send (or make the node send) per
 *                              {@code resetWindow} before GOAWAY ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487)
 * @param resetWindow           the window of {@code maxResets}
 * @param maxControlFramesPerSecond SETTINGS, PING, PRIORITY and WINDOW_UPDATE frames a client may send in
 *                              one second before GOAWAY ENHANCE_YOUR_CALM
 * @param maxQueuedControlFrames acknowledgements and resets waiting for a client that does not read,
 *                              before the connection is closed
 * @param maxEmptyFrames        consecutive DATA frames without payload or end of stream before GOAWAY
 * @param maxSmallContinuations CONTINUATION frames smaller than 8 KiB in one header block before GOAWAY
 *                              (CVE-2024-27316 and its kin)
 */
public record Http2Config(
        boolean enabled,
        boolean cleartext,
        int maxConcurrentStreams,
        int initialStreamWindow,
        int maxFrameSize,
        int maxResets,
        Duration resetWindow,
        int maxControlFramesPerSecond,
        int maxQueuedControlFrames,
        int maxEmptyFrames,
        int maxSmallContinuations) {
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 128;
    public static final int DEFAULT_INITIAL_STREAM_WINDOW = 64 * 1024;
    public static final int DEFAULT_MAX_FRAME_SIZE = 16 * 1024;
    public static final int DEFAULT_MAX_RESETS = 200;
    public static final Duration DEFAULT_RESET_WINDOW = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_CONTROL_FRAMES_PER_SECOND = 10_000;
    public static final int DEFAULT_MAX_QUEUED_CONTROL_FRAMES = 10_000;
    public static final int DEFAULT_MAX_EMPTY_FRAMES = 2;
    public static final int DEFAULT_MAX_SMALL_CONTINUATIONS = 16;

    /** HTTP/2 offered on TLS (by ALPN), no h2c, default limits. */
    public static Http2Config defaults() {
        return new Http2Config(
                true,
                false,
                DEFAULT_MAX_CONCURRENT_STREAMS,
                DEFAULT_INITIAL_STREAM_WINDOW,
                DEFAULT_MAX_FRAME_SIZE,
                DEFAULT_MAX_RESETS,
                DEFAULT_RESET_WINDOW,
                DEFAULT_MAX_CONTROL_FRAMES_PER_SECOND,
                DEFAULT_MAX_QUEUED_CONTROL_FRAMES,
                DEFAULT_MAX_EMPTY_FRAMES,
                DEFAULT_MAX_SMALL_CONTINUATIONS);
    }

    /** Whether connections of a listener with or without TLS may speak HTTP/2. */
    public boolean offeredOn(boolean tls) {
        return tls ? enabled : enabled && cleartext;
    }

    /**
     * Reads {@code http2}, {@code h2c} and {@code http2_limits} of one listener.
     *
     * @param tls whether the listener has TLS (h2c belongs on plain listeners)
     */
    static Http2Config parse(YamlMap listener, boolean tls) throws ConfigException {
        boolean enabled = listener.bool("http2", true);
        boolean cleartext = listener.bool("h2c", false);
        if (cleartext && tls) {
            throw listener.required("h2c")
                    .error("h2c is HTTP/2 without TLS; this listener has tls, where "
                            + "clients ask for h2 by ALPN (http2: true)");
        }
        if (cleartext && !enabled) {
            throw listener.required("h2c").error("h2c: true with http2: false; say which one is meant");
        }
        Optional<YamlNode> section = listener.get("http2_limits");
        if (section.isEmpty() || section.get().isNull()) {
            Http2Config d = defaults();
            return new Http2Config(
                    enabled,
                    cleartext,
                    d.maxConcurrentStreams,
                    d.initialStreamWindow,
                    d.maxFrameSize,
                    d.maxResets,
                    d.resetWindow,
                    d.maxControlFramesPerSecond,
                    d.maxQueuedControlFrames,
                    d.maxEmptyFrames,
                    d.maxSmallContinuations);
        }
        YamlMap m = section.get()
                .asMap()
                .allowOnly(
                        "max_concurrent_streams",
                        "initial_stream_window",
                        "max_frame_size",
                        "max_resets",
                        "reset_window",
                        "max_control_frames_per_second",
                        "max_queued_control_frames",
                        "max_empty_frames",
                        "max_small_continuations");
        return new Http2Config(
                enabled,
                cleartext,
                m.integer("max_concurrent_streams", DEFAULT_MAX_CONCURRENT_STREAMS, 1, 1 << 20),
                // RFC 9113 §6.5.2: the window and frame size have protocol bounds of their own.
                (int) m.size("initial_stream_window", DEFAULT_INITIAL_STREAM_WINDOW, 1024, Integer.MAX_VALUE),
                (int) m.size("max_frame_size", DEFAULT_MAX_FRAME_SIZE, 16 * 1024, (1 << 24) - 1),
                m.integer("max_resets", DEFAULT_MAX_RESETS, 1, Integer.MAX_VALUE),
                m.positiveDuration("reset_window", DEFAULT_RESET_WINDOW),
                m.integer(
                        "max_control_frames_per_second", DEFAULT_MAX_CONTROL_FRAMES_PER_SECOND, 10, Integer.MAX_VALUE),
                m.integer("max_queued_control_frames", DEFAULT_MAX_QUEUED_CONTROL_FRAMES, 10, Integer.MAX_VALUE),
                m.integer("max_empty_frames", DEFAULT_MAX_EMPTY_FRAMES, 1, Integer.MAX_VALUE),
                m.integer("max_small_continuations", DEFAULT_MAX_SMALL_CONTINUATIONS, 1, Integer.MAX_VALUE));
    }
}
