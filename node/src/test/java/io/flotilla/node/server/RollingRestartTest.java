package io.flotilla.node.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestOrigin;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling restart behind a real L4 front: Debian's HAProxy in {@code mode tcp} sends PROXY v2 to
 * three node processes and health-checks their admin {@code /healthz}. Each node in turn gets SIGTERM,
 * must drain and exit 0, and is started again, while clients keep sending requests through the front.
 * Not one request may fail. Nodes run as separate JVMs because a rolling restart is about processes:
 * signals, exit codes, ports released and bound again.
 */
class RollingRestartTest {
    private static final Path HAPROXY = Path.of("/usr/sbin/haproxy");
    private static final String[] NAMES = {"n1", "n2", "n3"};
    private static final int CLIENTS_FRESH = 2;
    private static final int CLIENTS_KEEPALIVE = 2;
    /** Pause between a client's requests: steady load that leaves the 2-core CI machine room for health checks. */
    private static final long PACE_MILLIS = 5;

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();
    private final List<Thread> clients = new ArrayList<>();
    private final List<String> timeline = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicInteger completed = new AtomicInteger();
    private final AtomicInteger retried = new AtomicInteger();
    private final AtomicInteger toldToClose = new AtomicInteger();
    private volatile boolean stopLoad;
    private TestOrigin origin;
    private long started;

