package io.flotilla.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Host syntax and request-target forms (RFC 9112 §3.2). */
class RequestChecksTest {
    @ParameterizedTest
    @ValueSource(strings = {"example.com", "example.com:8080", "127.0.0.1", "[::1]", "[2001:db8::1]:443", "a-b.c_d"})
    void validHosts(String host) {
        assertTrue(RequestChecks.validHost(host));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "a b",
                "a/b",
                "user@host",
                "host:",
                "host:123456",
                "host:8o",
                "[::1",
                "[::1]x",
                ":80",
                "a\\b",
                "é.com"
            })
    void invalidHosts(String host) {
        assertFalse(RequestChecks.validHost(host));
    }

    @Test
    void absoluteFormBecomesOriginFormWithItsAuthorityAsHost() {
        HttpRequest request =
                new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "http://Example.com:8080/p?q=1");
        request.headers().set("Host", "ignored.example");
        assertNull(RequestChecks.check(request));
        assertEquals("/p?q=1", request.uri());
        assertEquals("Example.com:8080", request.headers().get("Host"));
    }

    @Test
    void asteriskFormOnlyForOptions() {
        HttpRequest options = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.OPTIONS, "*");
        options.headers().set("Host", "a");
        assertNull(RequestChecks.check(options));
        HttpRequest get = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "*");
        get.headers().set("Host", "a");
        assertEquals(400, RequestChecks.check(get).status().code());
    }

    @Test
    void http10MayOmitHost() {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/");
        assertNull(RequestChecks.check(request));
        HttpRequest http11 = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        assertEquals(400, RequestChecks.check(http11).status().code());
    }
}
