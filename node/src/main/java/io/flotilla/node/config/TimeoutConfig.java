package io.flotilla.node.config;

import java.time.Duration;

/**
 * Timeouts of every phase of an exchange. Defaults follow NGINX and Envoy's edge guidance, a little
 * tighter on the client side where slow clients cost memory.
 *
 * @param clientHeader    total time to receive a request head, from its first byte (a slowloris is cut)
 * @param clientBody      longest wait for the next body bytes while the proxy is asking for them
 * @param keepAlive       an idle client connection between requests is closed after this
 * @param clientWrite     longest a response may be stalled by a client that does not read
 * @param upstreamConnect connecting to an origin
 * @param upstreamRead    waiting for the response head, and between response body reads
 * @param upstreamWrite   longest a request body may be stalled by an origin that does not read
 */
public record TimeoutConfig(
        Duration clientHeader,
        Duration clientBody,
        Duration keepAlive,
        Duration clientWrite,
        Duration upstreamConnect,
        Duration upstreamRead,
        Duration upstreamWrite) {

    public static final Duration DEFAULT_CLIENT_HEADER = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CLIENT_BODY = Duration.ofSeconds(30);
    public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(60);
    public static final Duration DEFAULT_CLIENT_WRITE = Duration.ofSeconds(60);
    public static final Duration DEFAULT_UPSTREAM_CONNECT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_UPSTREAM_READ = Duration.ofSeconds(60);
    public static final Duration DEFAULT_UPSTREAM_WRITE = Duration.ofSeconds(60);

    public static TimeoutConfig defaults() {
        return new TimeoutConfig(
                DEFAULT_CLIENT_HEADER,
                DEFAULT_CLIENT_BODY,
                DEFAULT_KEEP_ALIVE,
                DEFAULT_CLIENT_WRITE,
                DEFAULT_UPSTREAM_CONNECT,
                DEFAULT_UPSTREAM_READ,
                DEFAULT_UPSTREAM_WRITE);
    }
}
