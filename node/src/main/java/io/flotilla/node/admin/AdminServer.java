package io.flotilla.node.admin;

import io.flotilla.node.config.HostPort;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * The admin API on its own listener, away from client traffic: health, readiness, metrics, upstreams,
 * drain. Requests are small and answered whole, so it aggregates them (up to 1 MiB).
 */
public final class AdminServer implements AutoCloseable {
    /** Sent by {@code flotilla config push}, so the history tells a CLI push from another client's. */
    public static final String CLIENT_HEADER = "X-Flotilla-Client";

    private static final int MAX_REQUEST = 1024 * 1024;

    private final Channel channel;

    private AdminServer(Channel channel) {
        this.channel = channel;
    }

    /**
     * @param serverChannel the transport's server socket class (epoll or NIO, as the data plane's)
     * @param token when present, every endpoint but {@code /healthz} and {@code /readyz} requires
     *              {@code Authorization: Bearer <token>}
     */
    public static AdminServer start(
            EventLoopGroup group,
            Class<? extends ServerChannel> serverChannel,
            HostPort bind,
            Optional<String> token,
            NodeOperations node)
            throws InterruptedException {
        AdminHandler handler = new AdminHandler(node, token);
        Channel channel = new ServerBootstrap()
                .group(group)
                .channel(serverChannel)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new ReadTimeoutHandler(30))
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(MAX_REQUEST))
                                .addLast(handler);
                    }
                })
                .bind(bind.toSocketAddress())
                .sync()
                .channel();
        return new AdminServer(channel);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() throws InterruptedException {
        channel.close().await();
    }
}
