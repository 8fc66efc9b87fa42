package io.flotilla.node.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

/** Reading one cookie of a request (RFC 6265 §5.4), for keys: hashing, caching, bypass conditions. */
public final class Cookies {
    private Cookies() {}

    /** The value of the request's cookie {@code name}, or null when it has none. */
    public static String value(HttpHeaders headers, String name) {
        for (String header : headers.getAll(HttpHeaderNames.COOKIE)) {
            for (String pair : header.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().equals(name)) {
                    return pair.substring(eq + 1).trim();
                }
            }
        }
        return null;
    }
}
