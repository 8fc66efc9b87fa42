package io.flotilla.node.fleet;

import static io.flotilla.node.testing.Await.await;
import static io.flotilla.node.testing.Await.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestOrigin;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet of three node processes cut in two by the network, A and B on one side and C on the other,
 * then healed (issue 6): each side keeps serving, the rate limit over both sides stays within what
 * docs/DESIGN.md promises for a partition, and after the merge every node runs the highest config
 * version and purges issued in either half have removed the other half's copies.
 *
 * <p>The network is the test's own: namespaces {@code fl-ab-*} (nodes A and B) and {@code fl-c-*}
 * (node C), joined by one veth pair that carries all fleet traffic (Hazelcast and gossip, on
 * 10.231.S.64/26); each namespace also has a veth pair to the root namespace (10.231.S.0/29 and
 * 10.231.S.8/29), through which this JVM sends requests and serves as the recording origin. IP
 * forwarding stays off everywhere, so the only path between the sides is the fleet link: the cut
 * takes it down, the heal brings it up. Each test asks for the state it needs ({@link #whole} or
 * {@link #split}) and uses paths of its own, so any test runs alone or in any order; the order set
 * here only spares cuts and heals (one of each for the whole class). Skipped where namespaces cannot be made (not root, no
 * {@code ip}); everything made is deleted by name, and every process stopped by its handle.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PartitionTest {
    private static final int LIMIT = 300;
    private static final long PERIOD_MS = 10_000;
    private static final String TOKEN = "partition-test-" + UUID.randomUUID();
    private static final String FLEET_KEY = io.flotilla.cluster.security.FleetKeys.generate();

    @TempDir
    static Path dir;

    private final String id = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL);
    private final String fleet = "p" + id;
    private final String nsAb = "fl-ab-" + id;
    private final String nsC = "fl-c-" + id;
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private NetworkNamespaces net;
    private String subnet; // "10.231.S."
    private TestOrigin origin;
    private long startedAt;
    /** Whether the fleet link is down now: each test asks for the state it needs ({@link #whole}, {@link #split}). */
    private boolean cut;

    /** One node process: where it serves, and how to ask it things. */
    private final class Node {
        final String name;
        final String ns;
        final String serviceAddress;
        final String fleetAddress;
        Process process;
        Path log;

        Node(String name, String ns, String serviceAddress, String fleetAddress) {
            this.name = name;
            this.ns = ns;
            this.serviceAddress = serviceAddress;
            this.fleetAddress = fleetAddress;
        }

        private Socket connect(int port) throws IOException {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(serviceAddress, port), 5_000);
            return s;
        }

        RawClient.Response get(String target) throws IOException {
            try (RawClient c = new RawClient(connect(8080))) {
                return c.timeout(10_000).get(target, "fleet.test");
            }
        }

        RawClient.Response admin(String method, String target, String body) throws IOException {
            try (RawClient c = new RawClient(connect(9901))) {
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                c.send(method + " " + target + " HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer " + TOKEN
                        + "\r\nContent-Length: " + bytes.length + "\r\n\r\n");
                c.send(bytes);
                return c.timeout(20_000).read();
            }
        }

        String fleetView() {
            try {
                return admin("GET", "/fleet", "").bodyText();
            } catch (IOException e) {
                return "";
            }
        }

        /** Members in this node's gossip view, and Hazelcast's view as the rate limits see it. */
        boolean sees(int members, boolean degraded) {
            String json = fleetView();
            return json.split("\"name\":").length - 1 == members && json.contains("\"degraded\":" + degraded + ",");
        }

        long configVersion() {
            Matcher m = Pattern.compile("\"config_version\":(\\d+)").matcher(fleetView());
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        }

        String peers() {
            StringBuilder b = new StringBuilder();
            for (Node n : nodes) {
                if (n != this) {
                    b.append(b.length() == 0 ? "" : ", ")
                            .append('\'')
                            .append(n.fleetAddress)
                            .append(":7800'");
                }
            }
            return b.toString();
        }

        String config(String extraRoute) {
            return "node: {name: " + name + ", admin: '" + serviceAddress + ":9901', admin_token: '" + TOKEN
                    + "', event_loops: 1, drain_grace: 0s}\n"
                    + "listeners: [{bind: '" + serviceAddress + ":8080'}]\n"
                    + "upstreams:\n"
                    + "  app: {servers: ['" + subnet + "1:" + origin.port() + "']}\n"
                    + "routes:\n"
                    + "  - {path: /, upstream: app, cache: true}\n"
                    + "  - {path: /limited/, upstream: app, rate_limit: {requests: " + LIMIT + ", per: "
                    + PERIOD_MS / 1000 + "s, key: route}}\n"
                    + extraRoute
                    + "cache: {collapse_wait: 5s}\n"
                    + "cluster:\n"
                    + "  name: " + fleet + "\n"
                    + "  bind: '" + fleetAddress + ":5701'\n"
                    + "  gossip_port: 7800\n"
                    + "  expected_size: 3\n"
                    + "  peers: [" + peers() + "]\n"
                    + "  keys: [" + FLEET_KEY + "]\n";
        }

        void start() throws IOException {
            Path config = Files.writeString(dir.resolve(name + ".yaml"), config(""));
            log = dir.resolve(name + ".log");
            String java = ProcessHandle.current()
                    .info()
                    .command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                            .toString());
            process = new ProcessBuilder(net.inNamespace(
                            ns,
                            List.of(
                                    java,
                                    "-Xmx256m",
                                    "-XX:+UseSerialGC",
                                    "-XX:TieredStopAtLevel=1",
                                    "-Dhazelcast.phone.home.enabled=false",
                                    "-cp",
                                    System.getProperty("java.class.path"),
                                    "io.flotilla.node.cli.Main",
                                    "node",
                                    "--config",
                                    config.toString())))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        }

        void awaitStarted() throws InterruptedException {
            await(name + " to start", 90, () -> {
                if (!process.isAlive()) {
                    fail(name + " exited with " + process.exitValue() + ":\n" + read(log));
                }
                return read(log).contains("gossip on " + fleetAddress);
            });
        }
    }

    private int count(String path) {
        return counts.computeIfAbsent(path, k -> new AtomicInteger()).get();
    }

    private Node node(String name) {
        return nodes.stream().filter(n -> n.name.equals(name)).findFirst().orElseThrow();
    }

    private String elapsed() {
        return String.format("%.1f s", (System.nanoTime() - startedAt) / 1e9);
    }

    @BeforeAll
    void buildNetworkAndFleet() throws Exception {
        startedAt = System.nanoTime();
        net = NetworkNamespaces.requireUsable();
        subnet = net.freeSubnet("10.231.");
        String s = subnet;
        net.addNamespace(nsAb);
        net.addNamespace(nsC);
        // Each side to the root namespace (this JVM: the client, and the origin on s.1).
        net.addRootLink("flab-" + id, nsAb, "svc");
        net.addRootLink("flc-" + id, nsC, "svc");
        net.run("addr", "add", s + "1/29", "dev", "flab-" + id);
        net.run("link", "set", "flab-" + id, "up");
        net.run("addr", "add", s + "9/29", "dev", "flc-" + id);
        net.run("link", "set", "flc-" + id, "up");
        net.run("-n", nsAb, "addr", "add", s + "2/29", "dev", "svc");
        net.run("-n", nsAb, "addr", "add", s + "3/29", "dev", "svc");
        net.run("-n", nsAb, "link", "set", "svc", "up");
        net.run("-n", nsC, "addr", "add", s + "10/29", "dev", "svc");
        net.run("-n", nsC, "link", "set", "svc", "up");
        net.run("-n", nsC, "route", "add", s + "1/32", "via", s + "9"); // the origin, through C's own link
        // The fleet link between the sides: the one thing the partition cuts.
        net.run("-n", nsAb, "link", "add", "fleet", "type", "veth", "peer", "name", "fleet", "netns", nsC);
        net.run("-n", nsAb, "addr", "add", s + "66/26", "dev", "fleet");
        net.run("-n", nsAb, "addr", "add", s + "67/26", "dev", "fleet");
        net.run("-n", nsC, "addr", "add", s + "68/26", "dev", "fleet");
        net.run("-n", nsAb, "link", "set", "fleet", "up");
        net.run("-n", nsC, "link", "set", "fleet", "up");

        origin = TestOrigin.start(
                (request, out) -> {
                    String path = request.target();
                    int n = counts.computeIfAbsent(path, k -> new AtomicInteger())
                            .incrementAndGet();
                    byte[] body = ("origin:" + path + "#" + n).getBytes(StandardCharsets.US_ASCII);
                    TestOrigin.writeResponse(
                            out,
                            200,
                            Map.of("Cache-Control", "max-age=300"),
                            body,
                            !request.method().equals("HEAD"));
                    return true;
                },
                InetAddress.getByName(s + "1"),
                0);

        nodes.add(new Node("a", nsAb, s + "2", s + "66"));
        nodes.add(new Node("b", nsAb, s + "3", s + "67"));
        nodes.add(new Node("c", nsC, s + "10", s + "68"));
        node("a").start();
        node("a").awaitStarted(); // the first member; the others join it
        node("b").start();
        node("c").start();
        node("b").awaitStarted();
        node("c").awaitStarted();
        for (Node n : nodes) {
            await(n.name + " to see all three members", 60, () -> n.sees(3, false));
        }
        System.out.println("partition test: fleet of three up on " + s + "0/24 after " + elapsed());
    }

    @AfterAll
    void tearDown() throws Exception {
        try {
            for (Node n : nodes) {
                if (n.process != null) {
                    n.process.destroy();
                }
            }
            for (Node n : nodes) {
                if (n.process != null && !n.process.waitFor(10, TimeUnit.SECONDS)) {
                    n.process.destroyForcibly();
                    n.process.waitFor(10, TimeUnit.SECONDS);
                }
            }
            if (origin != null) {
                origin.close();
            }
        } finally {
            if (net != null) {
                net.close();
            }
        }
    }

    /** Brings the link up (when a test left it cut) and waits until every node sees all three members. */
    private void whole() throws Exception {
        if (cut) {
            long healedAt = System.nanoTime();
            net.run("-n", nsC, "link", "set", "fleet", "up");
            cut = false;
            for (Node n : nodes) {
                await(n.name + " to see all three members again", 100, () -> n.sees(3, false));
            }
            System.out.printf(
                    "partition test: healed; every node sees the whole fleet %.1f s after the link came up%n",
                    (System.nanoTime() - healedAt) / 1e9);
        }
        for (Node n : nodes) {
            await(n.name + " to see all three members", 60, () -> n.sees(3, false));
        }
    }

    /** Takes the link down (unless it is down) and waits until each node sees its own side only. */
    private void split() throws Exception {
        if (!cut) {
            long cutAt = System.nanoTime();
            net.run("-n", nsC, "link", "set", "fleet", "down");
            cut = true;
            for (Node n : nodes) {
                boolean alone = n.name.equals("c");
                await(n.name + " to see its side only", 60, () -> n.sees(alone ? 1 : 2, true));
            }
            System.out.printf(
                    "partition test: cut noticed by every node %.1f s after the link went down%n",
                    (System.nanoTime() - cutAt) / 1e9);
        }
    }

    /** Stores {@code path} through A and checks that every node then hits it (the fleet is whole). */
    private void storeEverywhere(String path) throws IOException {
        node("a").get(path);
        for (Node n : nodes) {
            RawClient.Response r = n.get(path);
            assertTrue(r.header("Cache-Status").startsWith("flotilla; hit"), n.name + ": " + r.header("Cache-Status"));
        }
        assertEquals(1, count(path));
    }

    @Test
    @Order(1)
    void beforeTheCutEveryNodeHitsWhatAnyNodeStored() throws Exception {
        whole();
        for (int i = 0; i < 5; i++) {
            storeEverywhere("/pre/" + i);
        }
    }

    @Test
    @Order(2)
    void bothSidesKeepServingHitsTheyHoldAndMissesGoToTheOrigin() throws Exception {
        whole();
        for (int i = 0; i < 5; i++) {
            storeEverywhere("/held/" + i);
        }
        split();
        // Stored before the cut: A and B hold every entry (of its two copies at most one was on C).
        for (Node n : List.of(node("a"), node("b"))) {
            for (int i = 0; i < 5; i++) {
                RawClient.Response r = n.get("/held/" + i);
                assertEquals("origin:/held/" + i + "#1", r.bodyText());
                assertTrue(
                        r.header("Cache-Status").startsWith("flotilla; hit"), n.name + ": " + r.header("Cache-Status"));
            }
        }
        // Stored during the split: each side fetches once and then hits its own copy.
        for (int i = 1; i <= 2; i++) {
            String path = "/split/" + i;
            RawClient.Response viaA = node("a").get(path);
            assertEquals("origin:" + path + "#1", viaA.bodyText());
            assertTrue(viaA.header("Cache-Status").contains("fwd=uri-miss"), viaA.header("Cache-Status"));
            RawClient.Response viaB = node("b").get(path);
            assertEquals("origin:" + path + "#1", viaB.bodyText());
            assertTrue(viaB.header("Cache-Status").startsWith("flotilla; hit"), viaB.header("Cache-Status"));
            RawClient.Response viaC = node("c").get(path);
            assertEquals("origin:" + path + "#2", viaC.bodyText(), "C cannot see A's copy: a miss, to the origin");
            RawClient.Response again = node("c").get(path);
            assertEquals("origin:" + path + "#2", again.bodyText());
            assertTrue(again.header("Cache-Status").startsWith("flotilla; hit"), again.header("Cache-Status"));
            assertEquals(2, count(path));
        }
    }

    @Test
    @Order(3)
    void aSplitFleetSeesItsSideOnlyAndEachSideLimitsToItsShare() throws Exception {
        split();
        for (Node n : nodes) {
            boolean alone = n.name.equals("c");
            assertTrue(n.sees(alone ? 1 : 2, true), n.fleetView());
            assertTrue(n.fleetView().contains("\"share\":" + (alone ? 1.0 / 3 : 2.0 / 3)), n.fleetView());
        }
    }

    @Test
    @Order(4)
    void theLimitOverBothSidesAdmitsNoMoreThanDocumented() throws Exception {
        split();
        // One window, aligned to the epoch as every node's is: start just after a boundary.
        Thread.sleep(PERIOD_MS - System.currentTimeMillis() % PERIOD_MS + 200);
        long windowEnd = System.currentTimeMillis() / PERIOD_MS * PERIOD_MS + PERIOD_MS;
        int before = count("/limited/x");
        int[] admitted = new int[2];
        int[] sent = new int[2];
        int[] toSend = {LIMIT, LIMIT / 2}; // each side is asked for more than the whole of its share
        List<List<Node>> sides = List.of(List.of(node("a"), node("b")), List.of(node("c")));
        List<Thread> threads = new ArrayList<>();
        for (int side = 0; side < 2; side++) {
            int s = side;
            Thread t = new Thread(() -> {
                try {
                    while (sent[s] < toSend[s] && System.currentTimeMillis() < windowEnd - 1500) {
                        Node n = sides.get(s).get(sent[s] % sides.get(s).size());
                        if (n.get("/limited/x").status() == 200) {
                            admitted[s]++;
                        }
                        sent[s]++;
                        Thread.sleep(5);
                    }
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(PERIOD_MS + 5_000);
        }
        long shareAb = (long) Math.ceil(LIMIT * 2 / 3.0);
        long shareC = (long) Math.ceil(LIMIT / 3.0);
        // docs/DESIGN.md, rate counters: "the halves of a split fleet together admit at most L, plus
        // one per half for rounding and the ~1% each half may run over".
        long bound = LIMIT + 2 + (long) Math.ceil(LIMIT * 0.01);
        int total = admitted[0] + admitted[1];
        System.out.printf(
                "partition test: limit %d per %d s, expected size 3, split A,B | C: A+B admitted %d of %d"
                        + " (share %d), C admitted %d of %d (share %d); together %d (documented bound %d)%n",
                LIMIT, PERIOD_MS / 1000, admitted[0], sent[0], shareAb, admitted[1], sent[1], shareC, total, bound);
        assertEquals(toSend[0], sent[0], "A+B's requests all fell in one window");
        assertEquals(toSend[1], sent[1], "C's requests all fell in one window");
        assertEquals(total, count("/limited/x") - before, "what was admitted reached the origin, nothing else");
        assertTrue(total <= bound, "the halves admitted " + total + " together, over the documented " + bound);
        // Never block: each side keeps admitting up to (nearly) its share.
        assertTrue(admitted[0] >= shareAb * 0.9, "A+B admitted only " + admitted[0] + " of its share " + shareAb);
        assertTrue(admitted[1] >= shareC * 0.9, "C admitted only " + admitted[1] + " of its share " + shareC);
    }

    @Test
    @Order(5)
    void configPushedAndPurgesIssuedInBothHalvesWinAfterTheHeal() throws Exception {
        split();
        // C, the smaller half (Hazelcast merges it into the larger), goes two versions ahead; A one.
        Node a = node("a");
        Node c = node("c");
        long base = a.configVersion();
        assertEquals(base, c.configVersion());
        // A copy of each purged path on each side (A's side fetches first: #1; C then: #2), and one
        // that no purge matches.
        for (String path : List.of("/purge/1", "/purge/2")) {
            assertEquals("origin:" + path + "#1", a.get(path).bodyText());
            assertEquals("origin:" + path + "#2", c.get(path).bodyText());
        }
        assertEquals("origin:/kept#1", a.get("/kept").bodyText());
        for (int i = 1; i <= 2; i++) {
            RawClient.Response pushed = c.admin(
                    "POST", "/config", c.config("  - {path: /cfg/, upstream: app, rewrite: /from-c" + i + "/}\n"));
            assertEquals(200, pushed.status(), "push " + i + " to C during the split: " + pushed.bodyText());
            assertTrue(pushed.bodyText().contains("published version " + (base + i)), pushed.bodyText());
        }
        // Where both copies of the config's key were on A and B, C's half had no history left and C
        // put back the one it runs before publishing (HazelcastConfigStore.restoreIfLost).
        System.out.println("partition test: C's half "
                + (read(c.log).contains("config history missing")
                        ? "had lost the config history and restored it"
                        : "held a copy of the config history"));
        RawClient.Response pushed =
                a.admin("POST", "/config", a.config("  - {path: /cfg/, upstream: app, rewrite: /from-ab/}\n"));
        assertEquals(200, pushed.status(), "push to A during the split: " + pushed.bodyText());
        assertTrue(pushed.bodyText().contains("published version " + (base + 1)), pushed.bodyText());
        await("B to run A's push", 10, () -> node("b").configVersion() == base + 1);
        assertEquals("origin:/from-ab/x#1", node("b").get("/cfg/x").bodyText());
        assertEquals("origin:/from-c2/x#1", c.get("/cfg/x").bodyText());

        // A purge on each side: it removes that side's copy only, for now.
        RawClient.Response purgedOnA = a.admin("POST", "/cache/purge?url=http://fleet.test/purge/1", "");
        assertEquals(200, purgedOnA.status(), purgedOnA.bodyText());
        assertTrue(purgedOnA.bodyText().contains("\"purged\":1"), purgedOnA.bodyText());
        RawClient.Response purgedOnC = c.admin("POST", "/cache/purge?url=http://fleet.test/purge/2", "");
        assertEquals(200, purgedOnC.status(), purgedOnC.bodyText());
        assertTrue(purgedOnC.bodyText().contains("\"purged\":1"), purgedOnC.bodyText());
        assertEquals("origin:/purge/1#2", c.get("/purge/1").bodyText(), "A's purge cannot reach C yet");
        assertEquals("origin:/purge/2#1", node("b").get("/purge/2").bodyText(), "C's purge cannot reach B yet");

        // The heal: every node runs the highest version (C's) and both halves' purges.
        whole();

        for (Node n : nodes) {
            await(n.name + " to run C's version " + (base + 2), 20, () -> n.configVersion() == base + 2);
            await(n.name + " to route by C's version", 10, () -> {
                try {
                    return n.get("/cfg/y").bodyText().startsWith("origin:/from-c2/y#");
                } catch (IOException e) {
                    return false;
                }
            });
        }

        // No node may serve a copy stored before a purge of either half: A's purge of /purge/1 removed
        // C's copy (#2), C's purge of /purge/2 removed A's (#1); the first fetch after them is #3.
        for (String path : List.of("/purge/1", "/purge/2")) {
            for (Node n : nodes) {
                await(n.name + " to drop the copies purged in the other half for " + path, 20, () -> {
                    try {
                        String body = n.get(path).bodyText();
                        return !body.equals("origin:" + path + "#1") && !body.equals("origin:" + path + "#2");
                    } catch (IOException e) {
                        return false;
                    }
                });
            }
            for (Node n : nodes) {
                RawClient.Response r = n.get(path);
                assertEquals("origin:" + path + "#3", r.bodyText(), n.name + ": fetched once after the purges");
                assertTrue(
                        r.header("Cache-Status").startsWith("flotilla; hit"), n.name + ": " + r.header("Cache-Status"));
            }
            assertEquals(3, count(path), path + ": one fetch after the merge, then hits everywhere");
        }
        // What no purge matched survived the merge: A's side's copy, now served by every node.
        for (Node n : nodes) {
            assertEquals("origin:/kept#1", n.get("/kept").bodyText(), n.name);
        }
        assertEquals(1, count("/kept"));
        System.out.println("partition test: done after " + elapsed());
    }
}
