package io.flotilla.node.compress;

import io.flotilla.node.config.CompressionConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One route's compression, compiled from the {@code compression} section: which coding a request
 * gets, and whether and how a response is encoded. Immutable, shared by the route's requests.
 *
 * <p>A request is negotiated once, before the cache is asked, and its {@code Accept-Encoding} is
 * replaced by the coding chosen ({@code br}, {@code zstd}, {@code gzip} or {@code identity}): the
 * cache's Vary key then has at most four values instead of one per browser's spelling of the
 * field, and the origin is asked for exactly what the client will get, so an origin that encodes
 * itself never hands the cache a coding another client of the same key cannot decode.
 *
 * <p>A response is encoded (RFC 9110 §8.4) when the request chose a coding, the status is 200, 403
 * or 404 (NGINX's choice: other statuses carry no representation worth it, and a 206 is a range of
 * the identity), it has no Content-Encoding of its own (never encoded twice), no
 * {@code Cache-Control: no-transform} (§7.7), a listed media type, and a length unknown or at least
 * {@code min_length}. Then: Content-Encoding set, Content-Length and Accept-Ranges removed (the
 * length is unknown until the end; ranges of the encoded form are not served), a strong ETag made
 * weak (§8.8.3: the encoded bytes differ from those it named, and If-None-Match compares weakly,
 * so the client's revalidation still matches), and {@code Vary: Accept-Encoding} merged into any
 * Vary there was. A response of a listed type gets that Vary even when sent as it is, so a cache
 * downstream never hands it to a client that asked for another coding.
 */
public final class ResponseCompression {
    private final CompressionConfig config;
    /** The codings offered, most preferred first, that this build can encode. */
    private final List<Coding> offered;

    private ResponseCompression(CompressionConfig config, List<Coding> offered) {
        this.config = config;
        this.offered = offered;
    }

    /** The route's compression, or null when it is off for the route. */
    public static ResponseCompression forRoute(CompressionConfig config, java.util.Optional<Boolean> routeSwitch) {
        if (!routeSwitch.orElse(config.enabled())) {
            return null;
        }
        List<Coding> offered = new ArrayList<>(3);
        for (String token : config.codings()) {
            Coding c = Coding.of(token);
            if (c != null && c != Coding.IDENTITY && c.available()) {
                offered.add(c);
            }
        }
        return offered.isEmpty() ? null : new ResponseCompression(config, List.copyOf(offered));
    }

    /**
     * Chooses the request's coding and writes it into its {@code Accept-Encoding} (see the class
     * comment). Identity for HTTP/1.0 clients (no chunked framing: NGINX's {@code gzip_http_version
     * 1.1} default), for requests with {@code Range}, whose 206 must be a range of the identity, and
     * for requests with {@code Cache-Control: no-transform} (RFC 9111 §5.2.1.6).
     */
    public Coding negotiate(HttpRequest request) {
        HttpHeaders h = request.headers();
        Coding chosen = request.protocolVersion().minorVersion() == 0
                                && request.protocolVersion().majorVersion() == 1
                        || h.contains(HttpHeaderNames.RANGE)
                        || noTransform(h)
                ? Coding.IDENTITY
                : AcceptEncoding.negotiate(h.getAll(HttpHeaderNames.ACCEPT_ENCODING), offered);
        h.set(HttpHeaderNames.ACCEPT_ENCODING, chosen.token());
        return chosen;
    }

    /**
     * Adjusts a response head for {@code coding} (see the class comment) and returns the encoder
     * for its body, or null when the body goes as it is, or there is none ({@code head}: a HEAD gets
     * the same fields a GET would).
     */
    public ContentEncoder begin(Coding coding, HttpResponse response, boolean head) {
        HttpHeaders h = response.headers();
        int status = response.status().code();
        if (status == 304) {
            if (coding != Coding.IDENTITY) {
                weakenEtag(h); // the client's stored copy is the encoded one this 304 refreshes
            }
            return null;
        }
        if (status != 200 && status != 403 && status != 404) {
            return null;
        }
        if (h.contains(HttpHeaderNames.CONTENT_ENCODING)
                || noTransform(h)
                || !listedType(h.get(HttpHeaderNames.CONTENT_TYPE))) {
            return null;
        }
        long length = contentLength(h);
        if (length >= 0 && length < Math.max(1, config.minLength())) {
            return null;
        }
        mergeVary(h);
        if (coding == Coding.IDENTITY) {
            return null;
        }
        h.set(HttpHeaderNames.CONTENT_ENCODING, coding.token());
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.remove(HttpHeaderNames.ACCEPT_RANGES);
        weakenEtag(h);
        return head ? null : new ContentEncoder(coding.newEncoder(config));
    }

    private static long contentLength(HttpHeaders h) {
        String value = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static boolean noTransform(HttpHeaders h) {
        for (String value : h.getAll(HttpHeaderNames.CACHE_CONTROL)) {
            for (String directive : value.split(",")) {
                if (directive.trim().equalsIgnoreCase("no-transform")) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean listedType(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semi = contentType.indexOf(';');
        String type =
                (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
        if (config.types().contains(type)) {
            return true;
        }
        int slash = type.indexOf('/');
        return slash > 0 && config.types().contains(type.substring(0, slash + 1) + "*");
    }

    /** RFC 9110 §12.5.5: Accept-Encoding added to the fields the response varies on, unless already there or {@code *}. */
    static void mergeVary(HttpHeaders h) {
        List<String> values = new ArrayList<>(h.getAll(HttpHeaderNames.VARY));
        for (String value : values) {
            for (String field : value.split(",")) {
                String f = field.trim();
                if (f.equals("*") || f.equalsIgnoreCase("accept-encoding")) {
                    return;
                }
            }
        }
        values.add("Accept-Encoding");
        h.set(HttpHeaderNames.VARY, String.join(", ", values));
    }

    /** §8.8.3: a strong validator names exact bytes; the encoded ones differ, so it becomes weak. */
    static void weakenEtag(HttpHeaders h) {
        String etag = h.get(HttpHeaderNames.ETAG);
        if (etag != null && etag.startsWith("\"")) {
            h.set(HttpHeaderNames.ETAG, "W/" + etag);
        }
    }
}
