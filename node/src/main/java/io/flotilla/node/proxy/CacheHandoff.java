package io.flotilla.node.proxy;

import io.flotilla.node.cache.CacheFlow;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Where an exchange on a caching route hands over to its {@link CacheFlow}, and takes back: the
 * lookup ({@link RouteChain.LookUpCache}) and what its decision means for the exchange (answer from
 * the store, refresh in the background, forward, 504), a stale copy standing in for the proxy's own
 * 502/503/504 (RFC 5861 §4), and a stale-while-revalidate refresh sent the way the exchange's own
 * request would be. On the relayed response the flow is told each step by the exchange itself
 * ({@code onResponseHead}, which can take the response over, {@code onBodyPart}, {@code
 * onResponseEnd}); the origin's 304 and 5xx come back as the stored response, through {@link
 * RequestContext#respondFromStore}. Static: the request is the lookup's callback, nothing is allocated
 * for the handover.
 */
final class CacheHandoff {
    private CacheHandoff() {}

    /** Looks {@code exchange}'s request up in its route's cache; the decision comes back in {@link #decided}. */
    static void lookUp(RequestContext exchange) {
        if (exchange.upgrade != null) {
            exchange.proceed(); // the cache never stores nor serves a handshake
            return;
        }
        exchange.flow = exchange.route
                .cache()
                .begin(exchange.request, exchange.connection.scheme(), exchange.path, exchange.query, exchange.hasBody);
        exchange.flow.lookup(exchange.ctx.channel().eventLoop(), exchange);
    }

    /** The lookup's decision, for an exchange whose client is still there. */
    static void decided(RequestContext exchange, CacheFlow.Decision decision) {
        switch (decision) {
            case HIT -> exchange.respondFromStore();
            case STALE_REFRESH -> {
                exchange.respondFromStore();
                CacheFlow refresh = exchange.flow.refresh();
                if (refresh != null) {
                    refresh.ifNoOtherNodeRefreshes(
                            exchange.ctx.channel().eventLoop(), () -> refreshInBackground(exchange, refresh));
                }
            }
            case FORWARD -> exchange.proceed();
            case GATEWAY_TIMEOUT -> exchange.respondWithStatus(HttpResponseStatus.GATEWAY_TIMEOUT);
        }
    }

    /**
     * Answers with the stored response instead of the proxy's own {@code status} (502, 503, 504)
     * when the request's flow allows a stale copy to stand in (RFC 5861 §4: the origin failed).
     * Returns false, having done nothing, otherwise.
     */
    static boolean staleStandsIn(RequestContext exchange, HttpResponseStatus status) {
        CacheFlow flow = exchange.flow;
        if (flow == null || exchange.servingStored() || !flow.staleStandsInFor(status.code(), false)) {
            return false;
        }
        exchange.respondFromStore();
        return true;
    }

    /**
     * Revalidates the stale entry just served (stale-while-revalidate) with a GET of the proxy's own,
     * built and sent the way the exchange's would be, on its connection's event loop and pool.
     */
    private static void refreshInBackground(RequestContext exchange, CacheFlow refresh) {
        EventLoop loop = exchange.ctx.channel().eventLoop();
        ServerSelection refreshing = new ServerSelection(exchange.route.upstream(), loop);
        if (!refreshing.pickAny()) {
            refresh.finish();
            return;
        }
        HttpRequest get = UpstreamRequest.of(
                exchange, HttpMethod.GET, exchange.request.headers().copy(), false, refreshing.server(), refresh);
        BackgroundRefresh.start(
                exchange.connection.pool(),
                exchange.route.upstream(),
                refreshing,
                get,
                refresh,
                loop,
                exchange.runtime.timeouts().upstreamRead(),
                exchange.route.compression(),
                exchange.coding);
    }
}
