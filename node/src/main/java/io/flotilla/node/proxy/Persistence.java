package io.flotilla.node.proxy;

import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Whether a client connection stays open after a response (RFC 9112 §9.3), and how a relayed
 * response is delimited so that it can. The client's wish is read when the request arrives
 * ({@link #asked}); the decision is made once per response, when its head is about to go out
 * ({@link #decide}); {@link ResponseFinisher} writes it as the {@code Connection} field. What the
 * relay learns later (a body cut short, an origin that answered before the request's end) can only
 * turn it off. Static: nothing allocated per request.
 */
final class Persistence {
    private Persistence() {}

    /** What the client asked for: its version's default or its {@code Connection} field, never while draining. */
    static boolean asked(HttpRequest request, boolean draining) {
        return HttpUtil.isKeepAlive(request) && !draining;
    }

    /**
     * The one decision: the connection stays open only if the client asked for it, the response can
     * be framed on a persistent connection ({@code framed}), no request body is left unread, the
     * connection is not already closing and the node does not drain.
     */
    static boolean decide(boolean asked, boolean framed, boolean bodyRead, boolean closing, boolean draining) {
        return asked && framed && bodyRead && !closing && !draining;
    }

    /** Whether a relayed response has no body: to a HEAD, or a 204 or 304 (RFC 9110 §6.4.1). */
    static boolean bodyless(HttpResponse response, boolean head) {
        int code = response.status().code();
        return head || code == 204 || code == 304;
    }

    /**
     * Whether the origin's connection can carry another request after {@code response}: the origin
     * did not ask to close, and the response's end can be told without the connection closing.
     */
    static boolean upstreamReusable(HttpResponse response, boolean bodyless, boolean hasLength) {
        return HttpUtil.isKeepAlive(response)
                && (bodyless || hasLength || HttpUtil.isTransferEncodingChunked(response));
    }

    /**
     * Whether a relayed response's end can be told on a connection that stays open: it has no body
     * or a length, or the client speaks HTTP/1.1 and gets it chunked ({@link #needsChunked}). HTTP/1.0
     * has no chunked: without a length the body ends when the connection does.
     */
    static boolean framed(boolean bodyless, boolean hasLength, HttpVersion client) {
        return bodyless || hasLength || client.minorVersion() >= 1;
    }

    /** Whether a relayed response goes chunked to the client: a body of no stated length, to HTTP/1.1. */
    static boolean needsChunked(boolean bodyless, boolean hasLength, HttpVersion client) {
        return !bodyless && !hasLength && client.minorVersion() >= 1;
    }
}
