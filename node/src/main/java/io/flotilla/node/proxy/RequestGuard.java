package io.flotilla.node.proxy;

import io.flotilla.node.http.RequestChecks;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

/**
 * The first stage of every request, before it is routed ({@link RouteChain} has the whole order):
 * what the decoder let through but the proxy refuses. Nothing is forwarded and no body is read.
 */
final class RequestGuard {
    private RequestGuard() {}

    /**
     * The status to refuse {@code request} with, or null to let it on: the framing and smuggling
     * checks ({@link RequestChecks}, RFC 9112), a declared body over {@code bodyLimit} (413, decided on
     * the declared length alone), and an expectation other than 100-continue (417, RFC 9110 §10.1.1).
     */
    static HttpResponseStatus refusal(HttpRequest request, long bodyLimit) {
        RequestChecks.Refusal refusal = RequestChecks.check(request);
        if (refusal != null) {
            return refusal.status();
        }
        if (bodyLimit > 0 && HttpUtil.getContentLength(request, 0L) > bodyLimit) {
            return HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
        }
        CharSequence expect = request.headers().get(HttpHeaderNames.EXPECT);
        if (expect != null && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect)) {
            return HttpResponseStatus.EXPECTATION_FAILED;
        }
        return null;
    }
}
