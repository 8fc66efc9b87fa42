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
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * One request as its route's chain of stages sees it ({@link Stage.Context}) and as the response
 * pass reads it ({@link ResponseFinisher.Context}): its facts, fixed when it was routed; where the
 * chain has got to; what the stages decided about it (the rate limit's verdict, the content coding,
 * the cache's part, a WebSocket upgrade being carried) and whether its connection stays open
 * ({@link Persistence}); the whole responses they answer with (an error, a redirect, a stored
 * response: {@link CacheHandoff}); and how they wrap a relayed response (encoded, then copied by the
 * cache: {@link #wrapHead}).
 *
 * <p>Writing and relaying are the {@link Exchange}'s, which extends this class ({@link #send}, {@link
 * #forward}, {@link #serveStatic}): a request is still one object on the hot path, so the split
 * costs no allocation.
 */
abstract class RequestContext
        implements Stage.Context, ResponseFinisher.Context, FinalHeadPass, Consumer<CacheFlow.Decision> {
    final ProxyHandler connection;
    final ChannelHandlerContext ctx;
    final ProxyRuntime runtime;
    final HttpRequest request;
    /** The matched route; null for a request refused or redirected before routing. */
    final Route route;
    /** The normalized path, and the query with its {@code ?} (or empty). */
    final String path;

    final String query;
    /** The request target as the client sent it (the access log's; a rewrite changes only what goes upstream). */
    final String originalTarget;

    final boolean hasBody;
    final boolean head;
    final long startNanos = System.nanoTime();

    /** Whether the connection stays open after the response: asked by the client, then decided once. */
    boolean keepAlive;
    /** The rate limit's verdict on this request, described on its response; null when not limited. */
    RateDecision rateDecision;
    /** The coding negotiated on a compressing route; null elsewhere. */
    Coding coding;
    /** The cache's part in this request, on a caching route; null elsewhere ({@link CacheHandoff}). */
    CacheFlow flow;
    /** A WebSocket handshake being carried; null for every other request. */
    WebSocketUpgrade upgrade;
    /** The relayed response body's encoder on a compressing route; null when the body goes as it is. */
    private ContentEncoder encoder;

    /** The route's stages, and the next one to run. */
    private RouteChain chain;

    private int nextStage;

    RequestContext(
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

    /** Makes this request carry a WebSocket handshake (see {@link WebSocketUpgrade#admit}). */
    void upgrade(WebSocketUpgrade upgrade) {
        this.upgrade = upgrade;
    }

    /**
     * Decides, once per response, whether the connection stays open after it ({@link
     * Persistence#decide}); {@code framed} false when the response cannot be delimited on a persistent
     * connection.
     */
    void decidePersistence(boolean framed, boolean bodyRead) {
        keepAlive = Persistence.decide(
                keepAlive,
                framed,
                bodyRead || !hasBody,
                connection.closed(),
                connection.services().draining());
    }

    /** Writes a whole response (made here or stored) through the response pass; the exchange's. */
    abstract void send(FullHttpResponse response, ResponseFinisher.Source source);

    /** Whether the exchange is over (answered and written, cut, or its client gone). */
    abstract boolean finished();

    /** Whether the origin's response is being dropped for the stored one ({@link CacheHandoff}). */
    abstract boolean servingStored();

    // ---- answers made here, as whole responses ----------------------------------------------------

    /**
     * Answers with a short error response, or with a stale copy standing in for it ({@link
     * CacheHandoff#staleStandsIn}); a body the client still sends is not read: close after.
     */
    void respondLocally(HttpResponseStatus status) {
        if (!CacheHandoff.staleStandsIn(this, status)) {
            respondWithStatus(status, null);
        }
    }

    /** A redirect made by the proxy (a listener with redirect_https). */
    void redirect(HttpResponseStatus status, String location) {
        respondWithStatus(status, location);
    }

    /** Answers with a short error response, never a stored one. */
    void respondWithStatus(HttpResponseStatus status) {
        respondWithStatus(status, null);
    }

    private void respondWithStatus(HttpResponseStatus status, String location) {
        FullHttpResponse response = ErrorResponses.of(status, false);
        if (location != null) {
            response.headers().set(HttpHeaderNames.LOCATION, location);
        }
        respond(response);
    }

    @Override
    public void respond(FullHttpResponse response) {
        connection.services().metrics().localResponse(response.status().code());
        send(response, ResponseFinisher.Source.LOCAL);
    }

    /** Writes the stored response (with its Age, Cache-Status, and the client's conditionals and range). */
    void respondFromStore() {
        send(flow.storedResponse(), ResponseFinisher.Source.STORED);
    }

    @Override
    public void lookUpCache() {
        CacheHandoff.lookUp(this);
    }

    /** The cache lookup's decision (the request is the lookup's callback: nothing allocated per lookup). */
    @Override
    public void accept(CacheFlow.Decision decision) {
        if (!finished()) { // else the client left while the lookup or a fill was awaited
            CacheHandoff.decided(this, decision);
        }
    }

    // ---- what the stages see and record (Stage.Context) ------------------------------------------

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

    /**
     * The route's compression hook for a response head (a static file's, or the origin's): adjusts
     * it and returns the encoder for its body, or null when the body goes as it is.
     */
    @Override
    public ContentEncoder encodeBody(HttpResponse response) {
        return coding == null ? null : route.compression().begin(coding, response, head);
    }

    // ---- the stages' wrap of a relayed response: compression, then the cache's copy ----------------

    /**
     * The origin's final head on its way to the client: its hop-by-hop fields out, then encoded on a
     * compressing route, then offered to the cache, which sees the variant as the client gets it
     * (docs/compression.md). Returns false when the cache takes the response over: the stored
     * response goes out instead (a 304 that refreshed it, an error a stale copy stands in for).
     */
    boolean wrapHead(HttpResponse response) {
        // Hop-by-hop fields out before the cache copies the head: what is stored carries none of this node's.
        ForwardingHeaders.stripHopByHop(response.headers());
        if (coding != null) {
            encoder = encodeBody(response);
        }
        if (flow != null && flow.onResponseHead(response)) {
            closeEncoder();
            return false;
        }
        return true;
    }

    /** A relayed body part: encoded, then copied by the cache; what the client gets. */
    HttpContent wrapPart(HttpContent part) {
        if (encoder != null) {
            part = encoder.encode(part);
        }
        if (flow != null) {
            flow.onBodyPart(part.content());
        }
        return part;
    }

    /** The relayed response's end: the cache's copy is complete. */
    void wrapEnd() {
        if (flow != null) {
            flow.onResponseEnd();
        }
    }

    /** The exchange is over, however it ended: the encoder, the cache's fill, an unused tunnel slot given back. */
    void endStages() {
        closeEncoder();
        if (flow != null) {
            flow.finish();
        }
        if (upgrade != null) {
            upgrade.exchangeEnded();
        }
    }

    private void closeEncoder() {
        if (encoder != null) {
            encoder.close();
            encoder = null;
        }
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
}
