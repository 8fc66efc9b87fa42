package io.flotilla.node.proxy;

import io.flotilla.node.config.RedirectConfig;
import io.flotilla.node.http.ClientCodec;
import io.flotilla.node.http.ErrorResponses;
import io.flotilla.node.http.HostHeader;
import io.flotilla.node.http.RequestHeadStarted;
import io.flotilla.node.route.PathNormalizer;
import io.flotilla.node.route.Route;
import io.flotilla.node.upstream.ConnectionPool;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The last handler of a downstream (client) pipeline, after the HTTP codec: one per connection.
 *
 * <p>It serves one request at a time. Messages of pipelined requests that arrive early wait in a
 * queue and are served in order once the current response is written (RFC 9112 §9.3.2). AUTO_READ is
 * off: the connection is read only when there is somewhere for the bytes to go (a request head is
 * awaited, or the current request's body can be written upstream), which is what bounds memory for
 * any body size. Timeouts of the client-side phases run on one {@link Watchdog}.
 */
public final class ProxyHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(ProxyHandler.class.getName());
    /** Decoded messages of pipelined requests held at most, per connection, before reading pauses. */
    private static final int MAX_PIPELINED = 16;

    /** Set by the PROXY protocol handler: the client's real address, as the L4 front states it. */
    public static final AttributeKey<InetSocketAddress> CLIENT_ADDRESS = AttributeKey.valueOf("flotilla.client");
    /** User event asking an idle connection to close now and a busy one after its response (drain). */
    public static final Object DRAIN = new Object();

    private final Supplier<ProxyRuntime> runtimes;
    private final ProxyServices services;
    private final ClientCodec codec;
    private final ConnectionPool pool;
    private final String scheme;
    private final RedirectConfig redirect;
    private final ArrayDeque<Object> pipelined = new ArrayDeque<>(4);

    private ChannelHandlerContext ctx;
    private Watchdog requestWatch;
    private Watchdog responseWatch;
    private Exchange current;
    private boolean headStarted;
    private boolean closed;
    private int served;
    /** Between a read's first message and its channelReadComplete, which flushes the upstream. */
    private boolean handlingRead;

    /**
     * @param runtimes the live configuration; read once per request
     * @param services metrics, access log and drain state, shared by all connections
     * @param codec    this connection's (or HTTP/2 stream's) codec, which knows the status and size of what
     *                 was written
     * @param pool     upstream connections of this connection's event loop
     * @param scheme   {@code http} or {@code https}, as clients reach this listener
     * @param redirect when set, every request is answered with a redirect to https instead of routed
     */
    public ProxyHandler(
            Supplier<ProxyRuntime> runtimes,
            ProxyServices services,
            ClientCodec codec,
            ConnectionPool pool,
            String scheme,
            RedirectConfig redirect) {
        this.runtimes = runtimes;
        this.services = services;
        this.codec = codec;
        this.pool = pool;
        this.scheme = scheme;
        this.redirect = redirect;
    }

    /** One per connection; said here so that adding it skips Netty's per-class lookup (issue 16). */
    @Override
    public boolean isSharable() {
        return false;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        Watchdog[] watches = Watchdog.pair(ctx.channel().eventLoop(), this::expired);
        this.requestWatch = watches[0];
        this.responseWatch = watches[1];
    }

    /**
     * Out of the pipeline: the connection closed, a WebSocket tunnel took it over
     * ({@link WebSocketUpgrade}), or it turned out to speak HTTP/2 (h2c with prior knowledge); after
     * that nothing of this handler's may run, its watches included.
     */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // From accept, a client has the header timeout to send a complete head: an idle connect is cut too.
        requestWatch.arm(
                Phase.CLIENT_HEADER, runtimes.get().timeouts().clientHeader().toNanos());
        ctx.read();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == DRAIN) {
            // Only an idle keep-alive connection closes now: one that was just accepted and has not
            // sent its first request yet would lose it with no reason to retry, so it is served once,
            // with Connection: close, like a busy one (Exchange checks services.draining()).
            if (current == null && pipelined.isEmpty() && served > 0 && !headStarted) {
                close();
            }
            return;
        }
        if (evt == RequestHeadStarted.INSTANCE) {
            if (current == null && pipelined.isEmpty()) {
                headStarted = true;
                requestWatch.arm(
                        Phase.CLIENT_HEADER,
                        runtimes.get().timeouts().clientHeader().toNanos());
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        handlingRead = true;
        if (closed) {
            ReferenceCountUtil.release(msg);
        } else if (current != null && !current.requestComplete()) {
            current.onRequestContent((HttpContent) msg);
        } else if (current != null || !pipelined.isEmpty()) {
            pipelined.add(msg);
        } else {
            dispatch(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        handlingRead = false;
        if (current != null) {
            current.flushUpstream();
        }
        maybeRead();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null) {
            current.onDownstreamWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange exchange = current;
        stop();
        if (exchange != null) {
            exchange.onDownstreamClosed();
        }
    }

    /** Nothing of this connection's runs any more: timers off, bytes counted, queued messages released. */
    private void stop() {
        closed = true;
        codec.reportBytes();
        requestWatch.cancel();
        responseWatch.cancel();
        current = null;
        Object msg;
        while ((msg = pipelined.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            LOG.log(Level.FINE, "closing client connection " + ctx.channel().remoteAddress(), cause);
        }
        close();
    }

    /** A message that starts a new exchange, or a leftover of a refused one. */
    private void dispatch(Object msg) {
        if (!(msg instanceof HttpRequest)) {
            ReferenceCountUtil.release(msg); // body of a request already answered and being closed
            return;
        }
        HttpRequest request = (HttpRequest) msg;
        requestWatch.disarm();
        headStarted = false;
        ProxyRuntime runtime = runtimes.get();
        HttpResponseStatus refused =
                RequestGuard.refusal(request, runtime.limits().body());
        if (refused != null) {
            refuse(request, refused, runtime);
            return;
        }
        boolean hasBody = HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
        String uri = request.uri();
        int query = uri.indexOf('?');
        String rawPath = query < 0 ? uri : uri.substring(0, query);
        String path = "*".equals(rawPath) ? "/" : PathNormalizer.normalize(rawPath);
        if (path == null) {
            refuse(request, HttpResponseStatus.BAD_REQUEST, runtime);
            return;
        }
        String host = HostHeader.hostOf(request.headers().get(HttpHeaderNames.HOST));
        boolean keepAlive = Persistence.asked(request, services.draining());
        if (redirect != null) {
            redirect(request, host, rawPath, query < 0 ? "" : uri.substring(query), hasBody, keepAlive, runtime);
            return;
        }
        Route route = runtime.routes().match(host, path);
        current = new Exchange(
                this, runtime, request, route, path, query < 0 ? "" : uri.substring(query), hasBody, keepAlive);
        if (route == null) {
            current.respondLocally(HttpResponseStatus.NOT_FOUND);
        } else if (WebSocketUpgrade.admit(current, route, request, this, runtime)) {
            current.start(runtime.chain(route)); // RouteChain: rate limit, static or cache, forward
        }
    }

    /**
     * Sends the client to the same URL over https, path and query as it sent them (an absolute-form
     * target keeps only its path). Without a Host there is no URL to name: 400.
     */
    private void redirect(
            HttpRequest request,
            String host,
            String rawPath,
            String query,
            boolean hasBody,
            boolean keepAlive,
            ProxyRuntime runtime) {
        if (host == null || host.isEmpty()) {
            refuse(request, HttpResponseStatus.BAD_REQUEST, runtime);
            return;
        }
        String path = rawPath;
        int scheme = path.indexOf("://");
        if (scheme >= 0) {
            int slash = path.indexOf('/', scheme + 3);
            path = slash < 0 ? "/" : path.substring(slash);
        } else if ("*".equals(path)) {
            path = "/";
        }
        String location = "https://" + host + (redirect.port() == 443 ? "" : ":" + redirect.port()) + path + query;
        current = new Exchange(this, runtime, request, null, "/", "", hasBody, keepAlive);
        current.redirect(HttpResponseStatus.valueOf(redirect.status()), location);
    }

    private void refuse(HttpRequest request, HttpResponseStatus status, ProxyRuntime runtime) {
        current = new Exchange(this, runtime, request, null, "/", "", true, false);
        current.respondLocally(status);
    }

    /**
     * Asks for more bytes from the client if there is somewhere for them to go: a new request, the
     * current request's body while the upstream takes it, or, while a response is awaited, a few
     * pipelined messages. Reading on while a request is in flight also keeps the epoll read interest
     * set, which spares two epoll_ctl calls per keep-alive request.
     */
    void maybeRead() {
        if (closed) {
            return;
        }
        boolean read;
        if (current == null) {
            read = pipelined.isEmpty();
        } else if (!current.requestComplete()) {
            read = current.wantsRequestBody();
        } else {
            read = pipelined.size() < MAX_PIPELINED;
        }
        if (read) {
            ctx.read();
        }
    }

    /** The current exchange is over: both its messages are complete (or it was abandoned). */
    void exchangeFinished(Exchange exchange, boolean keepAlive) {
        if (current != exchange) {
            return;
        }
        current = null;
        served++;
        codec.reportBytes();
        responseWatch.disarm();
        requestWatch.disarm();
        if (!keepAlive || closed) {
            close();
            return;
        }
        while (current == null && !pipelined.isEmpty() && !closed) {
            dispatch(pipelined.poll());
            // Body parts of that request which were queued behind its head go to it, in order.
            while (current != null && !current.requestComplete() && !pipelined.isEmpty()) {
                current.onRequestContent((HttpContent) pipelined.poll());
            }
        }
        if (current != null) {
            current.flushUpstream(); // no read is being handled here, so nothing else would flush
        }
        if (current == null && !closed) {
            requestWatch.arm(
                    Phase.KEEP_ALIVE, runtimes.get().timeouts().keepAlive().toNanos());
        }
        maybeRead();
    }

    private void expired(Phase phase) {
        services.metrics().timeouts(phase.name().toLowerCase()).inc();
        switch (phase) {
            case KEEP_ALIVE -> close();
            case CLIENT_HEADER -> {
                if (current == null && !headStarted) {
                    close(); // nothing was sent: a pre-connect or an idle probe gets no 408 to misread
                } else if (current == null) {
                    ctx.writeAndFlush(ErrorResponses.of(HttpResponseStatus.REQUEST_TIMEOUT, true))
                            .addListener(ChannelFutureListener.CLOSE);
                    closed = true;
                }
            }
            default -> {
                if (current != null) {
                    current.expired(phase);
                }
            }
        }
    }

    void close() {
        closed = true;
        // What was relayed goes out first: a client cut mid-body sees a truncated message, not nothing.
        ctx.flush();
        ctx.close();
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    ConnectionPool pool() {
        return pool;
    }

    String scheme() {
        return scheme;
    }

    Watchdog requestWatch() {
        return requestWatch;
    }

    Watchdog responseWatch() {
        return responseWatch;
    }

    boolean closed() {
        return closed;
    }

    InetSocketAddress clientAddress() {
        InetSocketAddress stated = ctx.channel().attr(CLIENT_ADDRESS).get();
        return stated != null ? stated : (InetSocketAddress) ctx.channel().remoteAddress();
    }

    /** Whether messages of a later request wait behind the current one. */
    boolean hasPipelined() {
        return !pipelined.isEmpty();
    }

    boolean handlingRead() {
        return handlingRead;
    }

    ProxyServices services() {
        return services;
    }

    ClientCodec codec() {
        return codec;
    }
}
