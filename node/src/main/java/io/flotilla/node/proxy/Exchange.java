package io.flotilla.node.proxy;

import io.flotilla.cluster.rate.RateDecision;
import io.flotilla.node.cache.CacheFlow;
import io.flotilla.node.compress.Coding;
import io.flotilla.node.compress.ContentEncoder;
import io.flotilla.node.http.ErrorResponses;
import io.flotilla.node.http.FinalHeadPass;
import io.flotilla.node.http.ForwardingHeaders;
import io.flotilla.node.ratelimit.RouteRateLimit;
import io.flotilla.node.route.Route;
import io.flotilla.node.upstream.ConnectionPool;
import io.flotilla.node.upstream.UpstreamConnection;
import io.flotilla.node.upstream.UpstreamListener;
import io.flotilla.node.upstream.UpstreamServer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * One request and its response: answered locally (an error, a static file) or forwarded to an
 * upstream server, with both bodies streamed. Lives on its connection's event loop; the connection
 * ({@link ProxyHandler}) serves exchanges one at a time.
 *
 * <p>Forwarding is a sequence of small steps, each started by an event: connect (pool or new),
 * write the head and any early body, relay body parts as the client sends them (reading more only
 * while the upstream socket is writable), relay the response the same way in the other direction,
 * then hand the upstream connection back to the pool if both messages ended cleanly.
 */
