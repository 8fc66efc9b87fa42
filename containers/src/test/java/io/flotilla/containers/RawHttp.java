package io.flotilla.containers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One HTTP/1.1 request on a new connection, closed after the response: through an L4 front each
 * request then picks a node afresh, and a request that fails is exactly one request.
 */
final class RawHttp {
    private RawHttp() {}

    /** A response: the status code, the raw head, the body. */
    record Response(int status, String head, String body) {
        /** A header's value, or "" when absent. */
        String header(String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return "";
        }

        boolean hit() {
            return header("Cache-Status").toLowerCase(Locale.ROOT).contains("; hit");
        }
    }

    static Response get(String host, int port, String path, String hostHeader) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 5_000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            return parse(all.toString(StandardCharsets.ISO_8859_1));
        }
    }

    /** Parses a whole response read to the end of the connection. */
    static Response parse(String text) throws IOException {
        int end = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.") || end < 0) {
            throw new IOException("not an HTTP response: '" + text + "'");
        }
        return new Response(Integer.parseInt(text.substring(9, 12)), text.substring(0, end), text.substring(end + 4));
    }
}
