package io.flotilla.node.http;

import io.flotilla.node.compress.ContentEncoder;
import io.netty.handler.codec.http.HttpResponse;

/**
 * The pass a final response head takes just before it is written, for code that writes its own
 * responses (static files): the proxy's fields and the connection's persistence are the exchange's.
 */
public interface FinalHeadPass {
    void finishHead(HttpResponse response);

    /**
     * Before {@link #finishHead}: adjusts the head for the route's compression and returns the
     * encoder for its body, or null when the body goes as it is (or there is none).
     */
    default ContentEncoder encodeBody(HttpResponse response) {
        return null;
    }
}
