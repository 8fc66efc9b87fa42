package io.flotilla.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.model.ContainerNetwork;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.MountableFile;

/**
 * The fleet as users run it in containers (issue 18): three node containers from the image on a user
 * network, finding each other by DNS ({@code discovery: dns} on the network alias {@code fleet}, each
 * binding its own alias), the recording origin, and HAProxy as the L4 front sending PROXY v2. Every
 * request a test makes goes through the front on its mapped port or, to ask one node, from inside
 * that node's container (so it works while the node is cut off).
 *
 * <p>In order: the image (labels, user, health check, heap from the memory limit); the fleet forms
 * by names; the shared cache across containers; a node killed (SIGKILL) and restarted under load
 * through the front; a node cut off the network and healed; a node stopped gracefully under load.
 * The network is {@code flotilla-test-*} with its own subnet (so a healed node keeps its address, as
 * after a cable is put back); everything started is removed at the end (no reaper: there is no registry
 * to pull it from).
 */
@ExtendWith(DockerRequired.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerFleetTest {
    static final String TOKEN = "container-test-" + UUID.randomUUID();
    static final String HOST = "fleet.test";
    static final int KEYS = 20;
    static final long MEMORY = 768L << 20;

    @TempDir
    static Path dir;

    private final DockerClient docker = DockerClientFactory.instance().client();
    private final List<GenericContainer<?>> started = new ArrayList<>();
    private final List<GenericContainer<?>> nodes = new ArrayList<>();
    private Network network;
    private String subnet; // "10.250.R."
    private GenericContainer<?> origin;
    private GenericContainer<?> front;

    @BeforeAll
    void startFleet() throws Exception {
        String key = fleetKey();
        network = userNetwork();
        origin = start(new GenericContainer<>(Images.PEERS)
                .withNetwork(network)
                .withNetworkAliases("origin")
                .withCreateContainerCmdModifier(cmd -> cmd.withUser("nobody"))
                .withExposedPorts(8000)
                .waitingFor(Wait.forHttp("/_stats")));
        for (String name : List.of("node-a", "node-b", "node-c")) {
            nodes.add(node(name, key));
        }
        // One node first: three started at once each become a fleet of one and merge only later.
        long t0 = System.nanoTime();
        start(nodes.get(0));
        System.out.printf("node-a healthy %d ms after docker start%n", (System.nanoTime() - t0) / 1_000_000);
        started.addAll(nodes.subList(1, 3));
        Startables.deepStart(nodes.subList(1, 3)).join(); // together: both join node-a's fleet
        front = start(new GenericContainer<>(Images.PEERS)
                .withNetwork(network)
                .withCommand("haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg")
                .withCopyFileToContainer(file("haproxy.cfg", haproxyConfig(), 0644), "/etc/haproxy/haproxy.cfg")
                .withExposedPorts(80)
                .waitingFor(Wait.forListeningPort()));
    }

    @AfterAll
    void removeAll() {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).stop();
            } catch (RuntimeException e) {
                System.err.println("stopping " + started.get(i).getDockerImageName() + ": " + e);
            }
        }
        if (network != null) {
            network.close();
        }
    }

    @Test
    @Order(1)
    void imageRunsAsItsOwnUserWithAHealthCheckAndHeapFromTheMemoryLimit() throws Exception {
        InspectImageResponse image = docker.inspectImageCmd(Images.NODE).exec();
        assertEquals(
                System.getProperty("flotilla.image.version"),
                image.getConfig().getLabels().get("org.opencontainers.image.version"));
        assertEquals("flotilla", image.getConfig().getUser());
        for (GenericContainer<?> node : nodes) {
            assertEquals(
                    "healthy",
                    docker.inspectContainerCmd(node.getContainerId())
                            .exec()
                            .getState()
                            .getHealth()
                            .getStatus());
            assertEquals(
                    "uid=10001(flotilla) gid=10001(flotilla) groups=10001(flotilla)",
                    node.execInContainer("id").getStdout().trim());
        }
        // 40% of the 768 MiB limit: the JVM reads the cgroup, not the machine's 24 GiB.
        String vm = nodes.get(0)
                .execInContainer("sh", "-c", "java $JAVA_OPTS -XshowSettings:vm -version")
                .getStderr();
        Matcher heap =
                Pattern.compile("Max\\. Heap Size \\(Estimated\\): ([0-9.]+)M").matcher(vm);
        assertTrue(heap.find(), vm);
        double mib = Double.parseDouble(heap.group(1));
        assertTrue(mib > 0.35 * 768 && mib < 0.45 * 768, "max heap " + mib + " MiB in a 768 MiB container");
    }

    @Test
    @Order(2)
    void fleetFormsByDnsNames() throws Exception {
        for (GenericContainer<?> node : nodes) {
            Await.until(
                    Duration.ofSeconds(120), () -> members(node) == 3, () -> "members of " + node + ": " + fleet(node));
        }
    }

    @Test
    @Order(3)
    void aResponseCachedThroughOneContainerIsAHitOnTheOthers() throws Exception {
        assertTrue(!inside(nodes.get(0), "/cached/shared").hit());
        assertTrue(inside(nodes.get(1), "/cached/shared").hit());
        assertTrue(inside(nodes.get(2), "/cached/shared").hit());
        for (int i = 0; i < KEYS; i++) {
            assertEquals(200, throughFront("/cached/k" + i).status());
        }
        for (int i = 0; i < 2 * KEYS; i++) {
            RawHttp.Response r = throughFront("/cached/k" + (i % KEYS));
            assertTrue(r.hit(), r.head());
        }
        Map<String, Integer> counts = originCounts();
        assertEquals(1, counts.get("/cached/shared"));
        for (int i = 0; i < KEYS; i++) {
            assertEquals(1, counts.get("/cached/k" + i), "origin requests for /cached/k" + i);
        }
    }

    @Test
    @Order(4)
    void aKilledContainerRestartsWithItsEntriesKeptAndNoFailedRequestBeyondTheOneInFlight() throws Exception {
        GenericContainer<?> b = nodes.get(1);
        try (FrontLoad load = new FrontLoad(this::throughFront, KEYS)) {
            load.awaitRequests(50);
            docker.killContainerCmd(b.getContainerId()).exec(); // SIGKILL: no drain
            Await.until(Duration.ofSeconds(30), () -> members(nodes.get(0)) == 2, () -> fleet(nodes.get(0)));
            load.awaitRequests(load.requests() + 50);
            docker.startContainerCmd(b.getContainerId()).exec();
            Await.until(Duration.ofSeconds(240), () -> health(b).equals("healthy"), () -> "node-b: " + health(b));
            for (GenericContainer<?> node : nodes) {
                Await.until(Duration.ofSeconds(120), () -> members(node) == 3, () -> fleet(node));
            }
            load.awaitRequests(load.requests() + 50);
            load.stop();
            System.out.println("kill and restart under load: " + load);
            assertTrue(load.failures() <= 1, "failed requests through the front: " + load);
        }
        // The restarted node serves the entries the fleet kept; the origin saw none of them again.
        for (int i = 0; i < KEYS; i++) {
            RawHttp.Response r = inside(b, "/cached/k" + i);
            assertTrue(r.hit(), "/cached/k" + i + " on the restarted node-b: " + r.head());
        }
        Map<String, Integer> counts = originCounts();
        for (int i = 0; i < KEYS; i++) {
            assertEquals(1, counts.get("/cached/k" + i), "origin requests for /cached/k" + i);
        }
    }

    @Test
    @Order(5)
    void aContainerCutOffTheNetworkLeavesTheFleetAndRejoinsWhenHealed() throws Exception {
        GenericContainer<?> c = nodes.get(2);
        String address = docker.inspectContainerCmd(c.getContainerId())
                .exec()
                .getNetworkSettings()
                .getNetworks()
                .values()
                .iterator()
                .next()
                .getIpAddress();
        try (FrontLoad load = new FrontLoad(this::throughFront, KEYS)) {
            load.awaitRequests(20);
            docker.disconnectFromNetworkCmd()
                    .withNetworkId(network.getId())
                    .withContainerId(c.getContainerId())
                    .exec();
            Await.until(
                    Duration.ofSeconds(30),
                    () -> members(nodes.get(0)) == 2 && members(nodes.get(1)) == 2 && members(c) == 1,
                    () -> "a: " + fleet(nodes.get(0)) + "\nc: " + fleet(c));
            load.awaitRequests(load.requests() + 50);
            // The cut-off node still serves what its near cache holds, to whoever can reach it.
            assertTrue(inside(c, "/cached/shared").hit());
            docker.connectToNetworkCmd()
                    .withNetworkId(network.getId())
                    .withContainerId(c.getContainerId())
                    .withContainerNetwork(new ContainerNetwork()
                            .withAliases("node-c", "fleet")
                            .withIpamConfig(new ContainerNetwork.Ipam().withIpv4Address(address)))
                    .exec();
            for (GenericContainer<?> node : nodes) {
                Await.until(Duration.ofSeconds(90), () -> members(node) == 3, () -> fleet(node));
            }
            load.awaitRequests(load.requests() + 50);
            load.stop();
            System.out.println("partition and heal under load: " + load);
            assertTrue(load.failures() <= 1, "failed requests through the front: " + load);
        }
        // One cache again: an entry stored through A is a hit on C. Gossip merges first, Hazelcast's
        // split-brain merge some seconds later, so each try uses a fresh path until one hits.
        int[] tries = {0};
        Await.until(
                Duration.ofSeconds(60),
                () -> {
                    String path = "/cached/after-heal-" + (++tries[0]);
                    return !inside(nodes.get(0), path).hit() && inside(c, path).hit();
                },
                () -> "no shared hit on node-c after " + tries[0] + " tries");
        System.out.println("shared cache whole again after the heal, try " + tries[0]);
        assertEquals(1, originCounts().get("/cached/after-heal-" + tries[0]));
    }

    @Test
    @Order(6)
    void aStoppedContainerDrainsAndExitsZeroWithNoFailedRequest() throws Exception {
        GenericContainer<?> a = nodes.get(0);
        try (FrontLoad load = new FrontLoad(this::throughFront, KEYS)) {
            load.awaitRequests(20);
            long t0 = System.nanoTime();
            docker.stopContainerCmd(a.getContainerId()).withTimeout(30).exec(); // SIGTERM, then waits
            long stopMs = (System.nanoTime() - t0) / 1_000_000;
            load.awaitRequests(load.requests() + 50);
            load.stop();
            System.out.println("graceful stop in " + stopMs + " ms under load: " + load);
            assertEquals(0, load.failures(), "failed requests through the front: " + load);
            assertTrue(stopMs < 25_000, "stop took " + stopMs + " ms");
        }
        assertEquals(
                0L,
                docker.inspectContainerCmd(a.getContainerId()).exec().getState().getExitCodeLong());
        assertTrue(a.getLogs(OutputFrame.OutputType.STDERR, OutputFrame.OutputType.STDOUT)
                .contains("drained"));
        Await.until(Duration.ofSeconds(30), () -> members(nodes.get(1)) == 2, () -> fleet(nodes.get(1)));
    }

    private GenericContainer<?> node(String name, String key) throws IOException {
        return new GenericContainer<>(Images.NODE)
                .withNetwork(network)
                .withNetworkAliases(name, "fleet")
                .withCreateContainerCmdModifier(
                        cmd -> cmd.withHostName(name).getHostConfig().withMemory(MEMORY))
                .withCopyFileToContainer(file(name + ".yaml", nodeConfig(name), 0644), "/etc/flotilla/flotilla.yaml")
                .withCopyFileToContainer(file("fleet.key", key, 0644), "/etc/flotilla/fleet.key")
                .withExposedPorts(8080, 9090)
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofSeconds(240)));
    }

    private String nodeConfig(String name) {
        return """
                node:
                  name: %1$s
                  admin: 0.0.0.0:9090
                  admin_token: %2$s
                  drain_grace: 2s
                  drain_timeout: 10s
                listeners:
                  - bind: 0.0.0.0:8080
                  - {bind: 0.0.0.0:8081, proxy_protocol: true, trusted_proxies: [%3$s0/24]}
                upstreams:
                  origin: {servers: [origin:8000]}
                routes:
                  - {path: /, upstream: origin, cache: true}
                cluster:
                  name: containers
                  bind: %1$s:5701
                  gossip_port: 7800
                  discovery: dns
                  dns: fleet
                  expected_size: 3
                  key_file: /etc/flotilla/fleet.key
                """.formatted(name, TOKEN, subnet);
    }

    /** HAProxy as users run it before a fleet: TCP, PROXY v2, health from /healthz, names re-resolved. */
    private static String haproxyConfig() {
        return """
                global
                  log stdout format raw local0 warning
                resolvers docker
                  nameserver dns 127.0.0.11:53
                  hold valid 1s
                defaults
                  mode tcp
                  timeout connect 1s
                  timeout client 10s
                  timeout server 5s
                  retries 3
                  option redispatch 1
                frontend http
                  bind :80
                  default_backend fleet
                backend fleet
                  balance roundrobin
                  option httpchk GET /healthz
                  default-server send-proxy-v2 check port 9090 inter 500ms fall 2 rise 2 resolvers docker init-addr libc,none
                  server node-a node-a:8081
                  server node-b node-b:8081
                  server node-c node-c:8081
                """;
    }

    /** A fleet key made as users make one: the image's own {@code fleet-key} command. */
    private String fleetKey() {
        try (GenericContainer<?> maker = new GenericContainer<>(Images.NODE)
                .withCommand("fleet-key")
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(60)))) {
            maker.start();
            String key = maker.getLogs(OutputFrame.OutputType.STDOUT).trim();
            assertTrue(key.length() >= 40, "fleet-key printed '" + key + "'");
            return key + "\n";
        }
    }

    /** A user network of its own with a subnet chosen here, so a node can be put back at its address. */
    private Network userNetwork() {
        RuntimeException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            int r = ThreadLocalRandom.current().nextInt(1, 255);
            Network n = Network.builder()
                    .createNetworkCmdModifier(cmd -> cmd.withName("flotilla-test-"
                                    + UUID.randomUUID().toString().substring(0, 8))
                            .withIpam(new com.github.dockerjava.api.model.Network.Ipam()
                                    .withConfig(new com.github.dockerjava.api.model.Network.Ipam.Config()
                                            .withSubnet("10.250." + r + ".0/24"))))
                    .build();
            try {
                n.getId(); // created now: a subnet another network holds fails here
                subnet = "10.250." + r + ".";
                return n;
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw last;
    }

    private GenericContainer<?> start(GenericContainer<?> container) {
        started.add(container);
        container.start();
        return container;
    }

    private MountableFile file(String name, String text, int mode) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return MountableFile.forHostPath(p, mode);
    }

    private RawHttp.Response throughFront(String path) throws IOException {
        return RawHttp.get(front.getHost(), front.getMappedPort(80), path, HOST);
    }

    /** A GET from inside a node's container to its own listener: works whatever the network does. */
    private RawHttp.Response inside(GenericContainer<?> node, String path) throws Exception {
        return RawHttp.parse(execHttp(node, 8080, path, ""));
    }

    private String fleet(GenericContainer<?> node) {
        try {
            return RawHttp.parse(execHttp(node, 9090, "/fleet", "Authorization: Bearer " + TOKEN + "\r\n"))
                    .body();
        } catch (Exception e) {
            return e.toString();
        }
    }

    private int members(GenericContainer<?> node) {
        String json = fleet(node);
        int start = json.indexOf("\"members\":[");
        if (start < 0) {
            return -1;
        }
        String members = json.substring(start, json.indexOf(']', start));
        return members.split("\"name\":", -1).length - 1;
    }

    private String health(GenericContainer<?> node) {
        var health = docker.inspectContainerCmd(node.getContainerId())
                .exec()
                .getState()
                .getHealth();
        return health == null ? "none" : health.getStatus();
    }

    /** The image has no curl: bash's /dev/tcp, as its health check does. */
    private static String execHttp(GenericContainer<?> node, int port, String path, String headers) throws Exception {
        String script = "exec 3<>/dev/tcp/127.0.0.1/" + port + " && printf 'GET " + path + " HTTP/1.1\\r\\nHost: "
                + HOST + "\\r\\nConnection: close\\r\\n" + headers.replace("\r\n", "\\r\\n") + "\\r\\n' >&3 && cat <&3";
        return node.execInContainer("bash", "-c", script).getStdout();
    }

    private Map<String, Integer> originCounts() throws IOException {
        String json = RawHttp.get(origin.getHost(), origin.getMappedPort(8000), "/_stats", "origin")
                .body();
        Map<String, Integer> counts = new java.util.HashMap<>();
        Matcher m = Pattern.compile("\"([^\"]+)\": (\\d+)").matcher(json);
        while (m.find()) {
            counts.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return counts;
    }
}
