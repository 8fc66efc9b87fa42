package io.flotilla.loadtest;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The origin the simulations expect behind the node (loadtest/config/node.yaml), on the JDK's own HTTP
 * server so it needs nothing but a JDK: {@code java loadtest/src/test/java/io/flotilla/loadtest/LoadOrigin.java 19102}.
 * <ul>
 *   <li>{@code /bytes/N}: N bytes, {@code Cache-Control: no-store} (pass-through);</li>
 *   <li>{@code /cache/...?ttl=S}: 1 KiB, {@code Cache-Control: public, max-age=S} (default 3600);</li>
 *   <li>anything else: a short {@code ok};</li>
 *   <li>{@code /stats}: requests served so far, in total and by first path segment (not counting
 *       {@code /stats} and {@code /healthz}), one {@code name count} per line.</li>
 * </ul>
 */
public final class LoadOrigin implements AutoCloseable {
    private static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    private static final int CACHED_SIZE = 1024;
    private static final int MAX_BYTES = 16 * 1024 * 1024;

    private final HttpServer server;
    private final ExecutorService workers;
    private final Map<String, AtomicLong> served = new ConcurrentHashMap<>();
    private final byte[] filler = filler(MAX_BYTES);

    private LoadOrigin(HttpServer server, ExecutorService workers) {
        this.server = server;
        this.workers = workers;
    }

    /** Starts on {@code address} (port 0: any) with {@code threads} workers. */
    public static LoadOrigin start(InetSocketAddress address, int threads) throws IOException {
        // Without TCP_NODELAY the JDK's server writes head and body apart and a small response waits for
        // the peer's delayed ACK: 40 ms on every 1 KiB answer (read once, when the server class loads).
        System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpServer server = HttpServer.create(address, 1024);
        ExecutorService workers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "origin-worker");
            t.setDaemon(true);
            return t;
        });
        LoadOrigin origin = new LoadOrigin(server, workers);
        server.createContext("/", origin::handle);
        server.setExecutor(workers);
        server.start();
        return origin;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Requests served whose path starts with {@code /segment/}, or all of them for {@code total}. */
    public long served(String segment) {
        AtomicLong n = served.get(segment);
        return n == null ? 0 : n.get();
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange;
                InputStream body = exchange.getRequestBody()) {
            body.transferTo(OutputStream.nullOutputStream());
            String path = exchange.getRequestURI().getPath();
            String query = exchange.getRequestURI().getRawQuery();
            if (path.equals("/healthz")) {
                send(exchange, 200, OK, OK.length);
                return;
            }
            if (path.equals("/stats")) {
                byte[] stats = stats().getBytes(StandardCharsets.US_ASCII);
                send(exchange, 200, stats, stats.length);
                return;
            }
            count(path);
            if (path.startsWith("/bytes/")) {
                int n = Math.min(MAX_BYTES, (int) number(path.substring("/bytes/".length()), 1024));
                exchange.getResponseHeaders().set("Cache-Control", "no-store");
                send(exchange, 200, filler, n);
            } else if (path.startsWith("/cache/")) {
                long ttl = number(param(query, "ttl"), 3600);
                exchange.getResponseHeaders().set("Cache-Control", "public, max-age=" + ttl);
                send(exchange, 200, filler, CACHED_SIZE);
            } else {
                send(exchange, 200, OK, OK.length);
            }
        }
    }

    private void count(String path) {
        int end = path.indexOf('/', 1);
        String segment = end < 0 ? path.substring(1) : path.substring(1, end);
        served.computeIfAbsent("total", k -> new AtomicLong()).incrementAndGet();
        served.computeIfAbsent(segment, k -> new AtomicLong()).incrementAndGet();
    }

    private String stats() {
        StringBuilder out = new StringBuilder();
        new TreeMap<>(served)
                .forEach((name, n) ->
                        out.append(name).append(' ').append(n.get()).append('\n'));
        return out.length() == 0 ? "total 0\n" : out.toString();
    }

    private static void send(HttpExchange exchange, int status, byte[] body, int length) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body, 0, length);
        }
    }

    private static String param(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            if (pair.startsWith(name + "=")) {
                return pair.substring(name.length() + 1);
            }
        }
        return null;
    }

    private static long number(String text, long fallback) {
        try {
            return text == null ? fallback : Long.parseLong(text);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static byte[] filler(int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 'a');
        return bytes;
    }

    /** {@code LoadOrigin [PORT [THREADS]]}: runs on 127.0.0.1 until killed. */
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 19102;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        LoadOrigin origin = start(new InetSocketAddress("127.0.0.1", port), threads);
        System.out.println("load origin on 127.0.0.1:" + origin.port());
        Thread.currentThread().join();
    }
}
