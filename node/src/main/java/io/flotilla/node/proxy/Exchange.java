package io.flotilla.node.proxy;

import io.flotilla.node.route.Route;
import io.flotilla.node.upstream.ConnectionPool;
import io.flotilla.node.upstream.UpstreamConnection;
import io.flotilla.node.upstream.UpstreamListener;
import io.flotilla.node.upstream.UpstreamServer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * The relay of one request and its response: the state machine from the first byte written to the
 * client or upstream to the exchange's end. Lives on its connection's event loop; the connection
 * ({@link ProxyHandler}) serves exchanges one at a time. What the route's stages see of the request
 * and decide about it, and the whole responses they answer with, are {@link RequestContext}'s, which
 * this class extends: one object per request, as before the split.
 *
 * <p>A forward is a sequence of small steps, each started by an event: connect (pool or new; another
 * server after a failure, as {@link ServerSelection} allows), write the head ({@link UpstreamRequest})
 * and any early body, relay body parts as the client sends them (reading more only while the
 * upstream socket is writable), relay the response the same way in the other direction (its head
 * wrapped by the stages, {@link RequestContext#wrapHead}, and finished by {@link ResponseFinisher}),
 * then hand the upstream connection back to the pool if both messages ended cleanly ({@link
 * Persistence}). Each wait is timed by the connection's watchdogs ({@link Phase}).
 *
 * <p>The connection calls, in a request's order: {@link #start} (or {@link #respondLocally}, {@link
 * #redirect}), {@link #onRequestContent} and {@link #wantsRequestBody} while the body comes, {@link
 * #flushUpstream} after each read, {@link #onDownstreamWritabilityChanged}, {@link #expired}, and
 * {@link #onDownstreamClosed}; the exchange ends with {@link ProxyHandler#exchangeFinished}.
 */
final class Exchange extends RequestContext implements UpstreamListener, ChannelFutureListener {
    private boolean forwarding;
    private boolean requestComplete;
    private boolean requestSent;
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
    /** The upstream's response is dropped and the stored one sent (a 304 refresh, stale-if-error). */
    private boolean servingStored;

    private boolean finished;
    private long upstreamSentNanos;
    private long upstreamNanos = -1;
    private int status;
    private boolean recorded;

    Exchange(
            ProxyHandler connection,
            ProxyRuntime runtime,
            HttpRequest request,
            Route route,
            String path,
            String query,
            boolean hasBody,
            boolean keepAlive) {
        super(connection, runtime, request, route, path, query, hasBody, keepAlive);
    }

    boolean requestComplete() {
        return requestComplete;
    }

    @Override
    boolean servingStored() {
        return servingStored;
    }

    @Override
    boolean finished() {
        return finished;
    }

    // ---- answers made here (whole responses: RequestContext; a static file) ------------------------

    /**
     * Sends a complete response made here or taken from the cache, through the response pass. An
     * upstream connection still held is not reused: its response, if any, is not the one sent.
     */
    @Override
    void send(FullHttpResponse response, ResponseFinisher.Source source) {
        closeUpstream();
        decidePersistence(true, requestComplete);
        status = response.status().code();
        ResponseFinisher.finish(response, source, HttpVersion.HTTP_1_1, this);
        responseStarted = true;
        ctx.writeAndFlush(response).addListener(this);
    }

    @Override
    public void serveStatic() {
        decidePersistence(true, requestComplete);
        responseStarted = true;
        route.statics().respond(ctx, request, route.remainder(path), this).addListener(this);
    }

    /** The response pass for the static file responder's heads (made here: no Via). */
    @Override
    public void finishHead(HttpResponse response) {
        status = response.status().code();
        ResponseFinisher.finish(response, ResponseFinisher.Source.LOCAL, HttpVersion.HTTP_1_1, this);
    }

    @Override
    public String stickyCookie() {
        return selection == null ? null : selection.stickyCookie();
    }

    // ---- connect --------------------------------------------------------------------------------

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
        upstreamRequest = UpstreamRequest.of(this, request.method(), request.headers(), hasBody, server, flow);
        connect(false, true);
    }

    /** Over a circuit limit: a fast 503, which is the point of the limit (no queue, no hang). */
    private void overflow() {
        connection.services().metrics().error("circuit_open");
        respondLocally(HttpResponseStatus.SERVICE_UNAVAILABLE);
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

    // ---- the request body -----------------------------------------------------------------------

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
            keepAlive = false;
            fail(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
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
        Duration perTry = route.upstream().health().tryTimeout();
        if (!responseStarted && !perTry.isZero()) {
            timeout = Math.min(timeout, perTry.toNanos());
        }
        // A gRPC call waits no longer than its client will (grpc-timeout, counted from its arrival).
        timeout = io.flotilla.node.http.GrpcTimeout.cap(request.headers(), startNanos, System.nanoTime(), timeout);
        connection.responseWatch().arm(Phase.UPSTREAM_READ, timeout);
    }

    /** Times a client that does not read the response (its socket stays unwritable). */
    private void armClientWrite() {
        connection
                .responseWatch()
                .arm(Phase.CLIENT_WRITE, runtime.timeouts().clientWrite().toNanos());
    }

    // ---- the response -----------------------------------------------------------------------------

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
            if (code == 101) {
                ReferenceCountUtil.release(msg);
                if (upgrade != null && upgrade.accepts(response)) {
                    switchProtocols(from, response);
                } else {
                    upstreamFailed(); // an upgrade nobody asked for
                }
                return;
            } else if (code < 200) {
                skippingInformational = true; // its end is dropped; the final response follows
                if (code != 100 && request.protocolVersion().minorVersion() >= 1 && !responseStarted) {
                    // RFC 9110 §15.2: a proxy forwards 1xx (103 Early Hints, say) to an HTTP/1.1 client.
                    // 100 is not: the proxy answered Expect itself and never forwards it.
                    ctx.write(ResponseFinisher.interim(response, runtime.headers()));
                }
            } else {
                startResponse(response);
            }
        }
        if (msg instanceof HttpContent) {
            onResponseContent((HttpContent) msg);
        }
    }

    private void startResponse(HttpResponse response) {
        responded(response);
        HttpHeaders headers = response.headers();
        boolean bodyless = Persistence.bodyless(response, head);
        boolean hasLength = headers.contains(HttpHeaderNames.CONTENT_LENGTH);
        upstreamReusable = Persistence.upstreamReusable(response, bodyless, hasLength);
        if (!wrapHead(response)) {
            servingStored = true; // a 304 that refreshed the stored response, or an error a stale copy stands in for
            return;
        }
        if (coding != null) {
            hasLength = headers.contains(HttpHeaderNames.CONTENT_LENGTH); // the encoding changes the length
        }
        HttpVersion client = request.protocolVersion();
        if (Persistence.needsChunked(bodyless, hasLength, client)) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        decidePersistence(requestComplete && Persistence.framed(bodyless, hasLength, client), requestComplete);
        ResponseFinisher.finish(response, ResponseFinisher.Source.ORIGIN, response.protocolVersion(), this);
        responseStarted = true;
        ctx.write(response);
    }

    private void onResponseContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (skippingInformational) {
            content.release();
            skippingInformational = !last;
            return;
        }
        if (servingStored) {
            content.release(); // the origin's 304 (or error) body; the stored response goes out instead
            if (last) {
                responseEnded();
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
        content = wrapPart(content);
        if (last) {
            // Back to the pool first: the write below may complete, and finish the exchange, at once.
            responseEnded();
            ctx.writeAndFlush(content).addListener(this);
        } else {
            ctx.write(content);
        }
    }

    /**
     * The origin's response has ended: the cache's copy is complete (unless the stored response goes
     * out instead), and the origin's connection goes back to the pool, or closes if it cannot be reused.
     */
    private void responseEnded() {
        responseReceived = true;
        connection.responseWatch().disarm();
        if (!servingStored) {
            wrapEnd();
        }
        if (requestSent) {
            releaseUpstream();
        } else {
            keepAlive = false; // the origin answered before the body was all sent: neither side can be reused
            closeUpstream();
        }
    }

    /** The origin's final answer (or 101) came: its status and time to first byte, for the log and the server's health. */
    private void responded(HttpResponse response) {
        status = response.status().code();
        upstreamNanos = System.nanoTime() - upstreamSentNanos;
        selection.responded(status, upstreamNanos, connection.services().metrics());
    }

    /** The origin accepted a WebSocket handshake: the exchange ends here and a tunnel takes both connections. */
    private void switchProtocols(UpstreamConnection from, HttpResponse response) {
        responded(response);
        upstream = null; // the tunnel's from now on: never back to the pool
        responseStarted = true;
        finished = true;
        connection.responseWatch().disarm();
        if (!upgrade.open(response, from)) {
            connection.close();
        }
        record();
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
                armClientWrite();
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

    private void upstreamFailed() {
        selection.tryFailed(connection.services().metrics(), "bad_response");
        closeUpstream();
        fail(HttpResponseStatus.BAD_GATEWAY);
    }

    /** A response under way is cut (the client must see it truncated, never complete-looking); else {@code status}. */
    private void fail(HttpResponseStatus status) {
        if (responseStarted) {
            abort();
        } else {
            respondLocally(status);
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
            armClientWrite();
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
                keepAlive = false;
                fail(HttpResponseStatus.REQUEST_TIMEOUT);
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
                fail(HttpResponseStatus.GATEWAY_TIMEOUT);
            }
            default -> abort();
        }
    }

    // ---- the end --------------------------------------------------------------------------------

    /** The response's last write completed (the exchange is its own listener: no allocation per response). */
    @Override
    public void operationComplete(ChannelFuture written) {
        if (!written.isSuccess()) {
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

    /** Gives back what the exchange holds and writes its metrics and access log line ({@link ExchangeLog}), once. */
    private void record() {
        if (recorded) {
            return;
        }
        recorded = true;
        endStages();
        if (selection != null) {
            selection.end();
        }
        int sent = responseStarted ? (status != 0 ? status : connection.codec().lastStatus()) : 0;
        long bytesSent = responseStarted ? connection.codec().bodyBytesSent() : 0;
        ExchangeLog.record(this, server, sent, bodyBytes, bytesSent, upstreamNanos);
    }
}