final class Exchange
        implements Stage.Context, UpstreamListener, ResponseFinisher.Context, FinalHeadPass, ChannelFutureListener {
    private final ProxyHandler connection;
    private final ChannelHandlerContext ctx;
    private final ProxyRuntime runtime;
    private final HttpRequest request;
    private final Route route;
    private final String path;
    private final String query;
    private final String originalTarget;
    private final boolean hasBody;
    private final boolean head;
    private boolean keepAlive;

    private boolean forwarding;
    private boolean requestComplete;
    private boolean requestSent;
    private boolean bodySent;
    /** Whether the request's end (LastHttpContent) was written on the current upstream connection. */
    private boolean endWritten;

    private long bodyBytes;
    private ArrayDeque<HttpContent> early;
    private boolean expectContinue;

    /** Which server, and the slots held for it; null until the request is forwarded. */
    private ServerSelection selection;
    /** The selection's current server (cached: read on every upstream event). */
    private UpstreamServer server;

    private UpstreamConnection upstream;
    private HttpRequest upstreamRequest;
    private boolean staleRetried;

    private boolean responseStarted;
    private boolean responseReceived;
    private boolean responseComplete;
    private boolean upstreamReusable;
    private boolean skippingInformational;
    private boolean finished;

    private final long startNanos = System.nanoTime();
    private long upstreamSentNanos;
    private long upstreamNanos = -1;
    private int status;
    private boolean recorded;

    /** The route's stages, and the next one to run. */
    private RouteChain chain;

    private int nextStage;
    /** The cache's part in this request, on a caching route; null elsewhere. */
    private CacheFlow flow;
    /** The rate limit's verdict on this request, described on its response; null when not limited. */
    private RateDecision rateDecision;
    /** The upstream's response is dropped and the stored one sent (a 304 refresh, stale-if-error). */
    private boolean servingStored;
    /** A WebSocket handshake being carried; null for every other request. */
    private WebSocketUpgrade upgrade;
    /** The coding negotiated on a compressing route (null elsewhere), and the response body's encoder. */
    private Coding coding;

    private ContentEncoder encoder;

    Exchange(
            ProxyHandler connection,
            ProxyRuntime runtime,
            HttpRequest request,
            Route route,
            String path,
            String query,
            boolean hasBody,
            boolean keepAlive) {
        this.connection = connection;
        this.ctx = connection.ctx();
        this.runtime = runtime;
        this.request = request;
        this.route = route;
        this.path = path;
        this.query = query;
        this.originalTarget = request.uri();
        this.hasBody = hasBody;
        this.head = HttpMethod.HEAD.equals(request.method());
        this.keepAlive = keepAlive;
    }

    boolean requestComplete() {
        return requestComplete;
    }

    /** Makes this exchange carry a WebSocket handshake (see {@link WebSocketUpgrade}). */
    void upgrade(WebSocketUpgrade upgrade) {
        this.upgrade = upgrade;
    }

    // ---- local responses ------------------------------------------------------------------------

    /** Answers with a short error response; a body the client still sends is not read: close after. */
    void respondLocally(HttpResponseStatus status) {
        if (flow != null && !servingStored && flow.staleStandsInFor(status.code(), false)) {
            closeUpstream();
            respondFromStore(); // RFC 5861 §4: the origin failed, a stale copy is allowed to stand in
            return;
        }
        respondLocally(status, null);
    }

    /** A redirect made by the proxy (a listener with redirect_https). */
    void redirect(HttpResponseStatus status, String location) {
        respondLocally(status, location);
    }

    private void respondWithStatus(HttpResponseStatus status) {
        respondLocally(status, null);
    }

    private void respondLocally(HttpResponseStatus status, String location) {
        closeUpstream();
        FullHttpResponse response = ErrorResponses.of(status, false);
        if (location != null) {
            response.headers().set(HttpHeaderNames.LOCATION, location);
        }
        connection.services().metrics().localResponse(status.code());
        send(response, ResponseFinisher.Source.LOCAL);
    }

    /**
     * Decides, once per response, whether the connection stays open after it: not when the client
     * asked otherwise or the node drains, not while a request body is still unread, and not when the
     * response cannot be framed on a persistent connection ({@code framed} false).
     */
    private void decidePersistence(boolean framed) {
        keepAlive = keepAlive
                && framed
                && (requestComplete || !hasBody)
                && !connection.closed()
                && !connection.services().draining();
    }

    /** Sends a complete response made here or taken from the cache, through the response pass. */
    private void send(FullHttpResponse response, ResponseFinisher.Source source) {
        decidePersistence(true);
        status = response.status().code();
        ResponseFinisher.finish(response, source, HttpVersion.HTTP_1_1, this);
        responseStarted = true;
        ctx.writeAndFlush(response).addListener(this);
    }

    // ---- the route's chain (Stage.Context) -------------------------------------------------------

    /** Runs the route's chain of stages from the first. */
    void start(RouteChain chain) {
        this.chain = chain;
        proceed();
    }

    @Override
    public void proceed() {
        Stage stage;
        while ((stage = chain.stage(nextStage++)) != null) {
            if (stage.handle(this) == Stage.Outcome.TAKEN) {
                return;
            }
        }
    }

    @Override
    public HttpRequest request() {
        return request;
    }

    @Override
    public Route route() {
        return route;
    }

    @Override
    public InetSocketAddress client() {
        return connection.clientAddress();
    }

    @Override
    public void rateDecision(RateDecision decision) {
        rateDecision = decision;
        if (decision != null && !decision.allowed()) {
            connection.services().metrics().error("rate_limited");
        }
    }

    @Override
    public void encoding(Coding coding) {
        this.coding = coding;
    }

    @Override
    public void respond(FullHttpResponse response) {
        connection.services().metrics().localResponse(response.status().code());
        send(response, ResponseFinisher.Source.LOCAL);
    }

    // ---- the cache ------------------------------------------------------------------------------

    /** On a caching route: look the request up first, then answer from the store or forward. */
    @Override
    public void lookUpCache() {
        if (upgrade != null) {
            proceed(); // the cache never stores nor serves a handshake
            return;
        }
        flow = route.cache().begin(request, connection.scheme(), path, query, hasBody);
        flow.lookup(ctx.channel().eventLoop(), this::afterLookup);
    }

    private void afterLookup(CacheFlow.Decision decision) {
        if (finished) {
            return; // the client left while the lookup or a fill was awaited
        }
        switch (decision) {
            case HIT -> respondFromStore();
            case STALE_REFRESH -> {
                respondFromStore();
                CacheFlow refresh = flow.refresh();
                if (refresh != null) {
                    refresh.ifNoOtherNodeRefreshes(ctx.channel().eventLoop(), () -> refreshInBackground(refresh));
                }
            }
            case FORWARD -> proceed();
            case GATEWAY_TIMEOUT -> respondWithStatus(HttpResponseStatus.GATEWAY_TIMEOUT);
        }
    }

    /** Writes the stored response (with its Age, Cache-Status, and the client's conditionals and range). */
    private void respondFromStore() {
        send(flow.storedResponse(), ResponseFinisher.Source.STORED);
    }

    @Override
    public void serveStatic() {
        decidePersistence(true);
        responseStarted = true;
        route.statics().respond(ctx, request, route.remainder(path), this).addListener(this);
    }

    /** A static file's head, for the route's compression; the encoder for its body, or null. */
    @Override
    public ContentEncoder encodeBody(HttpResponse response) {
        return coding == null ? null : route.compression().begin(coding, response, head);
    }

    /** The response pass for the static file responder's heads (made here: no Via). */
    @Override
    public void finishHead(HttpResponse response) {
        status = response.status().code();
        ResponseFinisher.finish(response, ResponseFinisher.Source.LOCAL, HttpVersion.HTTP_1_1, this);
    }

    // ---- what the response pass reads (ResponseFinisher.Context) --------------------------------

    @Override
    public HttpVersion clientVersion() {
        return request.protocolVersion();
    }

    @Override
    public boolean keepAlive() {
        return keepAlive;
    }

    @Override
    public ForwardingHeaders forwarding() {
        return runtime.headers();
    }

    @Override
    public RouteRateLimit rateLimit() {
        return route == null ? null : route.rateLimit();
    }

    @Override
    public RateDecision rateDecision() {
        return rateDecision;
    }

    @Override
    public CacheFlow cacheFlow() {
        return flow;
    }

    @Override
    public String stickyCookie() {
        return selection == null ? null : selection.stickyCookie();
    }

    // ---- forwarding -----------------------------------------------------------------------------

    /** Over a circuit limit: a fast 503, which is the point of the limit (no queue, no hang). */
    private void overflow() {
        connection.services().metrics().error("circuit_open");
        respondLocally(HttpResponseStatus.SERVICE_UNAVAILABLE);
    }

    @Override
    public void forward() {
        selection = new ServerSelection(route.upstream(), ctx.channel().eventLoop());
        switch (selection.pick(request.headers(), connection.clientAddress())) {
            case OVERFLOW -> {
                overflow();
                return;
            }
            case NONE -> {
                respondLocally(HttpResponseStatus.SERVICE_UNAVAILABLE);
                return;
            }
            case PICKED -> server = selection.server();
        }
        forwarding = true;
        expectContinue = HttpUtil.is100ContinueExpected(request);
        upstreamRequest = upstreamRequest(request.method(), request.headers(), hasBody, server, flow);
        connect(false, true);
    }

    /** The head sent upstream for this request or a refresh of its stored response ({@link UpstreamRequest}). */
    private HttpRequest upstreamRequest(
            HttpMethod method, HttpHeaders headers, boolean withBody, UpstreamServer to, CacheFlow cache) {
        String target = "*".equals(request.uri()) ? "*" : route.rewrite(path) + query;
        HttpRequest sent = UpstreamRequest.build(
                runtime,
                request,
                method,
                headers,
                withBody,
                to,
                cache,
                connection.clientAddress(),
                connection.scheme(),
                target);
        if (upgrade != null) {
            upgrade.prepareUpstream(sent.headers());
        }
        return sent;
    }

    /**
     * Revalidates the stale entry just served (stale-while-revalidate) with a GET of the proxy's own,
     * built and sent the way this exchange's would be, on this connection's event loop and pool.
     */
    private void refreshInBackground(CacheFlow refresh) {
        ServerSelection refreshing =
                new ServerSelection(route.upstream(), ctx.channel().eventLoop());
        if (!refreshing.pickAny()) {
            refresh.finish();
            return;
        }
        HttpRequest get =
                upstreamRequest(HttpMethod.GET, request.headers().copy(), false, refreshing.server(), refresh);
        BackgroundRefresh.start(
                connection.pool(),
                route.upstream(),
                refreshing,
                get,
                refresh,
                ctx.channel().eventLoop(),
                runtime.timeouts().upstreamRead(),
                route.compression(),
                coding);
    }

    /**
     * @param inline true when called while the client's read is handled (the first try), whose end
     *               flushes; retries run from upstream events and flush themselves
     */
    private void connect(boolean fresh, boolean inline) {
        Future<UpstreamConnection> acquired = connection.pool().acquire(route.upstream(), server, fresh);
        if (acquired.isDone() && acquired.cause() instanceof ConnectionPool.Overflow) {
            overflow();
            return;
        }
        if (acquired.isSuccess()) {
            // Deferring the flush is only safe while the client's read is being handled: its end flushes.
            onConnected(acquired.getNow(), inline && connection.handlingRead());
            return;
        }
        acquired.addListener((Future<UpstreamConnection> f) -> {
            if (finished) {
                if (f.isSuccess()) {
                    connection.pool().release(f.getNow(), f.getNow().requests() == 0, route.upstream());
                }
                return;
            }
            if (!f.isSuccess()) {
                if (f.cause() instanceof ConnectionPool.Overflow) {
                    overflow();
                    return;
                }
                boolean timedOut = f.cause() instanceof ConnectTimeoutException;
                selection.tryFailed(connection.services().metrics(), timedOut ? "connect_timeout" : "connect_error");
                // Nothing of the request left this node (its early body parts are still held here),
                // so trying another server is safe whatever the method.
                if (retryElsewhere()) {
                    return;
                }
                respondLocally(timedOut ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.BAD_GATEWAY);
                return;
            }
            onConnected(f.getNow(), false);
        });
    }

    /**
     * @param inline true when called while the client's read is being handled: its end flushes the
     *               upstream once for the head and whatever body came with it
     */
    private void onConnected(UpstreamConnection connected, boolean inline) {
        upstream = connected;
        connected.attach(this);
        Channel channel = connected.channel();
        upstreamSentNanos = System.nanoTime();
        channel.write(upstreamRequest);
        endWritten = false;
        if (early != null) {
            HttpContent part;
            while ((part = early.poll()) != null) {
                endWritten |= part instanceof LastHttpContent;
                channel.write(part);
                bodySent = true;
            }
        }
        if (requestComplete && !endWritten) {
            // A retry: the request's end went to the connection that failed. The encoder needs it
            // here too, or it would still be "in the body" when this connection's next request comes.
            channel.write(LastHttpContent.EMPTY_LAST_CONTENT);
            endWritten = true;
        }
        if (!inline || requestComplete || expectContinue) {
            channel.flush();
        }
        if (requestComplete) {
            requestSent = true;
            armUpstreamRead();
        } else if (expectContinue) {
            // RFC 9110 §10.1.1: the client waits for this before sending the body; the origin never saw Expect.
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        channel.read();
        connection.maybeRead();
    }

    /** A body part (or the end of the request) from the client. */
    void onRequestContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (content.decoderResult().isFailure()) {
            // A broken chunk: the body must not reach the origin as if it had ended normally.
            content.release();
            requestComplete = true;
            keepAlive = false;
            if (responseStarted || finished) {
                abort();
            } else {
                respondLocally(HttpResponseStatus.BAD_REQUEST);
            }
            return;
        }
        bodyBytes += content.content().readableBytes();
        if (last) {
            requestComplete = true;
            connection.requestWatch().disarm();
        } else {
            connection.requestWatch().progress();
        }
        long limit = runtime.limits().body();
        if (limit > 0 && bodyBytes > limit && !finished) {
            content.release();
            if (responseStarted) {
                abort();
            } else {
                keepAlive = false;
                respondLocally(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
            }
            return;
        }
        if (!forwarding || finished) {
            content.release();
            if (last) {
                maybeFinish();
            }
            return;
        }
        if (upstream == null) {
            if (early == null) {
                early = new ArrayDeque<>(4);
            }
            early.add(content);
            return;
        }
        upstream.channel().write(content);
        endWritten |= last;
        bodySent = true;
        if (last) {
            requestSent = true; // flushed at the end of this read (ProxyHandler.channelReadComplete)
            if (!responseStarted) {
                armUpstreamRead();
            }
        }
    }

    void flushUpstream() {
        if (upstream != null) {
            upstream.channel().flush();
        }
    }

    /**
     * Whether the client connection should be read now for this exchange's body. Also starts the clock
     * of whichever side is holding the body back.
     */
    boolean wantsRequestBody() {
        if (requestComplete || finished || !forwarding || upstream == null) {
            return false;
        }
        Watchdog watch = connection.requestWatch();
        if (upstream.channel().isWritable()) {
            if (watch.phase() != Phase.CLIENT_BODY) {
                watch.arm(Phase.CLIENT_BODY, runtime.timeouts().clientBody().toNanos());
            }
            return true;
        }
        if (watch.phase() != Phase.UPSTREAM_WRITE) {
            watch.arm(Phase.UPSTREAM_WRITE, runtime.timeouts().upstreamWrite().toNanos());
        }
        return false;
    }

    /**
     * Times the wait for the response. Before the response head, an upstream's try_timeout (when set)
     * bounds each try, so a stuck server costs one try, not the whole upstream_read.
     */
    private void armUpstreamRead() {
        long timeout = runtime.timeouts().upstreamRead().toNanos();
        java.time.Duration perTry = route.upstream().health().tryTimeout();
        if (!responseStarted && !perTry.isZero()) {
            timeout = Math.min(timeout, perTry.toNanos());
        }
        // A gRPC call waits no longer than its client will (grpc-timeout, counted from its arrival).
        timeout = io.flotilla.node.http.GrpcTimeout.cap(request.headers(), startNanos, System.nanoTime(), timeout);
        connection.responseWatch().arm(Phase.UPSTREAM_READ, timeout);
    }

    // ---- the upstream's side --------------------------------------------------------------------

    @Override
    public void onUpstreamRead(UpstreamConnection from, Object msg) {
        if (from != upstream || finished || responseReceived) {
            ReferenceCountUtil.release(msg);
            return;
        }
        connection.responseWatch().progress();
        if (msg instanceof HttpResponse) {
            HttpResponse response = (HttpResponse) msg;
            if (response.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                upstreamFailed();
                return;
            }
            int code = response.status().code();
            if (code < 200) {
                if (code == 101) {
                    ReferenceCountUtil.release(msg);
                    if (upgrade != null && upgrade.accepts(response)) {
                        switchProtocols(from, response);
                    } else {
                        upstreamFailed(); // an upgrade nobody asked for
                    }
                    return;
                }
                skippingInformational = true; // its end is dropped; the final response follows
                if (code != 100 && request.protocolVersion().minorVersion() >= 1 && !responseStarted) {
                    // RFC 9110 §15.2: a proxy forwards 1xx (103 Early Hints, say) to an HTTP/1.1 client.
                    // 100 is not: the proxy answered Expect itself and never forwards it.
                    HttpHeaders interim = response.headers();
                    runtime.headers().prepareResponse(interim, response.protocolVersion());
                    ctx.write(new DefaultFullHttpResponse(
                            HttpVersion.HTTP_1_1,
                            response.status(),
                            io.netty.buffer.Unpooled.EMPTY_BUFFER,
                            interim,
                            io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE));
                }
            } else {
                startResponse(response);
            }
        }
        if (msg instanceof HttpContent) {
            HttpContent content = (HttpContent) msg;
            boolean last = content instanceof LastHttpContent;
            if (skippingInformational) {
                content.release();
                skippingInformational = !last;
                return;
            }
            if (servingStored) {
                content.release(); // the origin's 304 (or error) body; the stored response goes out instead
                if (last) {
                    responseReceived = true;
                    connection.responseWatch().disarm();
                    if (requestSent) {
                        releaseUpstream();
                    } else {
                        keepAlive = false;
                        closeUpstream();
                    }
                    respondFromStore();
                }
                return;
            }
            if (!responseStarted) {
                content.release();
                return;
            }
            if (content.decoderResult().isFailure()) {
                // Broken framing: what was relayed cannot be completed honestly; cut both connections.
                content.release();
                upstreamFailed();
                return;
            }
            if (encoder != null) {
                content = encoder.encode(content); // what the cache copies and the client gets
            }
            if (flow != null) {
                flow.onBodyPart(content.content());
            }
            if (last) {
                responseReceived = true;
                connection.responseWatch().disarm();
                if (flow != null) {
                    flow.onResponseEnd();
                }
                // Back to the pool first: the write below may complete, and finish the exchange, at once.
                if (requestSent) {
                    releaseUpstream();
                } else {
                    keepAlive = false; // the origin answered before the body was all sent: neither side can be reused
                    closeUpstream();
                }
                ctx.writeAndFlush(content).addListener(this);
            } else {
                ctx.write(content);
            }
        }
    }

    /** The origin accepted a WebSocket handshake: the exchange ends here and a tunnel takes both connections. */
    private void switchProtocols(UpstreamConnection from, HttpResponse response) {
        status = response.status().code();
        upstreamNanos = System.nanoTime() - upstreamSentNanos;
        selection.responded(status, upstreamNanos, connection.services().metrics());
        upstream = null; // the tunnel's from now on: never back to the pool
        responseStarted = true;
        finished = true;
        connection.responseWatch().disarm();
        if (!upgrade.open(response, from)) {
            connection.close();
        }
        record();
    }

    private void startResponse(HttpResponse response) {
        HttpHeaders headers = response.headers();
        int code = response.status().code();
        status = code;
        upstreamNanos = System.nanoTime() - upstreamSentNanos;
        selection.responded(code, upstreamNanos, connection.services().metrics());
        boolean bodyless = head || code == 204 || code == 304;
        boolean hasLength = headers.contains(HttpHeaderNames.CONTENT_LENGTH);
        boolean chunked = HttpUtil.isTransferEncodingChunked(response);
        upstreamReusable = HttpUtil.isKeepAlive(response) && (bodyless || hasLength || chunked);
        // Hop-by-hop fields out before the cache copies the head: what is stored carries none of this node's.
        ForwardingHeaders.stripHopByHop(headers);
        if (coding != null) {
            // Encoded before the cache sees it: the cache stores the variant as sent (docs/compression.md).
            encoder = route.compression().begin(coding, response, head);
            hasLength = headers.contains(HttpHeaderNames.CONTENT_LENGTH);
        }
        if (flow != null && flow.onResponseHead(response)) {
            servingStored = true;
            closeEncoder();
            return;
        }
        boolean http11Client = request.protocolVersion().minorVersion() >= 1;
        if (!bodyless && !hasLength && http11Client) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        // HTTP/1.0 has no chunked: without a length the body ends when the connection does.
        decidePersistence(requestComplete && (bodyless || hasLength || http11Client));
        ResponseFinisher.finish(response, ResponseFinisher.Source.ORIGIN, response.protocolVersion(), this);
        responseStarted = true;
        ctx.write(response);
    }

    @Override
    public void onUpstreamReadComplete(UpstreamConnection from) {
        if (from != upstream || finished) {
            return;
        }
        ctx.flush();
        if (!responseReceived) {
            if (ctx.channel().isWritable()) {
                from.channel().read();
            } else {
                connection
                        .responseWatch()
                        .arm(
                                Phase.CLIENT_WRITE,
                                runtime.timeouts().clientWrite().toNanos());
            }
        }
    }

    @Override
    public void onUpstreamWritabilityChanged(UpstreamConnection from) {
        if (from == upstream && !finished) {
            connection.requestWatch().progress();
            connection.maybeRead();
        }
    }

    @Override
    public void onUpstreamClosed(UpstreamConnection from, Throwable cause) {
        if (from != upstream || finished) {
            return;
        }
        upstream = null;
        if (responseStarted) {
            abort(); // mid-response: the client must see a truncated message, never a complete-looking one
            return;
        }
        // A reused connection the origin closed just as we sent on it: nothing reached the application,
        // so one retry on a fresh connection is safe when there is no body to replay.
        if (from.requests() > 1 && !hasBody && !staleRetried) {
            staleRetried = true;
            selection.outcome(connection.services().metrics(), "retried");
            connect(true, false);
            return;
        }
        selection.tryFailed(connection.services().metrics(), "closed");
        // It may have reached the application: retried only when repeating it is harmless.
        if (ServerSelection.repeatable(request.method(), hasBody) && retryElsewhere()) {
            return;
        }
        respondLocally(HttpResponseStatus.BAD_GATEWAY);
    }

    /**
     * Moves the request to another available server, within the upstream's retry count. Returns
     * false (and changes nothing) when no retry is left or no other server can take it.
     */
    private boolean retryElsewhere() {
        if (!selection.retryElsewhere(
                request.headers(),
                connection.clientAddress(),
                connection.services().metrics())) {
            return false;
        }
        server = selection.server();
        UpstreamRequest.retarget(runtime, upstreamRequest, server);
        connect(false, false);
        return true;
    }

    private void upstreamFailed() {
        selection.tryFailed(connection.services().metrics(), "bad_response");
        closeUpstream();
        if (responseStarted) {
            abort();
        } else {
            respondLocally(HttpResponseStatus.BAD_GATEWAY);
        }
    }

    // ---- the client's side ----------------------------------------------------------------------

    void onDownstreamWritabilityChanged(boolean writable) {
        if (upstream == null || responseReceived || finished) {
            return;
        }
        if (writable) {
            armUpstreamRead();
            upstream.channel().read();
        } else {
            connection
                    .responseWatch()
                    .arm(Phase.CLIENT_WRITE, runtime.timeouts().clientWrite().toNanos());
        }
    }

    void onDownstreamClosed() {
        record();
        finished = true;
        closeUpstream();
        releaseEarly();
    }

    void expired(Phase phase) {
        if (finished) {
            return;
        }
        switch (phase) {
            case CLIENT_BODY -> {
                if (responseStarted) {
                    abort();
                } else {
                    keepAlive = false;
                    respondLocally(HttpResponseStatus.REQUEST_TIMEOUT);
                }
            }
            case UPSTREAM_READ, UPSTREAM_WRITE -> {
                selection.tryFailed(connection.services().metrics(), "timeout");
                if (!responseStarted
                        && phase == Phase.UPSTREAM_READ
                        && selection.retriesAfterTimeout(request.method(), hasBody)) {
                    closeUpstream(); // its answer, should it come, must not be mistaken for the next try's
                    if (retryElsewhere()) {
                        return;
                    }
                }
                if (responseStarted) {
                    abort();
                } else {
                    respondLocally(HttpResponseStatus.GATEWAY_TIMEOUT);
                }
            }
            default -> abort();
        }
    }

    // ---- the end --------------------------------------------------------------------------------

    /** The response's last write completed (the exchange is its own listener: no allocation per response). */
    @Override
    public void operationComplete(ChannelFuture written) {
        onResponseWritten(written.isSuccess());
    }

    private void onResponseWritten(boolean success) {
        if (!success) {
            abort();
            return;
        }
        responseComplete = true;
        maybeFinish();
    }

    private void maybeFinish() {
        if (finished || !responseComplete || (!requestComplete && keepAlive)) {
            return;
        }
        finished = true;
        closeUpstream();
        releaseEarly();
        record();
        connection.exchangeFinished(this, keepAlive && requestComplete);
    }

    /** Hands the upstream connection back: reusable only if both messages ended cleanly. */
    private void releaseUpstream() {
        if (upstream != null) {
            UpstreamConnection done = upstream;
            upstream = null;
            // After a handshake the origin answered without 101, its state is its own: never reused.
            connection
                    .pool()
                    .release(
                            done,
                            upstreamReusable && requestSent && responseReceived && upgrade == null,
                            route.upstream());
        }
    }

    private void closeUpstream() {
        if (upstream != null) {
            UpstreamConnection done = upstream;
            upstream = null;
            connection.pool().release(done, false, route.upstream());
        }
    }

    private void releaseEarly() {
        if (early != null) {
            HttpContent part;
            while ((part = early.poll()) != null) {
                part.release();
            }
        }
    }

    private void abort() {
        if (!finished) {
            connection.services().metrics().error(responseStarted ? "cut_response" : "aborted");
        }
        record();
        finished = true;
        closeUpstream();
        releaseEarly();
        connection.close();
    }

    private void closeEncoder() {
        if (encoder != null) {
            encoder.close();
            encoder = null;
        }
    }

    /** Counts the exchange and writes its access log line ({@link ExchangeLog}), once, however it ended. */
    private void record() {
        if (recorded) {
            return;
        }
        recorded = true;
        closeEncoder();
        if (flow != null) {
            flow.finish();
        }
        if (upgrade != null) {
            upgrade.exchangeEnded();
        }
        if (selection != null) {
            selection.end();
        }
        int sent = responseStarted ? (status != 0 ? status : connection.codec().lastStatus()) : 0;
        ExchangeLog.record(
                connection,
                runtime,
                request,
                originalTarget,
                route,
                server,
                sent,
                bodyBytes,
                responseStarted ? connection.codec().bodyBytesSent() : 0,
                startNanos,
                upstreamNanos,
                upgrade);
    }
}
