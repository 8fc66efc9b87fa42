package io.flotilla.node.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/**
 * An origin server for tests: blocking sockets on 127.0.0.1, port 0, a thread per connection. It
 * parses requests itself (so it sees exactly the bytes the proxy sent), records each one, and answers
 * with whatever the test's {@link Behaviour} writes, well-formed or not.
 */
public final class TestOrigin implements AutoCloseable {
    /** What the origin received: one request. Bodies are kept only up to 1 MiB; size and CRC always. */
    public record Received(
            int connection,
            String method,
            String target,
            String version,
            Map<String, List<String>> headers,
            long bodyLength,
            long bodyCrc,
            byte[] body,
            String rawHead) {
        /** The first value of a header, case-insensitive, or null. */
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

    /** Answers one request by writing raw bytes to {@code out}; return false to close the connection. */
    @FunctionalInterface
    public interface Behaviour {
        boolean respond(Received request, OutputStream out) throws IOException;
    }

    private static final int KEEP_BODY = 1024 * 1024;

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Socket> sockets = new ConcurrentLinkedQueue<>();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile Behaviour behaviour;
    private volatile boolean readBodies = true;

    private TestOrigin(Behaviour behaviour) throws IOException {
        this(behaviour, InetAddress.getLoopbackAddress(), 0);
    }

    private TestOrigin(Behaviour behaviour, InetAddress bind, int port) throws IOException {
        this.behaviour = behaviour;
        this.server = new ServerSocket(port, 512, bind);
        this.acceptor = new Thread(this::acceptLoop, "test-origin-" + server.getLocalPort());
        this.acceptor.setDaemon(true);
        this.acceptor.start();
    }

    /** An origin that answers every request with 200 and a short body naming the request. */
    public static TestOrigin start() throws IOException {
        return new TestOrigin(ok("ok"));
    }

    public static TestOrigin start(Behaviour behaviour) throws IOException {
        return new TestOrigin(behaviour);
    }

    /** On a given loopback address and port (a second origin on the same port, another 127.x address). */
    public static TestOrigin start(Behaviour behaviour, InetAddress bind, int port) throws IOException {
        return new TestOrigin(behaviour, bind, port);
    }

    /** 200 with {@code body}, Content-Length framed, keep-alive. */
    public static Behaviour ok(String body) {
        return (request, out) -> {
            writeResponse(
                    out,
                    200,
                    Map.of("Content-Type", "text/plain"),
                    body.getBytes(StandardCharsets.UTF_8),
                    !"HEAD".equals(request.method()));
            return true;
        };
    }

    public static void writeResponse(
            OutputStream out, int status, Map<String, String> headers, byte[] body, boolean withBody)
            throws IOException {
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(" X\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        if (!headers.containsKey("Content-Length") && !headers.containsKey("Transfer-Encoding")) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (withBody) {
            out.write(body);
        }
        out.flush();
    }

    public void behaviour(Behaviour behaviour) {
        this.behaviour = behaviour;
    }

    /** When false, the origin answers after the head without reading the body (an early response). */
    public void readBodies(boolean read) {
        this.readBodies = read;
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    public List<Received> received() {
        return new ArrayList<>(received);
    }

    public int requestCount() {
        return received.size();
    }

    /** TCP connections accepted so far. */
    public int connectionCount() {
        return connections.get();
    }

    public Received last() {
        return received.isEmpty() ? null : received.get(received.size() - 1);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                sockets.add(socket);
                int id = connections.incrementAndGet();
                Thread t = new Thread(() -> serve(socket, id), "test-origin-conn-" + id);
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket, int id) {
        try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = new java.io.BufferedInputStream(socket.getInputStream(), 65536);
            OutputStream out = new java.io.BufferedOutputStream(socket.getOutputStream(), 65536);
            while (true) {
                Received request = readRequest(in, id);
                if (request == null) {
                    return;
                }
                received.add(request);
                if (!behaviour.respond(request, out)) {
                    out.flush();
                    return;
                }
                out.flush();
            }
        } catch (SocketException e) {
            // the proxy closed the connection: normal at the end of a test
        } catch (IOException e) {
            // same
        }
    }

    private Received readRequest(InputStream in, int id) throws IOException {
        String head = readHead(in);
        if (head == null) {
            return null;
        }
        String[] lines = head.split("\r\n");
        String[] start = lines[0].split(" ", 3);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            headers.computeIfAbsent(name, k -> new ArrayList<>())
                    .add(lines[i].substring(colon + 1).trim());
        }
        long length = 0;
        CRC32 crc = new CRC32();
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        String te = headers.containsKey("transfer-encoding")
                ? headers.get("transfer-encoding").get(0)
                : null;
        String cl = headers.containsKey("content-length")
                ? headers.get("content-length").get(0)
                : null;
        Received partial = new Received(
                id,
                start[0],
                start.length > 1 ? start[1] : "",
                start.length > 2 ? start[2] : "",
                headers,
                0,
                0,
                new byte[0],
                head);
        if (!readBodies) {
            return partial;
        }
        byte[] buf = new byte[65536];
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            while (true) {
                String sizeLine = readLine(in);
                if (sizeLine == null) {
                    throw new IOException("eof in chunked body");
                }
                int semi = sizeLine.indexOf(';');
                long size = Long.parseLong((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
                if (size == 0) {
                    while (true) { // trailers
                        String trailer = readLine(in);
                        if (trailer == null || trailer.isEmpty()) {
                            break;
                        }
                    }
                    break;
                }
                length += copy(in, size, buf, crc, kept);
                readLine(in);
            }
        } else if (cl != null) {
            length = copy(in, Long.parseLong(cl.trim()), buf, crc, kept);
        }
        return new Received(
                id,
                partial.method(),
                partial.target(),
                partial.version(),
                headers,
                length,
                crc.getValue(),
                kept.toByteArray(),
                head);
    }

    private static long copy(InputStream in, long n, byte[] buf, CRC32 crc, ByteArrayOutputStream kept)
            throws IOException {
        long left = n;
        while (left > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) {
                throw new IOException("eof in body");
            }
            crc.update(buf, 0, r);
            if (kept.size() < KEEP_BODY) {
                kept.write(buf, 0, (int) Math.min(r, KEEP_BODY - kept.size()));
            }
            left -= r;
        }
        return n;
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            state = switch (state) {
                case 0 -> b == '\r' ? 1 : 0;
                case 1 -> b == '\n' ? 2 : (b == '\r' ? 1 : 0);
                case 2 -> b == '\r' ? 3 : 0;
                case 3 -> b == '\n' ? 4 : 0;
                default -> 0;
            };
            if (state == 4) {
                byte[] bytes = head.toByteArray();
                return new String(bytes, 0, bytes.length - 4, StandardCharsets.ISO_8859_1);
            }
        }
    }

    private static String readLine(InputStream in) throws IOException {
        return HttpLines.readLine(in, false);
    }

    /** Closes the listening socket and every connection, as a crashed origin would. */
    @Override
    public void close() throws IOException {
        server.close();
        Socket s;
        while ((s = sockets.poll()) != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
