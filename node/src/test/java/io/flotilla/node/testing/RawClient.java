package io.flotilla.node.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A client that writes exactly the bytes a test gives it and parses responses itself, so malformed
 * and smuggling requests reach the proxy unaltered. Reads time out after 10 s so no test hangs.
 */
public final class RawClient implements AutoCloseable {
    /** A parsed response. */
    public record Response(int status, Map<String, List<String>> headers, byte[] body, String head) {
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        public List<String> headers(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
        }

        public String bodyText() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawClient(int port) throws IOException {
        this(new Socket(InetAddress.getLoopbackAddress(), port));
    }

    /** Speaks over a socket already connected, such as a TLS socket from {@link TlsClient}. */
    public RawClient(Socket socket) throws IOException {
        this.socket = socket;
        this.socket.setSoTimeout(10_000);
        this.socket.setTcpNoDelay(true);
        this.in = new BufferedInputStream(socket.getInputStream(), 65536);
        this.out = socket.getOutputStream();
    }

    public RawClient timeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
        return this;
    }

    public RawClient send(String raw) throws IOException {
        return send(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawClient send(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
        return this;
    }

    public OutputStream output() {
        return out;
    }

    /** The buffered input, for tests that read interim bytes themselves. */
    public InputStream input() {
        return in;
    }

    /** Sends a simple GET and reads its response. */
    public Response get(String target, String host) throws IOException {
        send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        return read();
    }

    public Response read() throws IOException {
        return read(false);
    }

    /** Reads one response; {@code head} when it answers a HEAD request (no body follows). */
    public Response read(boolean head) throws IOException {
        String headText;
        int status;
        Map<String, List<String>> headers;
        do {
            headText = readHead();
            if (headText == null) {
                throw new IOException("connection closed before a response");
            }
            String[] lines = headText.split("\r\n");
            status = Integer.parseInt(lines[0].split(" ")[1]);
            headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                headers.computeIfAbsent(name, k -> new ArrayList<>())
                        .add(lines[i].substring(colon + 1).trim());
            }
        } while (status >= 100 && status < 200); // interim responses: skip to the final one
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        List<String> te = headers.get("transfer-encoding");
        List<String> cl = headers.get("content-length");
        if (head || status == 204 || status == 304) {
            return new Response(status, headers, new byte[0], headText);
        }
        if (te != null && te.get(0).toLowerCase(Locale.ROOT).contains("chunked")) {
            while (true) {
                String line = readLine();
                long size = Long.parseLong(line.split(";")[0].trim(), 16);
                if (size == 0) {
                    while (!readLine().isEmpty()) {
                        // trailers
                    }
                    break;
                }
                body.write(readN((int) size));
                readLine();
            }
        } else if (cl != null) {
            body.write(readN(Integer.parseInt(cl.get(0))));
        } else {
            in.transferTo(body); // close-delimited
        }
        return new Response(status, headers, body.toByteArray(), headText);
    }

    /** True if the server closes the connection (EOF) within the socket timeout, with nothing more sent. */
    public boolean closedByPeer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    /** Everything until the peer closes (bounded by the socket timeout). */
    public String readAll() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        try {
            in.transferTo(all);
        } catch (SocketTimeoutException | java.net.SocketException e) {
            // return what came
        }
        return all.toString(StandardCharsets.ISO_8859_1);
    }

    private byte[] readN(int n) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length < n) {
            throw new IOException("truncated body: " + bytes.length + " of " + n);
        }
        return bytes;
    }

    private String readHead() throws IOException {
        StringBuilder head = new StringBuilder();
        while (true) {
            String line = readLineOrNull();
            if (line == null) {
                return head.length() == 0 ? null : head.toString();
            }
            if (line.isEmpty()) {
                return head.toString();
            }
            if (head.length() > 0) {
                head.append("\r\n");
            }
            head.append(line);
        }
    }

    private String readLine() throws IOException {
        String line = readLineOrNull();
        if (line == null) {
            throw new IOException("unexpected end of stream");
        }
        return line;
    }

    private String readLineOrNull() throws IOException {
        return HttpLines.readLine(in, true);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
