package io.flotilla.node.http;

import io.netty.handler.codec.http.HttpResponse;

/**
 * The pass a final response head takes just before it is written, for code that writes its own
 * responses (static files): the proxy's fields and the connection's persistence are the exchange's.
 */
public interface FinalHeadPass {
    void finishHead(HttpResponse response);
}
