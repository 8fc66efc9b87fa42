package io.flotilla.node.server;

import com.codahale.metrics.Counter;
import io.flotilla.node.config.Http2Config;
import io.flotilla.node.config.LimitConfig;
import io.flotilla.node.config.ListenerConfig;
import io.flotilla.node.http.Http2StreamCodec;
import io.flotilla.node.http.ServerCodec;
import io.flotilla.node.proxy.ProxyHandler;
import io.flotilla.node.proxy.ProxyRuntime;
import io.flotilla.node.proxy.ProxyServices;
import io.flotilla.node.tls.ServerTls;
import io.flotilla.node.upstream.ConnectionPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Builds every client connection's pipeline, in one place, top to bottom:
 * <ol>
 *   <li>{@code proxy-protocol}: {@link ProxyProtocolGate}, only on listeners with {@code proxy_protocol}</li>
 *   <li>{@code tls}: on TLS listeners, the {@code SslHandler}; with several certificates, first an SNI
 *       handler that reads the ClientHello, picks the certificate and replaces itself with the
 *       {@code SslHandler} ({@link ServerTls})</li>
 *   <li>{@code alpn}: on TLS listeners that offer HTTP/2, {@link AlpnSwitch}, which adds the rest of
 *       the pipeline for the protocol the handshake agreed on, then removes itself</li>
 *   <li>{@code http-encoder}, {@code http-decoder}: {@link ServerCodec}, the strict HTTP/1.1 decoder
 *       with size limits, and the response encoder; on a plain listener with {@code h2c}, first
 *       {@code h2c-preface} ({@link PrefaceSniffer}), which turns the connection to HTTP/2 if it starts so</li>
 *   <li>{@code proxy}: {@link ProxyHandler}, which routes, answers or forwards, one request at a time</li>
 * </ol>
 * An HTTP/2 connection has instead {@code h2-guard} ({@link Http2FloodGuard}), {@code h2-frames}
 * (Netty's frame codec), {@code h2-streams} (the multiplexer) and {@code h2-connection}
 * ({@link Http2ConnectionWatch}); each stream is a channel of its own whose pipeline is
 * {@code h2-stream} ({@link Http2StreamCodec}) and {@code proxy}, the same {@link ProxyHandler}.
 * It also holds the listener's connection count: at the limit the listener stops accepting, and the
 * kernel's backlog holds new clients until a connection closes, as HAProxy's {@code maxconn} does.
 *
 * <p>One instance serves every connection of a listener. It is not a Netty {@code ChannelInitializer},
 * which also records each channel in a concurrent set while it runs: with a connection per request
 * (HTTP/1.0 clients, {@code Connection: close}, L4 health checks) everything done per accept counts,
 * so it builds the pipeline in {@code handlerAdded} (the channel is registered by then) and removes
 * itself, and the decoder settings are built once per set of limits, not per connection (issue 16).
 */
@ChannelHandler.Sharable
final class FrontendInitializer extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(FrontendInitializer.class.getName());
    private static final AsciiString STRICT_TRANSPORT_SECURITY = AsciiString.cached("strict-transport-security");

    /** The decoder settings built for one set of limits; replaced when a reload brings new limits. */
    private record Decoding(LimitConfig limits, HttpDecoderConfig config) {}

    private final Supplier<ProxyRuntime> runtimes;
    private final ProxyServices services;
    private final Map<EventLoop, ConnectionPool> pools;
    private final ListenerConfig listener;
    private final ServerTls tls;
    private final int maxConnections;
    private final AtomicInteger open = new AtomicInteger();
    private final ByteCounter bytes = new ByteCounter();
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private volatile Channel serverChannel;
    private volatile Decoding decoding;
    private final Counter http1Connections;
    private final Counter http2Streams;

    FrontendInitializer(
            Supplier<ProxyRuntime> runtimes,
            ProxyServices services,
            Map<EventLoop, ConnectionPool> pools,
            ListenerConfig listener,
            ServerTls tls) {
        this.runtimes = runtimes;
        this.services = services;
        this.pools = pools;
        this.listener = listener;
        this.tls = tls;
        this.maxConnections = listener.maxConnections();
        this.http1Connections = services.metrics().counter("flotilla.client.connections.http1");
        this.http2Streams = services.metrics().counter("flotilla.http2.streams");
    }

    ByteCounter bytes() {
        return bytes;
    }

    /** Added to every accepted channel: said here so that adding it skips Netty's per-class lookup. */
    @Override
    public boolean isSharable() {
        return true;
    }

    /** Every open client connection of this listener (for drain). */
    ChannelGroup connections() {
        return connections;
    }

    void serverChannel(Channel channel) {
        this.serverChannel = channel;
    }

    int openConnections() {
        return open.get();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        try {
            initChannel(ctx.channel());
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "could not set up a client connection; closing it", t);
            ctx.close();
        } finally {
            if (!ctx.isRemoved()) {
                ctx.pipeline().remove(this);
            }
        }
    }

    private HttpDecoderConfig decoderConfig(LimitConfig limits) {
        Decoding current = decoding;
        if (current == null || current.limits() != limits) {
            // Racing event loops may each build one once; any of them is right for these limits.
            current = new Decoding(limits, ServerCodec.decoderConfig(limits.requestLine(), limits.headersTotal()));
            decoding = current;
        }
        return current.config();
    }

    private void initChannel(Channel ch) {
        if (open.incrementAndGet() >= maxConnections && serverChannel != null) {
            serverChannel.config().setAutoRead(false);
        }
        ch.closeFuture().addListener(f -> {
            if (open.decrementAndGet() < maxConnections
                    && serverChannel != null
                    && !serverChannel.config().isAutoRead()) {
                serverChannel.config().setAutoRead(true);
            }
        });
        connections.add(ch);
        if (listener.proxyProtocol()) {
            ch.pipeline().addLast("proxy-protocol", new ProxyProtocolGate(listener.trustedProxies()));
        }
        if (tls != null) {
            // The ClientHello must come within client_header too; ProxyHandler's watch covers the rest.
            ch.pipeline()
                    .addLast(
                            "tls",
                            tls.newHandler(
                                    ch.alloc(),
                                    runtimes.get().timeouts().clientHeader().toMillis()));
            if (listener.speaksHttp2()) {
                ch.pipeline().addLast("alpn", new AlpnSwitch(this)); // the rest once ALPN has chosen
                return;
            }
        }
        installHttp1(ch);
        if (listener.speaksHttp2()) {
            ch.pipeline().addBefore("http-decoder", "h2c-preface", new PrefaceSniffer(this));
        } else {
            countHttp1();
        }
    }

    /** The HTTP/1.1 handlers: the codec, then the proxy handler, which serves one request at a time. */
    void installHttp1(Channel ch) {
        LimitConfig limits = runtimes.get().limits();
        ServerCodec codec = new ServerCodec(
                        decoderConfig(limits), limits.requestLine(), limits.headerLine(), limits.headerCount())
                .countInto(bytes);
        if (tls != null) {
            tls.hsts().ifPresent(value -> codec.stampResponses(STRICT_TRANSPORT_SECURITY, value));
        }
        ch.pipeline()
                .addLast("http-encoder", codec.encoder())
                .addLast("http-decoder", codec.decoder())
                .addLast(
                        "proxy",
                        new ProxyHandler(
                                runtimes,
                                services,
                                codec,
                                pools.get(ch.eventLoop()),
                                scheme(),
                                listener.redirectHttps().orElse(null)));
    }

    /** Counts a connection that speaks HTTP/1.1 (a plain listener's, or one that did not choose h2). */
    void countHttp1() {
        http1Connections.inc();
    }

    /**
     * The HTTP/2 handlers ({@code docs/http2.md}): the flood guard, Netty's frame codec with the
     * listener's limits, the stream multiplexer, and the connection's watch. Each stream is a child
     * channel of its own, set up by {@link #initStream}. The connection reads on its own from here:
     * flow control, not reading, is what bounds what each stream may send (RFC 9113 §5.2).
     */
    void installHttp2(Channel ch, String protocol) {
        ProxyRuntime runtime = runtimes.get();
        Http2Config h2 = listener.http2();
        // RFC 8441: WebSocket as extended CONNECT, announced per connection as the live config says.
        boolean extendedConnect = runtime.websocket().overHttp2();
        Http2Settings settings = Http2Settings.defaultSettings()
                .maxConcurrentStreams(h2.maxConcurrentStreams())
                .initialWindowSize(h2.initialStreamWindow())
                .maxFrameSize(h2.maxFrameSize())
                .maxHeaderListSize(runtime.limits().headersTotal());
        if (extendedConnect) {
            settings.connectProtocolEnabled(true);
        }
        int resetWindow = (int) Math.max(1, h2.resetWindow().toSeconds());
        Http2FrameCodec frames = Http2FrameCodecBuilder.forServer()
                .initialSettings(settings)
                .validateHeaders(true)
                .decoupleCloseAndGoAway(true) // a close is a close (drain's deadline); GOAWAY is sent by choice
                .encoderEnforceMaxQueuedControlFrames(h2.maxQueuedControlFrames())
                .decoderEnforceMaxConsecutiveEmptyDataFrames(h2.maxEmptyFrames())
                .decoderEnforceMaxRstFramesPerWindow(h2.maxResets(), resetWindow)
                .encoderEnforceMaxRstFramesPerWindow(h2.maxResets(), resetWindow)
                .decoderEnforceMaxSmallContinuationFrames(h2.maxSmallContinuations())
                .build();
        Http2ConnectionWatch watch = new Http2ConnectionWatch(
                runtime.timeouts().clientHeader().toNanos(),
                runtime.timeouts().keepAlive().toNanos(),
                services.metrics(),
                stream -> initStream(stream, extendedConnect));
        ch.pipeline()
                .addLast("h2-guard", new Http2FloodGuard(h2.maxControlFramesPerSecond(), bytes, services.metrics()))
                .addLast("h2-frames", frames)
                .addLast("h2-streams", new Http2MultiplexHandler(watch.streams()))
                .addLast("h2-connection", watch);
        services.metrics().counter("flotilla.client.connections." + protocol).inc();
        ch.config().setAutoRead(true);
    }

    /** One HTTP/2 stream's pipeline: its codec, then the same proxy handler an HTTP/1.1 connection has. */
    private void initStream(Channel stream, boolean extendedConnect) {
        stream.config().setAutoRead(false); // the proxy handler reads the request body as the upstream takes it
        InetSocketAddress client =
                stream.parent().attr(ProxyHandler.CLIENT_ADDRESS).get();
        if (client != null) {
            stream.attr(ProxyHandler.CLIENT_ADDRESS).set(client); // as the PROXY protocol header stated it
        }
        String hsts = tls == null ? null : tls.hsts().orElse(null);
        Http2StreamCodec codec = new Http2StreamCodec(
                hsts == null ? null : STRICT_TRANSPORT_SECURITY,
                hsts,
                runtimes.get().limits().headerCount(),
                extendedConnect);
        http2Streams.inc();
        stream.pipeline()
                .addLast("h2-stream", codec)
                .addLast(
                        "proxy",
                        new ProxyHandler(
                                runtimes,
                                services,
                                codec,
                                pools.get(stream.eventLoop()),
                                scheme(),
                                listener.redirectHttps().orElse(null)));
    }

    private String scheme() {
        return tls != null ? "https" : "http";
    }
}
