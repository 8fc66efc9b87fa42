package io.flotilla.node.upstream;

import io.flotilla.node.http.Cookies;
import io.flotilla.node.http.ForwardingHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;

/**
 * What a hashing balancer keys a request by ({@code hash_on}), parsed once when the upstream is
 * compiled: the client's IP, a request header, or a cookie.
 */
public abstract class HashKey {
    /** The header or cookie named; null for the client's IP. */
    final String name;

    private HashKey(String name) {
        this.name = name;
    }

    /** The client's address (from the socket or the PROXY protocol). */
    public static HashKey clientIp() {
        return ClientIp.INSTANCE;
    }

    public static HashKey header(String name) {
        return new Header(name);
    }

    public static HashKey cookie(String name) {
        return new Cookie(name);
    }

    /** {@code client_ip}, {@code header:NAME} or {@code cookie:NAME} (the config has validated it). */
    public static HashKey parse(String hashOn) {
        if (hashOn == null) {
            return clientIp();
        }
        if (hashOn.startsWith("header:")) {
            return header(hashOn.substring(7));
        }
        if (hashOn.startsWith("cookie:")) {
            return cookie(hashOn.substring(7));
        }
        return clientIp();
    }

    /** The request's key; null when the header or cookie is absent (the balancer then picks as it likes). */
    public abstract String of(HttpHeaders request, InetSocketAddress client);

    private static final class ClientIp extends HashKey {
        static final ClientIp INSTANCE = new ClientIp();

        ClientIp() {
            super(null);
        }

        @Override
        public String of(HttpHeaders request, InetSocketAddress client) {
            return ForwardingHeaders.clientIp(client);
        }
    }

    private static final class Header extends HashKey {
        Header(String name) {
            super(name);
        }

        @Override
        public String of(HttpHeaders request, InetSocketAddress client) {
            return request.get(name);
        }
    }

    private static final class Cookie extends HashKey {
        Cookie(String name) {
            super(name);
        }

        @Override
        public String of(HttpHeaders request, InetSocketAddress client) {
            return Cookies.value(request, name);
        }
    }
}
