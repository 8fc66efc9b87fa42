package io.flotilla.node.upstream;

import io.flotilla.cluster.health.BackendHealth;
import io.flotilla.cluster.health.HealthRegistry;
import io.flotilla.node.config.HealthConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Active health checks of one upstream: each server is probed every interval on one event loop (an
 * HTTP request or a TCP connect, each with its timeout), and marked unhealthy after {@code fall}
 * consecutive failures, healthy again after {@code rise} successes. Probes of a server never
 * overlap, and first probes are spread over the interval so a large pool is not probed in a burst.
 */
public final class HealthChecker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(HealthChecker.class.getName());
    private static final int MAX_PROBE_RESPONSE = 64 * 1024;

    private final Upstream upstream;
    private final HealthConfig.Active config;
    private final Class<? extends SocketChannel> channelClass;
    private final List<ServerProbe> probes = new ArrayList<>();
    /** The fleet's health, or null for a lone node: then every server is probed here. */
    private final HealthRegistry shared;

    private volatile boolean closed;

    private HealthChecker(
            Upstream upstream,
            HealthConfig.Active config,
            Class<? extends SocketChannel> channelClass,
            HealthRegistry shared) {
        this.upstream = upstream;
        this.config = config;
        this.channelClass = channelClass;
        this.shared = shared;
    }

    /** Starts probing every server of {@code upstream}, which must have an active health config. */
    public static HealthChecker start(
            Upstream upstream, EventLoopGroup group, Class<? extends SocketChannel> channelClass) {
        return start(upstream, group, channelClass, null);
    }

    /**
     * As {@link #start(Upstream, EventLoopGroup, Class)}, in a fleet: a server is probed only while this
     * node is one of its probe owners (rendezvous hashing over the live members, so ownership moves
     * within an interval when a member leaves), and verdicts are published to {@code shared}, whose
     * changes every node applies.
     */
    public static HealthChecker start(
            Upstream upstream,
            EventLoopGroup group,
            Class<? extends SocketChannel> channelClass,
            HealthRegistry shared) {
        HealthChecker checker =
                new HealthChecker(upstream, upstream.health().active().orElseThrow(), channelClass, shared);
        long interval = checker.config.interval().toNanos();
        for (UpstreamServer server : upstream.servers()) {
            ServerProbe probe = checker.new ServerProbe(server, group.next());
            checker.probes.add(probe);
            probe.schedule(ThreadLocalRandom.current().nextLong(Math.max(1, interval)));
        }
        return checker;
    }

    @Override
    public void close() {
        closed = true;
        probes.forEach(ServerProbe::cancel);
    }

    /** The probing of one server; all its state lives on its event loop. */
    private final class ServerProbe {
        private final UpstreamServer server;
        private final EventLoop loop;
        private int successes;
        private int failures;
        private ScheduledFuture<?> next;

        ServerProbe(UpstreamServer server, EventLoop loop) {
            this.server = server;
            this.loop = loop;
        }

        void schedule(long delayNanos) {
            if (!closed) {
                next = loop.schedule(this::probe, delayNanos, TimeUnit.NANOSECONDS);
            }
        }

        void cancel() {
            ScheduledFuture<?> pending = next;
            if (pending != null) {
                pending.cancel(false);
            }
        }

        private void probe() {
            if (shared != null && !shared.isProbeOwner(server.backendId())) {
                successes = 0;
                failures = 0;
                schedule(config.interval().toNanos()); // another member probes it; ask again next interval
                return;
            }
            long started = System.nanoTime();
            boolean[] done = {false};
            Consumer<Boolean> finish = ok -> {
                if (done[0]) {
                    return;
                }
                done[0] = true;
                record(ok);
                schedule(Math.max(0, config.interval().toNanos() - (System.nanoTime() - started)));
            };
            Bootstrap bootstrap = new Bootstrap()
                    .group(loop)
                    .channel(channelClass)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                            config.timeout().toMillis())
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (!config.tcp() && upstream.tls() != null) {
                                ch.pipeline().addLast(upstream.newTlsHandler(ch.alloc(), server));
                            }
                            if (!config.tcp()) {
                                ch.pipeline()
                                        .addLast(
                                                new HttpClientCodec(),
                                                new HttpObjectAggregator(MAX_PROBE_RESPONSE),
                                                new ResponseCheck(finish));
                            }
                        }
                    });
            ChannelFuture connect = bootstrap.connect(server.resolvedAddress());
            Channel channel = connect.channel();
            ScheduledFuture<?> timeout = loop.schedule(
                    () -> {
                        finish.accept(false);
                        channel.close();
                    },
                    config.timeout().toNanos(),
                    TimeUnit.NANOSECONDS);
            channel.closeFuture().addListener(f -> {
                timeout.cancel(false);
                finish.accept(false); // closed before an answer (no-op if one was already judged)
            });
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    finish.accept(false);
                } else if (config.tcp()) {
                    finish.accept(true);
                    channel.close();
                } else {
                    FullHttpRequest request = new DefaultFullHttpRequest(
                            HttpVersion.HTTP_1_1,
                            HttpMethod.valueOf(config.method()),
                            config.path(),
                            Unpooled.EMPTY_BUFFER);
                    request.headers()
                            .set(
                                    HttpHeaderNames.HOST,
                                    config.host().orElse(server.address().authority()))
                            .set(HttpHeaderNames.USER_AGENT, "flotilla-health-check")
                            .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                    channel.writeAndFlush(request);
                }
            });
        }

        private void record(boolean ok) {
            if (ok) {
                failures = 0;
                if (++successes >= config.rise() && !server.healthy()) {
                    server.healthy(true);
                    LOG.info(() -> server + " is healthy again after " + successes + " good probes");
                }
            } else {
                successes = 0;
                if (++failures >= config.fall() && server.healthy()) {
                    server.healthy(false);
                    LOG.warning(() -> server + " is unhealthy after " + failures + " failed probes");
                }
            }
            boolean settled = ok ? successes >= config.rise() : failures >= config.fall();
            if (shared != null && settled) {
                // Published when it differs from the fleet's verdict (a change, or a new owner's first word).
                BackendHealth fleet = shared.health(server.backendId());
                if (fleet == null ? !ok : fleet.up() != ok) {
                    shared.report(
                            server.backendId(), ok, ok ? successes + " good probes" : failures + " failed probes");
                }
            }
        }
    }

    /** Judges the probe's response: status in range and, if configured, the body contains the text. */
    private final class ResponseCheck extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final Consumer<Boolean> finish;

        ResponseCheck(Consumer<Boolean> finish) {
            this.finish = finish;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
            int status = response.status().code();
            boolean ok = response.decoderResult().isSuccess()
                    && status >= config.minStatus()
                    && status <= config.maxStatus()
                    && config.body()
                            .map(text -> response.content()
                                    .toString(StandardCharsets.UTF_8)
                                    .contains(text))
                            .orElse(true);
            finish.accept(ok);
            ctx.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            finish.accept(false);
            ctx.close();
        }
    }
}
