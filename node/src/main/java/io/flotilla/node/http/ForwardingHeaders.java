package io.flotilla.node.http;

import io.flotilla.node.config.HeaderPolicy;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.FastThreadLocal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Rewrites headers as they cross the proxy: hop-by-hop fields out first (RFC 9110 §7.6.1), every
 * field named in {@code Connection} included, then the proxy's own fields in. Removal comes first so
 * {@code Connection: X-Forwarded-For} cannot strip what the proxy adds.
 */
public final class ForwardingHeaders {
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString X_REAL_IP = AsciiString.cached("x-real-ip");
    private static final AsciiString FORWARDED = AsciiString.cached("forwarded");
    private static final List<AsciiString> HOP_BY_HOP = List.of(
            HttpHeaderNames.CONNECTION,
            KEEP_ALIVE,
            PROXY_CONNECTION,
            HttpHeaderNames.TE,
            HttpHeaderNames.TRAILER,
            HttpHeaderNames.TRANSFER_ENCODING,
            HttpHeaderNames.UPGRADE);
    /** Fields whose removal would change message framing or routing: never dropped on a client's say-so. */
    private static final Set<String> PROTECTED = Set.of("host", "content-length");

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private final String viaName;
    private final String via11;
    private final String via2;
    private final boolean xForwarded;
    private final boolean forwarded;
    private final boolean via;
    private final String server;
    private final AsciiString requestIdHeader;

    /**
     * @param nodeName      this node's name, used as the {@code Via} pseudonym
     * @param xForwarded    add the X-Forwarded-* family and X-Real-IP
     * @param forwarded     add an RFC 7239 Forwarded element
     * @param via           add Via
     * @param server        {@code pass}, {@code hide} or a replacement value for the origin's Server
     * @param requestIdHeader header carrying the request id; empty disables
     */
    public ForwardingHeaders(
            String nodeName,
            boolean xForwarded,
            boolean forwarded,
            boolean via,
            String server,
            Optional<String> requestIdHeader) {
        this.viaName = nodeName;
        this.via11 = "1.1 " + nodeName;
        this.via2 = "2 " + nodeName;
        this.xForwarded = xForwarded;
        this.forwarded = forwarded;
        this.via = via;
        this.server = server;
        this.requestIdHeader = requestIdHeader.map(AsciiString::of).orElse(null);
    }

