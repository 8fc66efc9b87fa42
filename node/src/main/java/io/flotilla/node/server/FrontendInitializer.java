package io.flotilla.node.server;

import io.flotilla.node.config.LimitConfig;
import io.flotilla.node.config.ListenerConfig;
import io.flotilla.node.proxy.ProxyServices;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.flotilla.node.http.ServerCodec;
import io.flotilla.node.proxy.ProxyHandler;
import io.flotilla.node.proxy.ProxyRuntime;
import io.flotilla.node.upstream.ConnectionPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;

import io.flotilla.node.tls.ServerTls;
import io.netty.util.AsciiString;

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
 *   <li>{@code http-encoder}, {@code http-decoder}: {@link ServerCodec}, the strict HTTP/1.1 decoder
 *       with size limits, and the response encoder</li>
 *   <li>{@code proxy}: {@link ProxyHandler}, which routes, answers or forwards, one request at a time</li>
 * </ol>
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
    private record Decoding(LimitConfig limits, HttpDecoderConfig config) {
    }

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

    FrontendInitializer(Supplier<ProxyRuntime> runtimes, ProxyServices services, Map<EventLoop, ConnectionPool> pools,
                        ListenerConfig listener, ServerTls tls) {
        this.runtimes = runtimes;
        this.services = services;
        this.pools = pools;
        this.listener = listener;
        this.tls = tls;
        this.maxConnections = listener.maxConnections();
    }

    ByteCounter bytes() {
        return bytes;
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
            if (open.decrementAndGet() < maxConnections && serverChannel != null
                    && !serverChannel.config().isAutoRead()) {
                serverChannel.config().setAutoRead(true);
            }
        });
        connections.add(ch);
        ProxyRuntime runtime = runtimes.get();
        LimitConfig limits = runtime.limits();
        ServerCodec codec = new ServerCodec(decoderConfig(limits), limits.requestLine(), limits.headerLine(),
                limits.headerCount()).countInto(bytes);
        if (listener.proxyProtocol()) {
            ch.pipeline().addLast("proxy-protocol", new ProxyProtocolGate(listener.trustedProxies()));
        }
        if (tls != null) {
            // The ClientHello must come within client_header too; ProxyHandler's watch covers the rest.
            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), runtime.timeouts().clientHeader().toMillis()));
            tls.hsts().ifPresent(value -> codec.stampResponses(STRICT_TRANSPORT_SECURITY, value));
        }
        ch.pipeline()
                .addLast("http-encoder", codec.encoder())
                .addLast("http-decoder", codec.decoder())
                .addLast("proxy", new ProxyHandler(runtimes, services, codec, pools.get(ch.eventLoop()),
                        tls != null ? "https" : "http", listener.redirectHttps().orElse(null)));
    }
}
