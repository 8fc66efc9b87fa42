package io.flotilla.node.config;

import java.util.List;
import java.util.Optional;

/**
 * One listening socket.
 *
 * @param bind           address and port; port 0 picks a free one (tests)
 * @param maxConnections beyond this many open connections the listener stops accepting (the kernel
 *                       backlog holds the rest), as HAProxy's {@code maxconn} does
 * @param proxyProtocol  every connection starts with a PROXY protocol v1 or v2 header (from an L4 front)
 * @param trustedProxies the only peers allowed to send one; others are disconnected
 * @param tls            TLS termination; absent = plain HTTP
 * @param redirectHttps  on a plain listener: answer every request with a redirect to https
 * @param http2          HTTP/2 to clients: h2 by ALPN, h2c, and its limits ({@link Http2Config})
 */
public record ListenerConfig(
        HostPort bind,
        int maxConnections,
        boolean proxyProtocol,
        List<Cidr> trustedProxies,
        Optional<ListenerTlsConfig> tls,
        Optional<RedirectConfig> redirectHttps,
        Http2Config http2) {
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

    public ListenerConfig {
        trustedProxies = List.copyOf(trustedProxies);
    }

    public ListenerConfig(HostPort bind, int maxConnections) {
        this(bind, maxConnections, false, List.of(), Optional.empty(), Optional.empty(), Http2Config.defaults());
    }

    /** Speaks HTTP/2 to clients: h2 by ALPN on TLS, or h2c when the listener is plain and allows it. */
    public boolean speaksHttp2() {
        return http2.offeredOn(tls.isPresent());
    }

    /**
     * Whether becoming {@code next} needs a restart: anything about the socket does, while a TLS
     * listener's certificates, keys and TLS settings are swapped live (so a reload can renew them).
     */
    public boolean needsRestartFor(ListenerConfig next) {
        return !bind.equals(next.bind)
                || maxConnections != next.maxConnections
                || proxyProtocol != next.proxyProtocol
                || !trustedProxies.equals(next.trustedProxies)
                || tls.isPresent() != next.tls.isPresent()
                || !redirectHttps.equals(next.redirectHttps)
                || !http2.equals(next.http2);
    }
}
