package io.flotilla.node.fleet;

import static io.flotilla.node.testing.Await.await;
import static io.flotilla.node.testing.Await.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestOrigin;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
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
 * Three nodes as three real processes on loopback, joined into one fleet (JGroups gossip + embedded
 * Hazelcast), in front of one recording origin: what a fleet must show (issue 6), with the origin's
 * request counts as the proof. Every port is chosen by the OS and read back from the node's log and
 * admin API. The last test kills a node with SIGKILL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetProcessTest {
    private static final Pattern STARTED = Pattern.compile(
            "serving on \\[/127\\.0\\.0\\.1:(\\d+)].*admin on 127\\.0\\.0\\.1:(\\d+), fleet '[^']+' gossip on 127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    static Path dir;

    private final String fleet = "t" + UUID.randomUUID().toString().substring(0, 8);
    private final String fleetKey = FleetKeys.generate();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private TestOrigin origin;
    private TestOrigin flaky;
    private volatile boolean flakyUp = true;

    /** One node process and what it told us about itself. */
    private final class Node {
        final String name;
        final Process process;
        final Path log;
        int port;
        int admin;
        int gossip;

        Node(String name, Process process, Path log) {
            this.name = name;
            this.process = process;
            this.log = log;
        }

        RawClient.Response get(String target) throws IOException {
            try (RawClient c = new RawClient(port)) {
                return c.timeout(10_000).get(target, "fleet.test");
            }
        }

        RawClient.Response admin(String method, String target, String body) throws IOException {
            try (RawClient c = new RawClient(admin)) {
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                c.send(method + " " + target + " HTTP/1.1\r\nHost: admin\r\nContent-Length: " + bytes.length
                        + "\r\n\r\n");
                c.send(bytes);
                return c.timeout(20_000).read();
            }
        }
    }

    private String config(String name, String peer) {
        return "node: {name: " + name + ", admin: '127.0.0.1:0', event_loops: 1, drain_grace: 0s}\n"
                + "listeners: [{bind: '127.0.0.1:0'}]\n"
                + "upstreams:\n"
                + "  app: {servers: ['" + origin.address() + "']}\n"
                + "  pair:\n"
                + "    servers: ['" + origin.address() + "', '" + flaky.address() + "']\n"
                + "    health: {path: /health, interval: 500ms, timeout: 300ms, fall: 1, rise: 1}\n"
                + "routes:\n"
                + "  - {path: /, upstream: app, cache: true}\n"
                + "  - {path: /limited/, upstream: app, rate_limit: {requests: 100, per: 20s, key: route}}\n"
                + "  - {path: /pair/, upstream: pair}\n"
                + "cache: {collapse_wait: 5s}\n"
                + "cluster:\n"
                + "  name: " + fleet + "\n"
                + "  bind: '127.0.0.1:0'\n"
                + "  gossip_port: 0\n"
                + "  expected_size: 3\n"
                + "  keys: ['" + fleetKey + "']\n" // the secure path is the tested path
                + (peer == null ? "" : "  peers: ['" + peer + "']\n");
    }

    private Node start(String name, String peer) throws Exception {
        Path config = Files.writeString(dir.resolve(name + ".yaml"), config(name, peer));
        Path log = dir.resolve(name + ".log");
        String java = ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = new ProcessBuilder(
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
                        config.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        Node node = new Node(name, p, log);
        nodes.add(node);
        await(name + " to start", 60, () -> {
            if (!p.isAlive()) {
                fail(name + " exited with " + p.exitValue() + ":\n" + read(log));
            }
            Matcher m = STARTED.matcher(read(log));
            if (!m.find()) {
                return false;
            }
            node.port = Integer.parseInt(m.group(1));
            node.admin = Integer.parseInt(m.group(2));
            node.gossip = Integer.parseInt(m.group(3));
            return true;
        });
        return node;
    }

    private int count(String path) {
        return counts.computeIfAbsent(path, k -> new AtomicInteger()).get();
    }

    @BeforeAll
    void startFleet() throws Exception {
        origin = TestOrigin.start((request, out) -> {
            String path = request.target();
            counts.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            // Refreshes of /swr/ keys are slow, so every node serves the stale copy while one runs.
            if (path.startsWith("/slow/")
                    || path.startsWith("/private/")
                    || path.startsWith("/swr/") && counts.get(path).get() > 1) {
                try {
                    Thread.sleep(800);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] body = ("origin:" + path).getBytes(StandardCharsets.US_ASCII);
            String cacheControl = path.startsWith("/swr/")
                    ? "max-age=1, stale-while-revalidate=60"
                    : path.startsWith("/private/") ? "private" : "max-age=300";
            TestOrigin.writeResponse(
                    out,
                    200,
                    Map.of("Cache-Control", cacheControl, "Surrogate-Key", "all"),
                    body,
                    !request.method().equals("HEAD"));
            return true;
        });
        flaky = TestOrigin.start((request, out) -> {
            if (!flakyUp) {
                return false; // closes the connection: probes and requests fail
            }
            TestOrigin.writeResponse(out, 200, Map.of(), "flaky".getBytes(StandardCharsets.US_ASCII), true);
            return true;
        });
        Node a = start("a", null);
        String seed = "127.0.0.1:" + a.gossip;
        start("b", seed);
        start("c", seed);
        for (Node n : nodes) {
            await(n.name + " to see three members", 60, () -> {
                try {
                    String json = n.admin("GET", "/fleet", "").bodyText();
                    return json.split("\"name\":").length - 1 == 3; // one entry per member
                } catch (IOException e) {
                    return false;
                }
            });
        }
    }

    @AfterAll
    void stopFleet() throws Exception {
        for (Node n : nodes) {
            n.process.destroy();
        }
        for (Node n : nodes) {
            if (!n.process.waitFor(15, TimeUnit.SECONDS)) {
                n.process.destroyForcibly();
            }
        }
        if (origin != null) {
            origin.close();
        }
        if (flaky != null) {
            flaky.close();
        }
    }

    @Test
    @Order(1)
    void aResponseCachedThroughOneNodeIsAHitOnTheOthers() throws Exception {
        Map<String, Long> before = fleetOperations(nodes.get(0));
        RawClient.Response first = nodes.get(0).get("/shared/1");
        assertEquals("flotilla; fwd=uri-miss; stored", first.header("Cache-Status"));
        await(
                "a's store to complete",
                10,
                () -> fleetOperations(nodes.get(0)).getOrDefault("store", 0L) > before.getOrDefault("store", 0L));
        assertEquals(
                Map.of("get_or_claim", 1L, "store", 1L),
                delta(before, fleetOperations(nodes.get(0))),
                "a miss costs its node two round trips to the fleet");
        for (Node n : nodes.subList(1, 3)) {
            Map<String, Long> nodeBefore = fleetOperations(n);
            RawClient.Response hit = n.get("/shared/1");
            assertEquals(200, hit.status());
            assertEquals("origin:/shared/1", hit.bodyText());
            assertTrue(
                    hit.header("Cache-Status").startsWith("flotilla; hit"), n.name + ": " + hit.header("Cache-Status"));
            assertEquals(
                    Map.of("get_or_claim", 1L),
                    delta(nodeBefore, fleetOperations(n)),
                    n.name + ": a remote hit costs one");
        }
        assertEquals(1, count("/shared/1"));
    }

    /** A node's round trips to the fleet by kind, from its admin /cache. */
    private static Map<String, Long> fleetOperations(Node n) {
        try {
            String json = n.admin("GET", "/cache", "").bodyText();
            String ops = json.substring(json.indexOf("\"fleet_operations\":{") + 20);
            Map<String, Long> m = new java.util.TreeMap<>();
            java.util.regex.Matcher kv =
                    java.util.regex.Pattern.compile("\"(\\w+)\":(\\d+)").matcher(ops.substring(0, ops.indexOf('}')));
            while (kv.find()) {
                m.put(kv.group(1), Long.parseLong(kv.group(2)));
            }
            return m;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new java.util.TreeMap<>();
        after.forEach((kind, n) -> {
            if (n - before.getOrDefault(kind, 0L) != 0) {
                d.put(kind, n - before.getOrDefault(kind, 0L));
            }
        });
        return d;
    }

    @Test
    @Order(2)
    void aStaleWhileRevalidateRefreshHappensOncePerFleet() throws Exception {
        assertEquals(
                "flotilla; fwd=uri-miss; stored", nodes.get(0).get("/swr/1").header("Cache-Status"));
        Thread.sleep(2_200); // max-age=1: stale now, and within stale-while-revalidate=60
        for (Node n : nodes) {
            RawClient.Response stale = n.get("/swr/1");
            assertEquals("origin:/swr/1", stale.bodyText());
            assertTrue(
                    stale.header("Cache-Status").contains("detail=stale-while-revalidate"),
                    n.name + ": " + stale.header("Cache-Status"));
        }
        await("the refresh", 10, () -> count("/swr/1") >= 2);
        Thread.sleep(1_500); // time for a second or third refresh, were there any
        assertEquals(2, count("/swr/1"), "the first fetch and one refresh for the whole fleet, not one per node");
    }

    @Test
    @Order(2)
    void concurrentMissesOnThreeNodesCauseOneOriginFetch() throws Exception {
        int perNode = 3;
        List<Thread> threads = new ArrayList<>();
        List<String> bodies = java.util.Collections.synchronizedList(new ArrayList<>());
        for (Node n : nodes) {
            for (int i = 0; i < perNode; i++) {
                Thread t = new Thread(() -> {
                    try {
                        bodies.add(n.get("/slow/1").bodyText());
                    } catch (IOException e) {
                        bodies.add("error: " + e);
                    }
                });
                threads.add(t);
                t.start();
            }
        }
        for (Thread t : threads) {
            t.join(20_000);
        }
        assertEquals(perNode * 3, bodies.size());
        bodies.forEach(b -> assertEquals("origin:/slow/1", b));
        assertEquals(1, count("/slow/1"), "one origin fetch for nine concurrent misses on three nodes");
    }

    /**
     * A fill that stores nothing (here an uncacheable answer) gives its claim back, and a node whose
     * request waits on that fill fetches at once: before, it waited out collapse_wait (5 s here).
     */
    @Test
    @Order(2)
    void aFillThatStoresNothingLetsAnotherNodesWaiterFetchAtOnce() throws Exception {
        Node a = nodes.get(0);
        Node b = nodes.get(1);
        long collapsedBefore = cacheEvent(b, "collapsed");
        Thread first = new Thread(() -> {
            try {
                a.get("/private/1");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        first.start();
        await("a's fetch to reach the origin", 10, () -> count("/private/1") == 1); // a holds the fleet's claim
        long t0 = System.nanoTime();
        RawClient.Response r = b.get("/private/1");
        long waited = (System.nanoTime() - t0) / 1_000_000;
        first.join(10_000);
        assertEquals("origin:/private/1", r.bodyText());
        assertEquals(collapsedBefore + 1, cacheEvent(b, "collapsed"), "b waited on a's fill");
        assertEquals(2, count("/private/1"));
        assertTrue(
                waited < 3_500,
                "b answered after " + waited + " ms: a's 800 ms fetch, then b's own; not collapse_wait");
    }

    private static long cacheEvent(Node n, String event) throws IOException {
        java.util.regex.Matcher m = Pattern.compile("\"" + event + "\":(\\d+)")
                .matcher(n.admin("GET", "/cache", "").bodyText());
        assertTrue(m.find(), event + " in /cache");
        return Long.parseLong(m.group(1));
    }

    @Test
    @Order(3)
    void aPurgeOnOneNodeRemovesTheEntryEverywhere() throws Exception {
        nodes.get(0).get("/purge/1");
        nodes.get(2).get("/purge/1"); // now in C's near cache too
        assertEquals(1, count("/purge/1"));
        RawClient.Response purged = nodes.get(1).admin("POST", "/cache/purge?url=http://fleet.test/purge/1", "");
        assertEquals(200, purged.status(), purged.bodyText());
        await("the purge to reach every node", 10, () -> {
            try {
                return nodes.get(2).get("/purge/1").header("Cache-Status").contains("fwd=uri-miss");
            } catch (IOException e) {
                return false;
            }
        });
        assertTrue(count("/purge/1") >= 2);
        int after = count("/purge/1");
        for (Node n : nodes) {
            assertTrue(n.get("/purge/1").header("Cache-Status").startsWith("flotilla; hit"), n.name);
        }
        assertEquals(after, count("/purge/1"), "stored again once, then hits everywhere");
    }

    @Test
    @Order(4)
    void aFleetWideLimitAdmitsBetweenLAndFivePercentMore() throws Exception {
        // One 20 s window, aligned to the epoch as every node's is: start just after a boundary.
        long period = 20_000;
        long wait = period - System.currentTimeMillis() % period;
        Thread.sleep(wait + 200);
        long windowEnd = System.currentTimeMillis() / period * period + period;
        int admitted = 0;
        int sent = 0;
        while (sent < 300 && System.currentTimeMillis() < windowEnd - 2000) {
            Node n = nodes.get(sent % 3);
            if (n.get("/limited/x").status() == 200) {
                admitted++;
            }
            sent++;
            Thread.sleep(10);
        }
        assertEquals(300, sent, "all requests fell in one window");
        System.out.println("fleet-wide limit of 100 per 20 s over 3 nodes: admitted " + admitted + " of " + sent);
        assertTrue(admitted >= 100 && admitted <= 105, "admitted " + admitted + " of a fleet-wide 100");
    }

    /** Pushes node {@code name}'s config plus one route through {@code via}; the fleet publishes {@code version}. */
    private void pushWithRoute(Node via, String name, String route, int version) throws IOException {
        String text = config(name, null)
                .replace(
                        "  - {path: /pair/, upstream: pair}\n",
                        "  - {path: /pair/, upstream: pair}\n  - " + route + "\n");
        RawClient.Response response = via.admin("POST", "/config", text);
        assertEquals(200, response.status(), response.bodyText());
        assertTrue(response.bodyText().contains("published version " + version), response.bodyText());
    }

    @Test
    @Order(5)
    void aConfigPushedToOneNodeIsLiveOnAll() throws Exception {
        pushWithRoute(nodes.get(2), "c", "{path: /pushed/, upstream: app, rewrite: /renamed/}", 2);
        awaitEverywhere("/pushed/p", "origin:/renamed/p", 2);
    }

    @Test
    @Order(6)
    void aRollbackAfterASighupReloadRestoresTheReloadedRoutesOnEveryNode() throws Exception {
        Node a = nodes.get(0);
        String hup = "  - {path: /pair/, upstream: pair}\n  - {path: /hup/, upstream: app, rewrite: /reloaded/}\n";
        Files.writeString(
                dir.resolve("a.yaml"), config("a", null).replace("  - {path: /pair/, upstream: pair}\n", hup));
        Process kill = new ProcessBuilder("sh", "-c", "kill -HUP " + a.process.pid())
                .inheritIO()
                .start();
        assertEquals(0, kill.waitFor());
        awaitEverywhere("/hup/x", "origin:/reloaded/x", 3);
        RawClient.Response pushed = nodes.get(2).admin("POST", "/config", config("c", null));
        assertEquals(200, pushed.status(), pushed.bodyText());
        awaitEverywhere("/hup/y", "origin:/hup/y", 4); // the push has no /hup/ route: the catch-all answers
        RawClient.Response rolled = nodes.get(1).admin("POST", "/config/rollback", "");
        assertEquals(200, rolled.status(), rolled.bodyText());
        awaitEverywhere("/hup/z", "origin:/reloaded/z", 5); // the SIGHUP's routes, not the startup ones
        String versions = nodes.get(2).admin("GET", "/config/versions", "").bodyText();
        Matcher m = Pattern.compile("\"source\":\"([^\"]*)\"").matcher(versions);
        List<String> sources = new ArrayList<>();
        while (m.find()) {
            sources.add(m.group(1));
        }
        assertEquals(List.of("rollback to v3", "push", "sighup", "push", "file"), sources, versions);
        assertTrue(versions.contains("\"publisher\":\"a (SIGHUP, "), versions);
        Set<String> digests = new HashSet<>();
        for (Node n : nodes) {
            Matcher d = Pattern.compile("\"config_digest\":\"(\\w+)\"")
                    .matcher(n.admin("GET", "/fleet", "").bodyText());
            assertTrue(d.find(), n.name);
            digests.add(d.group(1));
        }
        assertEquals(1, digests.size(), "every node runs the same text: " + digests);
    }

    /** Waits until every node answers {@code target} with {@code body} and reports running {@code version}. */
    private void awaitEverywhere(String target, String body, int version) throws Exception {
        for (Node n : nodes) {
            await(body + " and version " + version + " on " + n.name, 15, () -> {
                try {
                    return n.get(target).bodyText().equals(body)
                            && n.admin("GET", "/fleet", "").bodyText().contains("\"config_version\":" + version + ",");
                } catch (IOException e) {
                    return false;
                }
            });
        }
    }

    @Test
    @Order(7)
    void aBackendItsProbersMarkDownIsAvoidedByEveryNode() throws Exception {
        for (Node n : nodes) {
            String upstreams = n.admin("GET", "/upstreams", "").bodyText();
            assertTrue(upstreams.contains(flaky.address()), upstreams);
        }
        flakyUp = false;
        long downAt = System.nanoTime();
        for (Node n : nodes) {
            await(n.name + " to mark the flaky server down", 10, () -> {
                try {
                    String json = n.admin("GET", "/upstreams", "").bodyText();
                    int at = json.indexOf("\"address\":\"" + flaky.address() + "\"");
                    return at >= 0 && json.substring(at, json.indexOf('}', at)).contains("\"state\":\"unhealthy\"");
                } catch (IOException e) {
                    return false;
                }
            });
        }
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downAt);
        // One probe interval (500 ms) plus the probe timeout and the fleet's propagation.
        assertTrue(took < 2500, "every node avoided it after " + took + " ms");
        for (int i = 0; i < 9; i++) {
            assertEquals("origin:/pair/" + i, nodes.get(i % 3).get("/pair/" + i).bodyText());
        }
        flakyUp = true;
    }

    /**
     * Issue 20's attacker: a stock Hazelcast member with the fleet's name, partition count and every
     * member's address joins nothing, and what it reads, clears and writes is its own; the fleet's
     * entries are still hits everywhere and the origin is not asked again. /fleet names it.
     */
    @Test
    @Order(8)
    void aStockHazelcastMemberCannotJoinReadClearOrForgeAndTheFleetKeepsServing() throws Exception {
        for (int i = 0; i < 5; i++) {
            nodes.get(0).get("/guarded/" + i);
        }
        Matcher addresses = Pattern.compile("\"address\":\"([0-9.]+:\\d+)\"")
                .matcher(nodes.get(0).admin("GET", "/fleet", "").bodyText());
        List<String> members = new ArrayList<>();
        while (addresses.find()) {
            members.add(addresses.group(1));
        }
        assertEquals(3, members.size(), "the outsider knows every member's address");
        Config c = new Config().setClusterName(fleet).setInstanceName("outsider-" + fleet);
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.partition.count", "271");
        c.setProperty("hazelcast.wait.seconds.before.join", "1");
        c.setProperty("hazelcast.max.wait.seconds.before.join", "3");
        c.getJetConfig().setEnabled(false);
        c.getNetworkConfig().setPort(0).getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        c.getNetworkConfig()
                .getJoin()
                .getTcpIpConfig()
                .setEnabled(true)
                .setConnectionTimeoutSeconds(2)
                .setMembers(members);
        HazelcastInstance outsider = Hazelcast.newHazelcastInstance(c);
        try {
            assertEquals(1, outsider.getCluster().getMembers().size(), "the outsider joined nothing");
            for (String map : List.of(
                    "flotilla.responses", "flotilla.fills", "flotilla.purges", "flotilla.rates", "flotilla.config")) {
                IMap<Object, Object> m = outsider.getMap(map);
                assertEquals(0, m.size(), map + ": nothing of the fleet's to read");
                m.clear();
                m.put("forged", "forged");
            }
            outsider.getReplicatedMap("flotilla.health").put("app/" + origin.address(), "down");
        } finally {
            outsider.getLifecycleService().terminate();
        }
        for (Node n : nodes) {
            for (int i = 0; i < 5; i++) {
                RawClient.Response r = n.get("/guarded/" + i);
                assertEquals("origin:/guarded/" + i, r.bodyText());
                assertTrue(
                        r.header("Cache-Status").startsWith("flotilla; hit"), n.name + ": " + r.header("Cache-Status"));
            }
        }
        for (int i = 0; i < 5; i++) {
            assertEquals(1, count("/guarded/" + i), "the origin was not asked again");
        }
        long refused = 0;
        for (Node n : nodes) {
            String json = n.admin("GET", "/fleet", "").bodyText();
            Matcher m = Pattern.compile("\"member\":(\\d+)").matcher(json);
            assertTrue(m.find(), json);
            refused += Long.parseLong(m.group(1));
            if (Long.parseLong(m.group(1)) > 0) {
                assertTrue(json.contains("\"outsiders\":[{\"kind\":\"member\",\"from\":\"/127.0.0.1:"), json);
            }
            assertTrue(
                    n.admin("GET", "/metrics", "").bodyText().contains("flotilla_fleet_refused_total{kind=\"member\",}")
                            || n.admin("GET", "/metrics", "")
                                    .bodyText()
                                    .contains("flotilla_fleet_refused_total{kind=\"member\"}"));
        }
        assertTrue(refused > 0, "the outsider's connections were refused and counted");
    }

    @Test
    @Order(9)
    void killingANodeLosesNoEntryTheFleetHolds() throws Exception {
        Node a = nodes.get(0);
        for (int i = 0; i < 20; i++) {
            a.get("/keep/" + i);
        }
        a.process.destroyForcibly(); // SIGKILL: no handover
        a.process.waitFor(10, TimeUnit.SECONDS);
        for (Node n : nodes.subList(1, 3)) {
            for (int i = 0; i < 20; i++) {
                RawClient.Response r = n.get("/keep/" + i);
                assertEquals("origin:/keep/" + i, r.bodyText());
                assertTrue(
                        r.header("Cache-Status").startsWith("flotilla; hit"),
                        n.name + " /keep/" + i + ": " + r.header("Cache-Status"));
            }
        }
        for (int i = 0; i < 20; i++) {
            assertEquals(1, count("/keep/" + i), "/keep/" + i);
        }
    }

    @Test
    @Order(10)
    void aNodeRestartedFromItsFileRunsTheFleetsNewerVersionAndSaysSo() throws Exception {
        Node b = nodes.get(1);
        pushWithRoute(b, "b", "{path: /v6/, upstream: app, rewrite: /six/}", 6);
        // a's file has no /v6/ route: the fleet's version wins for routes, the file for a's own sections.
        Node restarted = start("a", "127.0.0.1:" + b.gossip);
        assertEquals("origin:/six/x", restarted.get("/v6/x").bodyText());
        String fleetJson = restarted.admin("GET", "/fleet", "").bodyText();
        assertTrue(
                fleetJson.contains("\"config_version\":6,") && fleetJson.contains("\"config_rule\":\"fleet version 6"),
                fleetJson);
        String log = read(restarted.log);
        assertTrue(log.contains("config: the fleet runs version 6") && log.contains("this node's file differs"), log);
    }
}
