package io.flotilla.node.proxy;

import io.flotilla.node.cache.CacheFlow;
import io.flotilla.node.http.Http2StreamCodec;
import io.flotilla.node.upstream.UpstreamServer;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;

/**
 * The request head a node sends upstream, for a client's request or for a background refresh of a
 * stored response (the same head either way): hop-by-hop fields out and forwarding fields in
 * ({@link ProxyRuntime#prepareUpstreamHeaders}), framing kept, the target rewritten by the route,
 * and a revalidation's validators.
 */
final class UpstreamRequest {
    private UpstreamRequest() {}

    /**
     * @param client  the client's request (its version, framing and target)
     * @param headers the client's headers (or a copy), changed in place
     * @param target  the target after the route's rewrite
     * @param cache   the cache's part in the request, adding validators; null when not caching
     */
    static HttpRequest build(
            ProxyRuntime runtime,
            HttpRequest client,
            HttpMethod method,
            HttpHeaders headers,
            boolean withBody,
            UpstreamServer to,
            CacheFlow cache,
            InetSocketAddress from,
            String scheme,
            String target) {
        boolean chunked = withBody && HttpUtil.isTransferEncodingChunked(client);
        runtime.prepareUpstreamHeaders(headers, from, scheme, Http2StreamCodec.receivedVersion(client), to);
        if (chunked) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else if (!withBody && contentMeansNothing(method)) {
            // RFC 9110 §8.6: no Content-Length on a request without content whose method gives content
            // no meaning; a client's "Content-Length: 0" on a GET stops here.
            headers.remove(HttpHeaderNames.CONTENT_LENGTH);
        }
        if (cache != null) {
            cache.prepareUpstream(headers);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, target, headers);
    }

    /**
     * The head sent upstream for {@code request}'s client request, or for a refresh of its stored
     * response ({@code method} GET, a copy of the headers, no body): the route's rewrite applied, and
     * a WebSocket handshake's upgrade fields put back after the hop-by-hop removal.
     */
    static HttpRequest of(
            RequestContext request,
            HttpMethod method,
            HttpHeaders headers,
            boolean withBody,
            UpstreamServer to,
            CacheFlow cache) {
        String target = "*".equals(request.request.uri()) ? "*" : request.route.rewrite(request.path) + request.query;
        HttpRequest sent = build(
                request.runtime,
                request.request,
                method,
                headers,
                withBody,
                to,
                cache,
                request.connection.clientAddress(),
                request.connection.scheme(),
                target);
        if (request.upgrade != null) {
            request.upgrade.prepareUpstream(sent.headers());
        }
        return sent;
    }

    /** After a retry moved the request to {@code to}: its Host follows the server when the policy says so. */
    static void retarget(ProxyRuntime runtime, HttpRequest sent, UpstreamServer to) {
        if (runtime.hostPolicy().followsServer()) {
            sent.headers().set(HttpHeaderNames.HOST, to.address().authority());
        }
    }

    /** GET, HEAD, DELETE and TRACE: methods for which content has no defined meaning (RFC 9110 §9.3). */
    private static boolean contentMeansNothing(HttpMethod method) {
        return method.equals(HttpMethod.GET)
                || method.equals(HttpMethod.HEAD)
                || method.equals(HttpMethod.DELETE)
                || method.equals(HttpMethod.TRACE);
    }
}
