package io.flotilla.node.cache;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a stored response's head carries: its status and headers as the origin sent them (after the
 * proxy's own response rules), the request and response times that RFC 9111 §4.2.3's age needs, and
 * for a Vary marker the request fields that select a variant. Written to bytes with an explicit,
 * versioned layout, since the bytes may live in another node's memory.
 *
 * @param status       final status code
 * @param reason       reason phrase
 * @param headers      header name/value pairs, in order, names as sent
 * @param requestTime  epoch millis when the request that fetched it was sent (§4.2.3 request_time)
 * @param responseTime epoch millis when its head arrived (§4.2.3 response_time)
 * @param vary         for a Vary marker: the lower-cased request field names that select a variant;
 *                     null for an actual response
 */
record CachedHead(
        int status,
        String reason,
        List<Map.Entry<String, String>> headers,
        long requestTime,
        long responseTime,
        List<String> vary) {

    private static final byte VERSION = 1;

    static CachedHead of(int status, String reason, HttpHeaders from, long requestTime, long responseTime) {
        List<Map.Entry<String, String>> copy = new ArrayList<>(from.size());
        for (Map.Entry<String, String> e : from) {
            copy.add(Map.entry(e.getKey(), e.getValue()));
        }
        return new CachedHead(status, reason, List.copyOf(copy), requestTime, responseTime, null);
    }

    static CachedHead varyMarker(List<String> fields, long now) {
        return new CachedHead(0, "", List.of(), now, now, List.copyOf(fields));
    }

    boolean isVaryMarker() {
        return vary != null;
    }

    /** The first value of a header, by case-insensitive name, or null. */
    String header(String name) {
        for (Map.Entry<String, String> e : headers) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    /** Every value of a header, by case-insensitive name. */
    List<String> headerValues(String name) {
        List<String> out = new ArrayList<>(2);
        for (Map.Entry<String, String> e : headers) {
            if (e.getKey().equalsIgnoreCase(name)) {
                out.add(e.getValue());
            }
        }
        return out;
    }

    /** A fresh, mutable copy of the headers, for a response about to be sent. */
    HttpHeaders toHttpHeaders() {
        HttpHeaders h = new DefaultHttpHeaders(false);
        for (Map.Entry<String, String> e : headers) {
            h.add(e.getKey(), e.getValue());
        }
        return h;
    }

    /**
     * §4.3.4: the stored headers updated with those of a 304, except the framing headers which
     * describe the 304's own (empty) body.
     */
    CachedHead refreshedBy(HttpHeaders notModified, long requestTime, long responseTime) {
        List<Map.Entry<String, String>> merged = new ArrayList<>(headers.size() + 4);
        for (Map.Entry<String, String> e : headers) {
            if (!notModified.contains(e.getKey()) || unchangedBy304(e.getKey())) {
                merged.add(e);
            }
        }
        for (Map.Entry<String, String> e : notModified) {
            if (!unchangedBy304(e.getKey())) {
                merged.add(Map.entry(e.getKey(), e.getValue()));
            }
        }
        return new CachedHead(status, reason, List.copyOf(merged), requestTime, responseTime, null);
    }

    private static boolean unchangedBy304(String name) {
        return name.equalsIgnoreCase("content-length")
                || name.equalsIgnoreCase("transfer-encoding")
                || name.equalsIgnoreCase("content-encoding")
                || name.equalsIgnoreCase("content-range");
    }

    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeShort(status);
            out.writeUTF(reason);
            out.writeLong(requestTime);
            out.writeLong(responseTime);
            out.writeShort(headers.size());
            for (Map.Entry<String, String> e : headers) {
                out.writeUTF(e.getKey());
                writeLong(out, e.getValue());
            }
            out.writeShort(vary == null ? -1 : vary.size());
            if (vary != null) {
                for (String field : vary) {
                    out.writeUTF(field);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Reads bytes written by {@link #encode()}; null when they are of a layout this build does not know. */
    static CachedHead decode(byte[] encoded) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded))) {
            if (in.readByte() != VERSION) {
                return null; // written by another version of the node: a miss, not a crash
            }
            int status = in.readShort();
            String reason = in.readUTF();
            long requestTime = in.readLong();
            long responseTime = in.readLong();
            int count = in.readShort();
            List<Map.Entry<String, String>> headers = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                headers.add(Map.entry(in.readUTF(), readLong(in)));
            }
            int varyCount = in.readShort();
            List<String> vary = null;
            if (varyCount >= 0) {
                vary = new ArrayList<>(varyCount);
                for (int i = 0; i < varyCount; i++) {
                    vary.add(in.readUTF());
                }
            }
            return new CachedHead(
                    status,
                    reason,
                    List.copyOf(headers),
                    requestTime,
                    responseTime,
                    vary == null ? null : List.copyOf(vary));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    // writeUTF is limited to 64 KiB; a header value may be longer than that (within limits.header).
    private static void writeLong(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readLong(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > (1 << 20)) {
            throw new IOException("header value of " + n + " bytes");
        }
        byte[] b = in.readNBytes(n);
        return new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
