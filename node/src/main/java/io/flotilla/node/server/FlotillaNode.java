package io.flotilla.node.server;

import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.config.ListenerConfig;
import io.flotilla.node.proxy.ProxyRuntime;
import io.flotilla.node.upstream.ConnectionPool;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.EventExecutor;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * A running node: its event loops, listeners and upstream pools. Started from a validated config;
 * {@link #close()} stops accepting, closes connections and waits for the loops to end.
 */
public final class FlotillaNode implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(FlotillaNode.class.getName());

    private final EventLoopGroup group;
    private final Transport transport;
    private final AtomicReference<ProxyRuntime> runtime;
    private final Map<EventLoop, ConnectionPool> pools;
    private final List<Channel> listeners;

    private FlotillaNode(EventLoopGroup group, Transport transport, AtomicReference<ProxyRuntime> runtime,
                         Map<EventLoop, ConnectionPool> pools, List<Channel> listeners) {
        this.group = group;
        this.transport = transport;
        this.runtime = runtime;
        this.pools = pools;
        this.listeners = listeners;
    }

    /** Binds every listener; fails (and releases what it took) if any cannot bind. */
    public static FlotillaNode start(FlotillaConfig config) throws InterruptedException {
        Transport transport = Transport.detect();
        int threads = config.node().eventLoops() > 0
                ? config.node().eventLoops() : Runtime.getRuntime().availableProcessors();
        EventLoopGroup group = transport.newGroup(threads, "flotilla-io");
        AtomicReference<ProxyRuntime> runtime = new AtomicReference<>(ProxyRuntime.compile(config));
        Map<EventLoop, ConnectionPool> pools = new IdentityHashMap<>();
        for (EventExecutor executor : group) {
            EventLoop loop = (EventLoop) executor;
            pools.put(loop, new ConnectionPool(loop, transport.socketChannel(), config.timeouts().upstreamConnect()));
        }
        List<Channel> bound = new ArrayList<>();
        try {
            for (ListenerConfig listener : config.listeners()) {
                FrontendInitializer initializer = new FrontendInitializer(runtime::get, pools, listener.maxConnections());
                Channel channel = new ServerBootstrap()
                        .group(group)
                        .channel(transport.serverChannel())
                        .option(ChannelOption.SO_BACKLOG, 4096)
                        .option(ChannelOption.SO_REUSEADDR, true)
                        .childOption(ChannelOption.AUTO_READ, false)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                        .childHandler(initializer)
                        .bind(listener.bind().toSocketAddress())
                        .sync()
                        .channel();
                initializer.serverChannel(channel);
                bound.add(channel);
            }
        } catch (Exception e) {
            bound.forEach(Channel::close);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await();
            throw e;
        }
        FlotillaNode node = new FlotillaNode(group, transport, runtime, Map.copyOf(pools), List.copyOf(bound));
        LOG.info(() -> "node '" + config.node().name() + "' serving on " + node.addresses() + " with "
                + threads + " " + transport.name() + " event loop(s), config " + config.source());
        return node;
    }

    /** The bound address of each listener, in config order (a port 0 listener shows its real port). */
    public List<InetSocketAddress> addresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Channel channel : listeners) {
            out.add((InetSocketAddress) channel.localAddress());
        }
        return out;
    }

    /** The bound port of the listener at {@code index}. */
    public int port(int index) {
        return addresses().get(index).getPort();
    }

    public String transportName() {
        return transport.name();
    }

    /** Swaps in a new configuration for new requests; listeners are not changed by this. */
    public void apply(FlotillaConfig config) {
        runtime.set(ProxyRuntime.compile(config));
    }

    /** Idle upstream connections over all event loops (tests assert connection reuse with it). */
    public Map<EventLoop, ConnectionPool> pools() {
        return pools;
    }

    @Override
    public void close() throws InterruptedException {
        for (Channel channel : listeners) {
            channel.close().await();
        }
        for (Map.Entry<EventLoop, ConnectionPool> entry : pools.entrySet()) {
            entry.getKey().execute(entry.getValue()::closeAll);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await();
    }
}
