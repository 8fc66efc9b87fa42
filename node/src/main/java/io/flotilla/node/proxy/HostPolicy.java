package io.flotilla.node.proxy;

import io.flotilla.node.config.HeaderPolicy;
import io.flotilla.node.upstream.UpstreamServer;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * The Host a forwarded request carries ({@code headers.host}), parsed once when the config is
 * compiled: the client's ({@link #pass()}, or the server's address when the client sent none), the
 * server's address ({@link #upstream()}), or a fixed value ({@link #literal}).
 */
final class HostPolicy {
    private static final HostPolicy PASS = new HostPolicy(false, null);
    private static final HostPolicy UPSTREAM = new HostPolicy(true, null);

    private final boolean followsServer;
    private final String literal;

    private HostPolicy(boolean followsServer, String literal) {
        this.followsServer = followsServer;
        this.literal = literal;
    }

    static HostPolicy pass() {
        return PASS;
    }

    static HostPolicy upstream() {
        return UPSTREAM;
    }

    static HostPolicy literal(String host) {
        return new HostPolicy(false, host);
    }

    /** {@code pass}, {@code upstream}, or any other value used literally. */
    static HostPolicy parse(String configured) {
        if (HeaderPolicy.HOST_PASS.equals(configured)) {
            return PASS;
        }
        return HeaderPolicy.HOST_UPSTREAM.equals(configured) ? UPSTREAM : literal(configured);
    }

    /** Whether the Host changes with the server (so a retry on another server sets it again). */
    boolean followsServer() {
        return followsServer;
    }

    /** Sets the Host of a request going to {@code server}; {@code clientHost} is the client's, or null. */
    void apply(HttpHeaders headers, String clientHost, UpstreamServer server) {
        if (literal != null) {
            headers.set(HttpHeaderNames.HOST, literal);
        } else if (followsServer || clientHost == null) {
            headers.set(HttpHeaderNames.HOST, server.address().authority());
        }
    }
}
