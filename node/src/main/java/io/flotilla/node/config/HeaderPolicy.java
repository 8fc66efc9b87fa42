package io.flotilla.node.config;

import java.util.Optional;

/**
 * Which forwarding headers the proxy adds and what it does with the origin's {@code Server}.
 *
 * @param host       {@code pass} (the client's Host), {@code upstream} (the server's address), or
 *                   any other value used literally
 * @param xForwarded add {@code X-Forwarded-For} (appended), {@code -Proto}, {@code -Host}, {@code X-Real-IP}
 * @param forwarded  add an RFC 7239 {@code Forwarded} element (appended)
 * @param via        add {@code Via} to requests and responses
 * @param server     {@code pass}, {@code hide}, or a replacement value
 * @param requestId  header carrying a request id, generated when absent; empty to disable
 */
public record HeaderPolicy(
        String host, boolean xForwarded, boolean forwarded, boolean via, String server, Optional<String> requestId) {

    public static final String HOST_PASS = "pass";
    public static final String HOST_UPSTREAM = "upstream";
    public static final String SERVER_PASS = "pass";
    public static final String SERVER_HIDE = "hide";
    public static final String DEFAULT_REQUEST_ID = "X-Request-Id";

    public static HeaderPolicy defaults() {
        return new HeaderPolicy(HOST_PASS, true, false, true, SERVER_PASS, Optional.of(DEFAULT_REQUEST_ID));
    }
}