    /** Removes hop-by-hop fields and every field the Connection header names. */
    public static void stripHopByHop(HttpHeaders headers) {
        int present = presentHopByHop(headers);
        if (present == 0) {
            return; // the common case: one pass over a few names, nothing removed
        }
        if ((present & 1) != 0) { // Connection: index 0 of HOP_BY_HOP
            Set<String> named = null;
            for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
                named = namedFields(value, named);
            }
            if (named != null) {
                for (String name : named) {
                    headers.remove(name);
                }
            }
        }
        for (int i = 0; i < HOP_BY_HOP.size(); i++) {
            if ((present & (1 << i)) != 0) {
                headers.remove(HOP_BY_HOP.get(i));
            }
        }
    }

    /**
     * Adds the field names one Connection value lists to {@code named} (made when first needed). The
     * options {@code keep-alive} and {@code close}, what almost every origin sends, are skipped where
     * they lie, so the common case allocates nothing (issue 16: a split, trim and lower-casing per
     * response showed in profiles).
     */
    private static Set<String> namedFields(String value, Set<String> named) {
        int length = value.length();
        int i = 0;
        while (i < length) {
            int end = value.indexOf(',', i);
            if (end < 0) {
                end = length;
            }
            int from = i;
            int to = end;
            while (from < to && isOws(value.charAt(from))) {
                from++;
            }
            while (to > from && isOws(value.charAt(to - 1))) {
                to--;
            }
            int size = to - from;
            // keep-alive and close are options, not field names worth a removal each time
            boolean option = size == 5 && value.regionMatches(true, from, "close", 0, 5)
                    || size == 10 && value.regionMatches(true, from, "keep-alive", 0, 10);
            if (size > 0 && !option) {
                String name = value.substring(from, to).toLowerCase(Locale.ROOT);
                if (!PROTECTED.contains(name)) {
                    if (named == null) {
                        named = new HashSet<>();
                    }
                    named.add(name);
                }
            }
            i = end + 1;
        }
        return named;
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    /** A bit per HOP_BY_HOP name found among the headers, in one pass. */
    private static int presentHopByHop(HttpHeaders headers) {
        int present = 0;
        var it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            CharSequence name = it.next().getKey();
            int length = name.length();
            for (int i = 0; i < HOP_BY_HOP.size(); i++) {
                AsciiString hop = HOP_BY_HOP.get(i);
                if (length == hop.length() && hop.contentEqualsIgnoreCase(name)) {
                    present |= 1 << i;
                    break;
                }
            }
        }
        return present;
    }

    /**
     * Prepares a request's headers for the origin. Framing (Content-Length or chunked) is the caller's.
     *
     * @param client       the client's address (from the socket, or PROXY protocol)
     * @param clientHost   the Host the client asked for, as received
     * @param scheme       {@code http} or {@code https}, as the client spoke to us
     * @param version      the client's HTTP version, for Via
     * @return the request id now on the request, or null when ids are disabled
     */
    public CharSequence prepareRequest(
            HttpHeaders headers, InetSocketAddress client, String clientHost, String scheme, HttpVersion version) {
        stripHopByHop(headers);
        headers.remove(HttpHeaderNames.EXPECT); // 100-continue is answered here, not by the origin
        String ip = clientIp(client);
        if (xForwarded) {
            if (!headers.contains(X_FORWARDED_FOR)) {
                headers.set(X_FORWARDED_FOR, ip);
            } else {
                headers.set(X_FORWARDED_FOR, String.join(", ", headers.getAll(X_FORWARDED_FOR)) + ", " + ip);
            }
            headers.set(X_FORWARDED_PROTO, scheme);
            if (clientHost != null) {
                headers.set(X_FORWARDED_HOST, clientHost);
            }
            headers.set(X_REAL_IP, ip);
        }
        if (forwarded) {
            StringBuilder element = new StringBuilder("for=");
            element.append(ip.indexOf(':') >= 0 ? "\"[" + ip + "]\"" : ip);
            if (clientHost != null) {
                element.append(";host=").append(quoteIfNeeded(clientHost));
            }
            element.append(";proto=").append(scheme);
            List<String> previous = headers.getAll(FORWARDED);
            headers.set(
                    FORWARDED, previous.isEmpty() ? element.toString() : String.join(", ", previous) + ", " + element);
        }
        if (via) {
            appendVia(headers, version);
        }
        if (requestIdHeader == null) {
            return null;
        }
        String id = headers.get(requestIdHeader);
        if (id != null && validRequestId(id)) {
            return id;
        }
        AsciiString fresh = newRequestId();
        headers.set(requestIdHeader, fresh);
        return fresh;
    }

    /** Prepares an origin's response headers for the client. Framing is the caller's. */
    public void prepareResponse(HttpHeaders headers, HttpVersion upstreamVersion) {
        stripHopByHop(headers);
        addResponseFields(headers, upstreamVersion);
    }

    /**
     * Applies the Server policy and appends this node's Via to a response it forwards (from the
     * origin or from the cache, whichever node stored it); hop-by-hop fields are already out.
     */
    public void addResponseFields(HttpHeaders headers, HttpVersion receivedVersion) {
        if (HeaderPolicy.SERVER_HIDE.equals(server)) {
            headers.remove(HttpHeaderNames.SERVER);
        } else if (!HeaderPolicy.SERVER_PASS.equals(server)) {
            headers.set(HttpHeaderNames.SERVER, server);
        }
        if (via) {
            appendVia(headers, receivedVersion);
        }
    }

    public AsciiString requestIdHeader() {
        return requestIdHeader;
    }

    /** RFC 9110 §7.6.3: the version as received, which is "2" for HTTP/2 (RFC 9113 §3.1), not "2.0". */
    private void appendVia(HttpHeaders headers, HttpVersion version) {
        String hop = version.minorVersion() == 1
                ? via11
                : version.majorVersion() == 2
                        ? via2
                        : version.majorVersion() + "." + version.minorVersion() + " " + viaName;
        if (!headers.contains(HttpHeaderNames.VIA)) {
            headers.set(HttpHeaderNames.VIA, hop);
        } else {
            headers.set(HttpHeaderNames.VIA, String.join(", ", headers.getAll(HttpHeaderNames.VIA)) + ", " + hop);
        }
    }

    public static String clientIp(InetSocketAddress client) {
        if (client == null) {
            return "unknown";
        }
        InetAddress address = client.getAddress();
        if (address == null) {
            return client.getHostString();
        }
        // The last address each thread formatted, and its text: the requests of a keep-alive
        // connection, and those of clients behind one front, come from the same address, and
        // formatting it showed in profiles (issue 16). InetAddress is immutable; equals compares bytes.
        LastAddress last = LAST_ADDRESS.get();
        if (!address.equals(last.address)) {
            // RFC 5952 text for IPv6 ("::1", not "0:0:0:0:0:0:0:1"); NetUtil also drops any scope id.
            last.text = NetUtil.toAddressString(address);
            last.address = address;
        }
        return last.text;
    }

    private static final class LastAddress {
        private InetAddress address;
        private String text;
    }

    private static final FastThreadLocal<LastAddress> LAST_ADDRESS = new FastThreadLocal<>() {
        @Override
        protected LastAddress initialValue() {
            return new LastAddress();
        }
    };

    private static String quoteIfNeeded(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '_')) {
                return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
            }
        }
        return value;
    }

    private static boolean validRequestId(String id) {
        if (id.isEmpty() || id.length() > 128) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    /**
     * 128 random bits as 32 hex digits: unique enough to follow a request through logs. The digits are
     * written as bytes into the array the header value wraps, with no char[] and no String to convert:
     * the encoder copies an AsciiString to the wire as it is (issue 16: ids on by default, at no cost
     * worth turning them off for).
     */
    static AsciiString newRequestId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        byte[] out = new byte[32];
        long a = random.nextLong();
        long b = random.nextLong();
        for (int i = 0; i < 16; i++) {
            out[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xf];
            out[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xf];
        }
        return new AsciiString(out, false);
    }
}
