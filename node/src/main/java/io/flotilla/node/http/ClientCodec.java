package io.flotilla.node.http;

/**
 * What the request path reads of the codec that speaks to the client: the HTTP/1.1 {@link ServerCodec}
 * of a connection, or an HTTP/2 stream's {@link Http2StreamCodec}. It sees every response whoever made
 * it, so it knows what was sent.
 */
public interface ClientCodec {
    /** Status of the last final response written; 0 before any. */
    int lastStatus();

    /** Body bytes of the last final response written so far. */
    long bodyBytesSent();

    /** Adds the wire bytes counted since the last report to the listener's totals. */
    void reportBytes();

    /** The protocol for the access log ({@code HTTP/2.0}), or null for the request line's version. */
    String protocol();
}
