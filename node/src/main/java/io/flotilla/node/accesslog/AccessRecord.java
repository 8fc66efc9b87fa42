package io.flotilla.node.accesslog;

/**
 * One finished request, as the access log writes it. Built on the event loop, formatted off it.
 *
 * @param startMillis     wall-clock time the request head was complete
 * @param requestId       the request id, or null when ids are disabled
 * @param client          the client's address (from PROXY protocol when the listener uses it)
 * @param method          request method
 * @param target          request target as received
 * @param version         e.g. {@code HTTP/1.1}
 * @param host            the Host the client asked for, or null
 * @param status          status sent to the client; 0 when the connection was cut before a response began
 * @param requestBytes    request body bytes received
 * @param responseBytes   response body bytes sent
 * @param durationNanos   from the complete head to the last byte written (or the cut)
 * @param route           the route's name, or {@code -}
 * @param upstream        the server that answered, or {@code -}
 * @param upstreamNanos   from sending the request to the response head, or -1
 * @param userAgent       User-Agent, or null
 * @param referer         Referer, or null
 */
public record AccessRecord(
        long startMillis,
        String requestId,
        String client,
        String method,
        String target,
        String version,
        String host,
        int status,
        long requestBytes,
        long responseBytes,
        long durationNanos,
        String route,
        String upstream,
        long upstreamNanos,
        String userAgent,
        String referer) {}
