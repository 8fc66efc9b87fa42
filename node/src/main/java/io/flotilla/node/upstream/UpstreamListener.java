package io.flotilla.node.upstream;

/**
 * What an exchange hears from the upstream connection it holds. Every call comes on the event loop
 * that owns both the connection and the exchange.
 */
public interface UpstreamListener {
    /** A decoded response part; the listener owns (and must release or pass on) it. */
    void onUpstreamRead(UpstreamConnection connection, Object message);

    /** The end of one socket read: the moment to flush what was relayed. */
    void onUpstreamReadComplete(UpstreamConnection connection);

    void onUpstreamWritabilityChanged(UpstreamConnection connection);

    /** The connection closed; {@code cause} is why, or null for an orderly close by the peer. */
    void onUpstreamClosed(UpstreamConnection connection, Throwable cause);
}