    @AfterEach
    void cleanUp() throws Exception {
        stopLoad = true;
        // Processes first: a client blocked on a read then gets its EOF at once instead of its timeout.
        for (Process process : processes) {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
        for (Process process : processes) {
            process.waitFor(10, TimeUnit.SECONDS);
        }
        for (Thread client : clients) {
            client.join(TimeUnit.SECONDS.toMillis(15));
        }
        if (origin != null) {
            origin.close();
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void everyNodeRestartsInTurnWithoutAFailedRequest() throws Exception {
        if (!Files.isExecutable(HAPROXY)) {
            if ("true".equals(System.getenv("CI"))) {
                fail(HAPROXY + " is missing: .ci/run should have installed Debian's haproxy package");
            }
            Assumptions.abort(HAPROXY + " is missing (apt-get install haproxy); skipping the rolling restart test");
        }
        started = System.nanoTime();
        origin = TestOrigin.start();
        int[] ports = freePorts(2 * NAMES.length + 1);
        int front = ports[2 * NAMES.length];
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < NAMES.length; i++) {
            Node node = new Node(NAMES[i], ports[2 * i], ports[2 * i + 1]);
            Files.writeString(node.config, node.yaml(origin));
            nodes.add(node);
        }
        for (Node node : nodes) {
            node.start();
        }
        for (Node node : nodes) {
            node.awaitHealthy();
        }

        // The listeners refuse a connection that does not open with a PROXY header, so every request that
        // succeeds below went through HAProxy's send-proxy-v2 and the node's parsing of it.
        try (RawClient direct = new RawClient(nodes.get(0).port).timeout(5000)) {
            direct.send("GET /direct HTTP/1.1\r\nHost: rolling.test\r\n\r\n");
            assertTrue(direct.closedByPeer(), "a node must close, unanswered, a connection without a PROXY header");
        }

        Path socket = dir.resolve("haproxy.sock");
        Path haproxyConfig = dir.resolve("haproxy.cfg");
        Files.writeString(haproxyConfig, haproxyConfig(front, socket, nodes));
        Process haproxy = new ProcessBuilder(HAPROXY.toString(), "-db", "-f", haproxyConfig.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile())
                .start();
        processes.add(haproxy);
        note("haproxy started, pid " + haproxy.pid());
        Stats stats = new Stats(socket);
        await("haproxy to see every node up", 20, () -> {
            assertAlive(haproxy, dir.resolve("haproxy.log"));
            return nodes.stream().allMatch(n -> "UP".equals(stats.status(n.name)));
        });

        for (int i = 0; i < CLIENTS_FRESH + CLIENTS_KEEPALIVE; i++) {
            boolean keepAlive = i >= CLIENTS_FRESH;
            String name = "load-" + i + (keepAlive ? "-keepalive" : "-fresh");
            Thread client = new Thread(() -> load(front, keepAlive), name);
            client.setDaemon(true);
            client.start();
            clients.add(client);
        }
        await("every node to serve traffic through the front", 20, () -> nodes.stream()
                .allMatch(n -> servedSince(n, 0)));
        note("load running, every node serving");

        for (Node node : nodes) {
            Thread.sleep(500); // let the others settle into rotation before taking the next one out
            assertTrue(servedSince(node, 0), node.name + " served nothing before its restart");
            restart(node, stats);
        }
        Thread.sleep(500);
        stopLoad = true;
        for (Thread client : clients) {
            client.join(TimeUnit.SECONDS.toMillis(15));
            assertFalse(client.isAlive(), client.getName() + " did not stop");
        }
        note("load stopped: " + completed.get() + " requests, " + toldToClose.get()
                + " keep-alive replies said Connection: close, " + retried.get() + " retried on a fresh connection");
        System.out.println(context());

        assertTrue(failures.isEmpty(), failures.size() + " failed requests; " + context());
        assertTrue(completed.get() > 200, "only " + completed.get() + " requests completed");
        List<TestOrigin.Received> received = origin.received();
        assertTrue(
                received.size() >= completed.get(),
                received.size() + " reached the origin, " + completed.get() + " completed");
        for (TestOrigin.Received request : received) {
            // The client is local, so its real address is 127.0.0.1, which HAProxy stated in the PROXY header.
            assertEquals("127.0.0.1", request.header("X-Real-IP"), request.rawHead());
            assertEquals("127.0.0.1", request.header("X-Forwarded-For"), request.rawHead());
            String via = request.header("Via");
            assertTrue(via != null && via.matches("1\\.1 n[123]"), request.rawHead());
        }
        assertTrue(haproxy.isAlive(), "haproxy died; see " + dir.resolve("haproxy.log"));
        haproxy.destroy();
        assertTrue(haproxy.waitFor(10, TimeUnit.SECONDS), "haproxy did not stop on SIGTERM");
    }

    /**
     * SIGTERM, a drain that HAProxy must notice before the process exits 0, then the same config on a new
     * process, back in rotation and serving.
     */
    private void restart(Node node, Stats stats) throws Exception {
        Process old = node.process;
        note("SIGTERM " + node.name + " (pid " + old.pid() + ")");
        old.destroy();
        boolean seenDown = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (old.isAlive() && System.nanoTime() < deadline) {
            if (!seenDown && stats.status(node.name).startsWith("DOWN")) {
                seenDown = true;
                note(node.name + " DOWN in haproxy while draining");
            }
            old.waitFor(100, TimeUnit.MILLISECONDS);
        }
        assertFalse(
                old.isAlive(),
                node.name + " did not exit within 20 s of SIGTERM; log:\n" + tail(node.log) + "\n" + context());
        note(node.name + " exited with " + old.exitValue());
        assertEquals(0, old.exitValue(), node.name + " exit code after SIGTERM; log:\n" + tail(node.log));
        assertTrue(
                seenDown, "haproxy never took " + node.name + " out of rotation during its drain grace; " + context());
        String log = Files.readString(node.log);
        assertTrue(log.contains("drained: no client connection left"), node.name + " did not drain cleanly:\n" + log);

        // The old process is gone: requests naming the node from here on are the new one's.
        int before = origin.requestCount();
        node.start();
        node.awaitHealthy();
        await("haproxy to see " + node.name + " up again", 20, () -> "UP".equals(stats.status(node.name)));
        note(node.name + " UP in haproxy again");
        await(node.name + " to serve traffic after its restart", 20, () -> servedSince(node, before));
        note(node.name + " serving again");
    }

    private boolean servedSince(Node node, int index) {
        List<TestOrigin.Received> received = origin.received();
        for (int i = index; i < received.size(); i++) {
            if (("1.1 " + node.name).equals(received.get(i).header("Via"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * One client: GET after GET through the front until told to stop. A fresh-connection client counts every
     * failure. A keep-alive client reuses its connection until a response says {@code Connection: close} (as a
     * draining node's do); if a request on a reused connection gets nothing at all, not one byte, because the
     * server closed that idle connection as the request went out, it is retried once on a fresh connection,
     * as HTTP clients do for idempotent requests (RFC 9110 §9.2.2). Anything else is a failure: an error
     * status, a broken or late response, or a failed retry.
     */
    private void load(int front, boolean keepAlive) {
        Connection connection = null;
        int n = 0;
        while (!stopLoad) {
            String target = "/load/" + Thread.currentThread().getName() + "/" + n++;
            String attempt = "";
            try {
                Reply reply;
                if (connection == null) {
                    connection = new Connection(front);
                    reply = connection.exchange(target, keepAlive);
                } else {
                    try {
                        attempt = " (on a reused connection)";
                        reply = connection.exchange(target, keepAlive);
                    } catch (NoResponse e) {
                        connection.close();
                        retried.incrementAndGet();
                        attempt = " (retried after " + e.getMessage() + " on a reused connection)";
                        connection = new Connection(front);
                        reply = connection.exchange(target, keepAlive);
                    }
                }
                if (reply.status != 200 || !"ok".equals(reply.body) || reply.via == null) {
                    failures.add(at() + " " + target + attempt + ": " + reply.status + " " + reply.body + " via "
                            + reply.via);
                } else {
                    completed.incrementAndGet();
                }
                if (keepAlive && reply.close) {
                    toldToClose.incrementAndGet();
                }
                if (!keepAlive || reply.close) {
                    connection.close();
                    connection = null;
                }
            } catch (IOException e) {
                failures.add(at() + " " + target + attempt + ": " + e);
                if (connection != null) {
                    connection.close();
                    connection = null;
                }
            }
            try {
                Thread.sleep(PACE_MILLIS);
            } catch (InterruptedException e) {
                break;
            }
        }
        if (connection != null) {
            connection.close();
        }
    }

    private record Reply(int status, String body, String via, boolean close) {}

    /** The connection ended (EOF or reset) before a single byte of the response. */
    private static final class NoResponse extends IOException {
        NoResponse(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A client connection to the front, speaking just enough HTTP/1.1 for Content-Length framed replies. */
    private static final class Connection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Connection(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        Reply exchange(String target, boolean keepAlive) throws IOException {
            int first;
            try {
                out.write(("GET " + target + " HTTP/1.1\r\nHost: rolling.test\r\n"
                                + (keepAlive ? "" : "Connection: close\r\n") + "\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                first = in.read();
            } catch (SocketException e) { // reset or broken pipe; a timeout is not one of these
                throw new NoResponse("connection reset before a response", e);
            }
            if (first < 0) {
                throw new NoResponse("connection closed before a response", null);
            }
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            head.write(first);
            while (!endsWithBlankLine(head)) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("connection closed in the response head: " + head);
                }
                head.write(b);
            }
            String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
            Map<String, String> headers = new HashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.put(
                        lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).trim());
            }
            String length = headers.get("content-length");
            if (length == null) {
                throw new IOException("response without Content-Length: " + lines[0]);
            }
            byte[] body = in.readNBytes(Integer.parseInt(length));
            if (body.length < Integer.parseInt(length)) {
                throw new IOException("truncated body after " + lines[0]);
            }
            return new Reply(
                    Integer.parseInt(lines[0].split(" ")[1]),
                    new String(body, StandardCharsets.ISO_8859_1),
                    headers.get("via"),
                    "close".equalsIgnoreCase(headers.get("connection")));
        }

        private static boolean endsWithBlankLine(ByteArrayOutputStream head) {
            byte[] b = head.toByteArray();
            int n = b.length;
            return n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n';
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    /** One node: a fixed config (so a restart reuses its ports) and its current process. */
    private final class Node {
        final String name;
        final int port;
        final int adminPort;
        final Path config;
        Path log;
        Process process;
        int generation;

        Node(String name, int port, int adminPort) {
            this.name = name;
            this.port = port;
            this.adminPort = adminPort;
            this.config = dir.resolve(name + ".yaml");
        }

        String yaml(TestOrigin origin) {
            return "node: {name: " + name + ", admin: \"127.0.0.1:" + adminPort + "\","
                    + " drain_grace: 3s, drain_timeout: 10s, event_loops: 1}\n"
                    + "listeners:\n"
                    + "  - {bind: \"127.0.0.1:" + port + "\", proxy_protocol: true, trusted_proxies: [127.0.0.1/32]}\n"
                    + "upstreams:\n  app: {servers: [" + origin.address() + "]}\n"
                    + "routes:\n  - {path: /, upstream: app}\n";
        }

        /**
         * The node as its own JVM on the test classpath: surefire runs before {@code package}, so the
         * shaded jar does not exist yet, but the classes it would hold do.
         */
        void start() throws IOException {
            log = dir.resolve(name + "-" + generation++ + ".log");
            String java = ProcessHandle.current()
                    .info()
                    .command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                            .toString());
            process = new ProcessBuilder(
                            java,
                            "-Xmx128m",
                            "-XX:+UseSerialGC",
                            "-XX:TieredStopAtLevel=1",
                            "-cp",
                            System.getProperty("java.class.path"),
                            "io.flotilla.node.cli.Main",
                            "node",
                            "--config",
                            config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            processes.add(process);
            note("started " + name + " (pid " + process.pid() + ")");
        }

        void awaitHealthy() throws Exception {
            await(name + " /healthz to answer 200", 30, () -> {
                assertAlive(process, log);
                try (RawClient admin = new RawClient(adminPort)) {
                    return admin.timeout(2000).get("/healthz", "admin").status() == 200;
                } catch (IOException e) {
                    return false;
                }
            });
        }
    }

    /** HAProxy's runtime API on a Unix socket: the state it gives each server of the backend. */
    private static final class Stats {
        private final Path socket;

        Stats(Path socket) {
            this.socket = socket;
        }

        /** {@code UP}, {@code DOWN}, {@code UP 1/2} (failing), {@code DOWN 1/2} (recovering), ...; "" if unknown. */
        String status(String server) {
            String csv;
            try {
                csv = command("show stat");
            } catch (IOException e) {
                return "";
            }
            String[] lines = csv.split("\n");
            if (lines.length == 0 || !lines[0].startsWith("# ")) {
                return "";
            }
            List<String> columns = List.of(lines[0].substring(2).split(","));
            int status = columns.indexOf("status");
            for (String line : lines) {
                String[] fields = line.split(",", -1);
                if (fields.length > status && fields[0].equals("nodes") && fields[1].equals(server)) {
                    return fields[status];
                }
            }
            return "";
        }

        private String command(String command) throws IOException {
            try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                channel.connect(UnixDomainSocketAddress.of(socket));
                channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
                while (channel.read(buffer) >= 0) { // one command, then HAProxy closes the socket
                    out.write(buffer.array(), 0, buffer.position());
                    buffer.clear();
                }
                return out.toString(StandardCharsets.US_ASCII);
            }
        }
    }

    private static String haproxyConfig(int front, Path socket, List<Node> nodes) {
        StringBuilder servers = new StringBuilder();
        for (Node node : nodes) {
            servers.append("    server ")
                    .append(node.name)
                    .append(" 127.0.0.1:")
                    .append(node.port)
                    .append(" check port ")
                    .append(node.adminPort)
                    .append('\n');
        }
        // Checks go to the admin port (the only one that speaks HTTP without a PROXY header), fail on the
        // draining node's 503 within two 500 ms intervals: well inside its 3 s drain grace. Only abnormal
        // connections are logged, so a failed request shows up in haproxy.log with its termination state.
        return "global\n"
                + "    log stderr format iso local0 info\n"
                + "    stats socket " + socket + " mode 600 level admin\n"
                + "    maxconn 2000\n"
                + "defaults\n"
                + "    mode tcp\n"
                + "    log global\n"
                + "    option tcplog\n"
                + "    option dontlog-normal\n"
                + "    timeout connect 2s\n"
                + "    timeout client 30s\n"
                + "    timeout server 30s\n"
                + "    timeout check 2s\n"
                + "frontend front\n"
                + "    bind 127.0.0.1:" + front + "\n"
                + "    default_backend nodes\n"
                + "backend nodes\n"
                + "    balance roundrobin\n"
                + "    option httpchk GET /healthz\n"
                + "    http-check expect status 200\n"
                + "    default-server inter 500ms fall 2 rise 2 send-proxy-v2\n"
                + servers;
    }

    /**
     * Free ports for other processes: bound to port 0 and released, since HAProxy and the nodes must be
     * told their ports before they start. All are held until all are chosen, so none repeats.
     */
    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private void await(String what, int seconds, Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                fail("gave up after " + seconds + " s waiting for " + what + "; " + context());
            }
            Thread.sleep(100);
        }
    }

    private static void assertAlive(Process process, Path log) throws IOException {
        if (!process.isAlive()) {
            fail("pid " + process.pid() + " exited with " + process.exitValue() + "; log:\n" + tail(log));
        }
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    /** What happened when, the failed requests, and what HAProxy logged (only abnormal connections). */
    private String context() throws IOException {
        Path haproxyLog = dir.resolve("haproxy.log");
        return "timeline:\n" + String.join("\n", timeline) + "\nfailed requests: " + failures.size()
                + failures.stream().limit(20).map(f -> "\n" + f).collect(Collectors.joining())
                + (failures.size() > 20 ? "\n..." : "")
                + (Files.exists(haproxyLog) ? "\nhaproxy.log:\n" + tail(haproxyLog) : "");
    }

    private String at() {
        return String.format(Locale.ROOT, "%6.2fs", (System.nanoTime() - started) / 1e9);
    }

    private synchronized void note(String event) {
        timeline.add(at() + " " + event);
    }
}
