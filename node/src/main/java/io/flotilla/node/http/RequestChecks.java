package io.flotilla.node.http;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;

/**
 * Checks on a decoded request head that the decoder cannot make: version, Host, transfer codings,
 * request-target form.
 * Each refusal carries the status to answer with; every refused request also closes its connection.
 */
public final class RequestChecks {
    private static final boolean[] HOST_CHAR = new boolean[128];

    static {
        for (char c = '0'; c <= '9'; c++) HOST_CHAR[c] = true;
        for (char c = 'a'; c <= 'z'; c++) HOST_CHAR[c] = true;
        for (char c = 'A'; c <= 'Z'; c++) HOST_CHAR[c] = true;
        for (char c : "-._~".toCharArray()) HOST_CHAR[c] = true;
    }

    private RequestChecks() {}

    /** Why a request is refused: the status and a short reason for the log and the body. */
    public record Refusal(HttpResponseStatus status, String reason) {}

    /**
     * Returns why this request must be refused, or null. For an absolute-form target it rewrites the
     * request to origin-form and sets Host from the target's authority (RFC 9112 §3.2.2).
     */
    public static Refusal check(HttpRequest request) {
        if (request.decoderResult().isFailure()) {
            return forDecoderFailure(request.decoderResult().cause());
        }
        HttpVersion version = request.protocolVersion();
        if (version.majorVersion() != 1 || version.minorVersion() > 1) {
            return new Refusal(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, "only HTTP/1.0 and HTTP/1.1");
        }
        if (HttpMethod.CONNECT.equals(request.method())) {
            return new Refusal(HttpResponseStatus.METHOD_NOT_ALLOWED, "CONNECT is not supported by a reverse proxy");
        }
        List<String> hosts = request.headers().getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "more than one Host header");
        }
        if (hosts.isEmpty() && version.minorVersion() == 1) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "missing Host header"); // RFC 9112 §3.2
        }
        if (!hosts.isEmpty() && !validHost(hosts.get(0))) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "invalid Host header");
        }
        if (!onlyChunked(request.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING))) {
            // RFC 9112 §6.1: a coding we do not apply gets 501. The decoder has already made sure chunked is
            // last and once; forwarding re-chunks the body, which would drop any other coding silently.
            return new Refusal(HttpResponseStatus.NOT_IMPLEMENTED, "transfer coding other than chunked");
        }
        String uri = request.uri();
        if (uri.startsWith("/")) {
            return null;
        }
        if (uri.equals("*")) {
            return HttpMethod.OPTIONS.equals(request.method())
                    ? null
                    : new Refusal(HttpResponseStatus.BAD_REQUEST, "asterisk-form is only for OPTIONS");
        }
        String lower = uri.length() > 8 ? uri.substring(0, 8).toLowerCase() : uri.toLowerCase();
        int schemeEnd = lower.startsWith("http://") ? 7 : lower.startsWith("https://") ? 8 : -1;
        if (schemeEnd < 0) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "invalid request target");
        }
        int pathStart = uri.indexOf('/', schemeEnd);
        int queryStart = uri.indexOf('?', schemeEnd);
        int authorityEnd = pathStart < 0
                ? (queryStart < 0 ? uri.length() : queryStart)
                : (queryStart < 0 ? pathStart : Math.min(pathStart, queryStart));
        String authority = uri.substring(schemeEnd, authorityEnd);
        if (authority.isEmpty() || !validHost(authority)) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "invalid authority in request target");
        }
        String rest = uri.substring(authorityEnd);
        request.setUri(rest.startsWith("/") ? rest : "/" + rest);
        request.headers().set(HttpHeaderNames.HOST, authority);
        return null;
    }

    /** The status for a head the decoder refused: 414 and 431 for the size limits, 400 otherwise. */
    public static Refusal forDecoderFailure(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return new Refusal(HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line too long");
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return new Refusal(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request header fields too large");
        }
        if (cause instanceof TooLongFrameException) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "request too large");
        }
        String message = cause.getMessage();
        return new Refusal(HttpResponseStatus.BAD_REQUEST, message == null ? "malformed request" : message);
    }

    /** True if every listed transfer coding is chunked (or there is none); empty list elements are allowed. */
    private static boolean onlyChunked(List<String> fields) {
        for (String field : fields) {
            for (String coding : field.split(",", -1)) {
                String trimmed = coding.strip();
                if (!trimmed.isEmpty() && !"chunked".equalsIgnoreCase(trimmed)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** reg-name or IPv4 or bracketed IPv6, with an optional port (RFC 9110 §7.2, RFC 3986 §3.2.2). */
    static boolean validHost(String host) {
        if (host.isEmpty() || host.length() > 255) {
            return false;
        }
        int portSep;
        if (host.charAt(0) == '[') {
            int close = host.indexOf(']');
            if (close < 0) {
                return false;
            }
            for (int i = 1; i < close; i++) {
                char c = host.charAt(i);
                if (!(Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
                    return false;
                }
            }
            if (close == host.length() - 1) {
                return true;
            }
            if (host.charAt(close + 1) != ':') {
                return false;
            }
            portSep = close + 1;
        } else {
            portSep = host.indexOf(':');
            int end = portSep < 0 ? host.length() : portSep;
            if (end == 0) {
                return false;
            }
            for (int i = 0; i < end; i++) {
                char c = host.charAt(i);
                if (c >= 128 || !HOST_CHAR[c]) {
                    return false;
                }
            }
            if (portSep < 0) {
                return true;
            }
        }
        int digits = host.length() - portSep - 1;
        if (digits == 0 || digits > 5) {
            return false;
        }
        for (int i = portSep + 1; i < host.length(); i++) {
            if (host.charAt(i) < '0' || host.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
