package io.flotilla.node.tunnel;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The HTTP/1.1 side of a WebSocket opening handshake (RFC 6455 §4) as a proxy sees it: whether a
 * request asks for one and is well formed, the fields that must cross the proxy although they are
 * hop-by-hop ({@code Connection: Upgrade}, {@code Upgrade: websocket}), and whether the origin's 101
 * accepts it. Nothing here reads frames: after the 101 the tunnel relays bytes.
 */
public final class WebSocketHandshake {
    /** The one version RFC 6455 defines; a client asking for another gets 426 naming it (§4.4). */
    public static final String VERSION = "13";

    /** The name of the protocol, as {@code Upgrade} and RFC 8441's {@code :protocol} carry it. */
    public static final String WEBSOCKET = "websocket";
    /** RFC 6455 §1.3: what the accept value hashes after the key. */
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private WebSocketHandshake() {}

    /** Why a handshake is refused: the status, a reason for the log, and the field a 426 carries. */
    public record Refusal(HttpResponseStatus status, String reason) {}

    /**
     * Whether {@code request} asks to upgrade to WebSocket: an {@code Upgrade} field naming
     * {@code websocket} and {@code Connection} naming {@code upgrade}. Without the latter the Upgrade
     * field must be ignored (RFC 9110 §7.8), and it is stripped like any hop-by-hop field.
     */
    public static boolean requested(HttpRequest request) {
        HttpHeaders headers = request.headers();
        return hasToken(headers.getAll(HttpHeaderNames.UPGRADE), WEBSOCKET)
                && hasToken(headers.getAll(HttpHeaderNames.CONNECTION), "upgrade");
    }

    /**
     * Why a requested handshake cannot be tunnelled, or null when it is well formed (RFC 6455 §4.1): a
     * GET over HTTP/1.1 without a body, one {@code Sec-WebSocket-Key} of 16 bytes in base64, one
     * {@code Sec-WebSocket-Version} of 13 (another version gets 426, §4.4).
     */
    public static Refusal check(HttpRequest request) {
        HttpHeaders headers = request.headers();
        if (!HttpMethod.GET.equals(request.method())) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "a WebSocket handshake is a GET");
        }
        if (!HttpVersion.HTTP_1_1.equals(request.protocolVersion())) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "a WebSocket handshake needs HTTP/1.1");
        }
        if (HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "a WebSocket handshake has no body");
        }
        List<String> keys = headers.getAll(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        if (keys.size() != 1 || !validKey(keys.get(0).trim())) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "Sec-WebSocket-Key missing or not 16 bytes in base64");
        }
        List<String> versions = headers.getAll(HttpHeaderNames.SEC_WEBSOCKET_VERSION);
        if (versions.isEmpty()) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "Sec-WebSocket-Version missing");
        }
        if (versions.size() != 1 || !VERSION.equals(versions.get(0).trim())) {
            return new Refusal(HttpResponseStatus.UPGRADE_REQUIRED, "only WebSocket version 13");
        }
        return null;
    }

    /**
     * Puts back what the hop-by-hop removal took from a handshake and from the 101 that answers it:
     * the upgrade is between the client and the origin, the proxy only carries it.
     */
    public static void restoreUpgradeFields(HttpHeaders headers) {
        headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        headers.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
    }

    /** Whether the origin's 101 switches to WebSocket (a 101 to anything else is not one it may send). */
    public static boolean accepted(HttpResponse response) {
        return response.status().code() == 101
                && hasToken(response.headers().getAll(HttpHeaderNames.UPGRADE), WEBSOCKET);
    }

    /**
     * A fresh {@code Sec-WebSocket-Key} (RFC 6455 §4.1: 16 random bytes in base64), for the handshake
     * the node makes upstream for an HTTP/2 client, which sends none (RFC 8441 §5).
     */
    public static String newKey() {
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        return Base64.getEncoder().encodeToString(nonce);
    }

    /** Whether the origin's 101 proves it read {@code key} (RFC 6455 §4.2.2: SHA-1 of key and GUID, base64). */
    public static boolean acceptMatches(HttpResponse response, String key) {
        String accept = response.headers().get(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
        if (accept == null) {
            return false;
        }
        try {
            byte[] digest =
                    MessageDigest.getInstance("SHA-1").digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest).equals(accept.trim());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1", e);
        }
    }

    private static boolean validKey(String key) {
        try {
            return Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether any of the comma-separated lists in {@code values} holds {@code token} (case-insensitive). */
    private static boolean hasToken(List<String> values, String token) {
        for (String value : values) {
            for (String item : value.split(",")) {
                String trimmed = item.trim();
                // Upgrade items may carry a version (websocket/13 is not RFC 6455's, but the name is).
                int slash = trimmed.indexOf('/');
                String name = slash < 0 ? trimmed : trimmed.substring(0, slash);
                if (name.equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }
}
