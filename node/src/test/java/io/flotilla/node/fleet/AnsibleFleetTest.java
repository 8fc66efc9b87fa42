package io.flotilla.node.fleet;

import static io.flotilla.node.testing.Await.await;
import static io.flotilla.node.testing.Await.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.flotilla.node.testing.ExternalTool;
import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestOrigin;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The playbooks in {@code ansible/} run the way an operator runs them (issue 12): every host is a
 * network namespace with its own address on a bridge and its own sshd, reached by
 * {@code ansible-playbook} over SSH with a key made here. Each host's sshd runs in a mount namespace
 * of its own in which {@code /etc} (a copy), {@code /opt}, {@code /var/log}, {@code /run} and
 * {@code /var/lib/prometheus} are directories of that host only, so what a role writes and starts on
 * one host is that host's. systemd is not PID 1 here: the inventory says {@code service_manager:
 * process} (start-stop-daemon), and the rendered unit is checked with {@code systemd-analyze verify}.
 *
 * <p>Shown in order: site.yml from nothing (3 nodes, 2 fronts, Prometheus), a request through the
 * floating address served with the client's own address at the origin; a second run changes
 * nothing; a 4th node added under traffic (no failed request, no restart, it hits what the fleet
 * stored before); a rolling upgrade under traffic (no failed request); the master front's HAProxy
 * stopped: the floating address moves to the backup and traffic continues.
 *
 * <p>Addresses: a free 10.233.S.0/24 on bridge {@code fa-br<id>}; this JVM is S.1 (origin, controller)
 * and S.2 (the client). Skipped without root, ip, ansible, sshd, haproxy, keepalived or prometheus,
 * except under CI=true, where .ci/run installs them. Everything made is removed by name; every
 * process started is stopped by its pid.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AnsibleFleetTest {
    private static final Path REPO = Path.of("").toAbsolutePath().getParent();
    private static final Path ANSIBLE = REPO.resolve("ansible");
    private static final String TOKEN = "ansible-test-" + Long.toHexString(System.nanoTime());
    private static final List<String> MOUNTS = List.of("opt", "var/log", "run", "var/lib/prometheus");

    @TempDir
    static Path dir;

    private final String id = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL);
    private final Map<String, String> hosts = new LinkedHashMap<>(); // name -> address
    private final Map<String, Process> sshds = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private NetworkNamespaces net;
    private String subnet;
    private String vip;
    private TestOrigin origin;
    private Path launcher;
    private Path deployed; // the jar the inventory names now
    private String routes = "[{path: /, upstream: app, cache: true}]";
    private long startedAt;
    private final Thread processStopper = new Thread(this::stopProcesses, "ansible-test-cleanup");

    // ---- the hosts -----------------------------------------------------------------------------

    private String ns(String host) {
        return "fa-" + id + "-" + host;
    }

    private Path root(String host) {
        return dir.resolve("hosts").resolve(host);
    }

    /** A namespace on the bridge with its own files and its own sshd, as a machine would be. */
    private void addHost(String host, String address) throws Exception {
        hosts.put(host, address);
        net.addNamespace(ns(host));
        String link = "fa" + id + host;
        net.addRootLink(link, ns(host), "eth0");
        net.run("link", "set", link, "master", "fa-br" + id, "up");
        net.run("-n", ns(host), "addr", "add", address + "/24", "dev", "eth0");
        net.run("-n", ns(host), "link", "set", "eth0", "up");
        Path root = root(host);
        Files.createDirectories(root);
        exec(Duration.ofSeconds(60), "cp", "-a", "/etc", root.resolve("etc").toString());
        StringBuilder mounts = new StringBuilder("mount --bind " + root.resolve("etc") + " /etc\n");
        for (String m : MOUNTS) {
            Files.createDirectories(root.resolve(m));
            mounts.append("mount --bind ")
                    .append(root.resolve(m))
                    .append(" /")
                    .append(m)
                    .append('\n');
        }
        Files.createDirectories(root.resolve("run/sshd"));
        Path config = Files.writeString(
                root.resolve("sshd_config"),
                String.join(
                        "\n",
                        "ListenAddress " + address,
                        "HostKey " + dir.resolve("host_key"),
                        "AuthorizedKeysFile " + dir.resolve("id_ed25519.pub"),
                        "PermitRootLogin prohibit-password",
                        "PasswordAuthentication no",
                        "KbdInteractiveAuthentication no",
                        "UsePAM no",
                        "StrictModes no",
                        "PidFile /run/sshd.pid",
                        "MaxStartups 100",
                        "MaxSessions 100",
                        "Subsystem sftp internal-sftp",
                        ""));
        Path log = root.resolve("sshd.log");
        Process sshd = new ProcessBuilder(net.inNamespace(
                        ns(host),
                        List.of(
                                "unshare",
                                "--mount",
                                "--propagation",
                                "private",
                                "/bin/sh",
                                "-ec",
                                mounts + "exec /usr/sbin/sshd -D -e -f " + config)))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        sshds.put(host, sshd);
        await(host + "'s sshd", 20, () -> {
            if (!sshd.isAlive()) {
                fail(host + "'s sshd exited " + sshd.exitValue() + ": " + read(log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(address, 22), 500);
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** A daemon the playbooks started on {@code host}, by the pid file start-stop-daemon keeps there. */
    private long pid(String host, String daemon) {
        try {
            return Long.parseLong(Files.readString(root(host).resolve("run/" + daemon + ".pid"))
                    .trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private boolean holdsVip(String host) throws Exception {
        return net.run("-n", ns(host), "-4", "addr", "show", "dev", "eth0").contains(" " + vip + "/");
    }

    // ---- the controller: ansible-playbook --------------------------------------------------------

    private String inventory(List<String> nodes, Path jar) throws Exception {
        deployed = jar;
        StringBuilder b = new StringBuilder("all:\n  children:\n");
        Map<String, List<String>> groups = new LinkedHashMap<>();
        groups.put("flotilla_nodes", nodes);
        groups.put("flotilla_fronts", List.of("f1", "f2"));
        groups.put("flotilla_monitoring", List.of("m1"));
        for (Map.Entry<String, List<String>> g : groups.entrySet()) {
            b.append("    ").append(g.getKey()).append(":\n      hosts:\n");
            for (String h : g.getValue()) {
                b.append("        ")
                        .append(h)
                        .append(": {ansible_host: ")
                        .append(hosts.get(h))
                        .append("}\n");
            }
        }
        b.append("  vars:\n")
                .append("    ansible_user: root\n")
                .append("    ansible_ssh_private_key_file: ")
                .append(dir.resolve("id_ed25519"))
                .append('\n')
                .append("    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n")
                .append("    ansible_python_interpreter: /usr/bin/python3\n")
                .append("    service_manager: process\n")
                .append("    flotilla_admin_token: \"{{ vault_flotilla_admin_token }}\"\n")
                .append("    flotilla_fleet_keys: [\"{{ vault_flotilla_fleet_key }}\"]\n")
                .append("    l4_front_vip: ")
                .append(vip)
                .append('\n')
                .append("    l4_front_vrrp_interface: eth0\n")
                .append("    l4_front_port: 80\n")
                .append("    flotilla_jar_src: ")
                .append(jar)
                .append('\n')
                .append("    flotilla_jar_sha256: ")
                .append(sha256(jar))
                .append('\n')
                .append("    flotilla_java: ")
                .append(java())
                .append('\n')
                .append("    flotilla_heap_min_mb: 128\n")
                .append("    flotilla_heap_max_mb: 160\n")
                .append("    flotilla_jvm_extra: [-XX:TieredStopAtLevel=1]\n")
                .append("    flotilla_drain_grace: 3s\n")
                .append("    flotilla_drain_timeout: 10s\n")
                .append("    flotilla_upstreams: {app: {servers: ['")
                .append(subnet)
                .append("1:")
                .append(origin.port())
                .append("']}}\n")
                .append("    flotilla_routes: ")
                .append(routes)
                .append('\n')
                .append("    monitoring_scrape_interval: 1s\n")
                .append("    monitoring_grafana_dashboards_dir: /opt/grafana/dashboards/flotilla\n");
        Path file = Files.writeString(dir.resolve("inventory/hosts.yml"), b.toString());
        return file.toString();
    }

    /** Runs a playbook to its end; fails the test with its output unless it succeeds. */
    private String playbook(String playbook, String... extra) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                "ansible-playbook",
                "-i",
                dir.resolve("inventory").toString(),
                "--vault-password-file",
                dir.resolve("vault-pass").toString(),
                ANSIBLE.resolve(playbook).toString()));
        command.addAll(List.of(extra));
        ProcessBuilder pb =
                new ProcessBuilder(command).redirectErrorStream(true).directory(ANSIBLE.toFile());
        Map<String, String> env = pb.environment();
        env.put("FLOTILLA_JAR", launcher.toString()); // bin/flotilla on the controller (config-push.yml)
        env.put("ANSIBLE_CONFIG", ANSIBLE.resolve("ansible.cfg").toString());
        env.put("ANSIBLE_HOST_KEY_CHECKING", "False");
        env.put("ANSIBLE_SSH_CONTROL_PATH_DIR", dir.resolve("cp").toString());
        env.put("ANSIBLE_LOCAL_TEMP", dir.resolve("ansible-tmp").toString());
        env.put("ANSIBLE_NOCOLOR", "1");
        env.put("ANSIBLE_RETRY_FILES_ENABLED", "False");
        env.put("ANSIBLE_CALLBACKS_ENABLED", "ansible.posix.profile_tasks"); // the slowest tasks, in the log
        long t0 = System.nanoTime();
        Path log = dir.resolve(playbook + "-" + System.nanoTime() + ".log");
        Process p = pb.redirectOutput(log.toFile()).start();
        if (!p.waitFor(6, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail(playbook + " did not finish in 6 minutes:\n" + read(log));
        }
        String output = read(log);
        System.out.printf(
                "ansible test: %s took %.1f s (%s)%n",
                playbook,
                (System.nanoTime() - t0) / 1e9,
                recap(output).values().stream().map(String::valueOf).collect(Collectors.joining(", ")));
        if (p.exitValue() != 0) {
            fail(playbook + " exited " + p.exitValue() + ":\n" + output);
        }
        return output;
    }

    /** PLAY RECAP: host -> its "changed" count. */
    private static Map<String, Integer> recap(String output) {
        Map<String, Integer> changed = new LinkedHashMap<>();
        Matcher m =
                Pattern.compile("(?m)^(\\S+)\\s+: ok=\\d+\\s+changed=(\\d+)").matcher(output);
        while (m.find()) {
            changed.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return changed;
    }

    /** The tasks that reported "changed" on {@code host}, in order. */
    private static List<String> changedTasks(String output, String host) {
        List<String> tasks = new ArrayList<>();
        String task = "";
        for (String line : output.split("\n")) {
            if (line.startsWith("TASK [") || line.startsWith("RUNNING HANDLER [")) {
                task = line.substring(line.indexOf('[') + 1, line.lastIndexOf(']'));
            } else if (line.startsWith("changed: [" + host + "]") || line.startsWith("changed: [" + host + " ")) {
                tasks.add(task);
            }
        }
        return tasks;
    }

    // ---- the client and the origin -------------------------------------------------------------

    /** One request through the floating address, on a fresh connection from the client's own address. */
    private RawClient.Response viaFront(String target) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(subnet + "2", 0));
        s.connect(new InetSocketAddress(vip, 80), 3_000);
        try (RawClient c = new RawClient(s)) {
            return c.timeout(10_000).get(target, "shop.test");
        }
    }

    private int count(String path) {
        return counts.computeIfAbsent(path, k -> new AtomicInteger()).get();
    }

    /** Steady traffic through the floating address (2 clients), counting every request that fails. */
    private final class Load implements AutoCloseable {
        final AtomicInteger sent = new AtomicInteger();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        final List<Thread> threads = new ArrayList<>();
        volatile boolean stop;
        final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);

        Load start() {
            for (int t = 0; t < 2; t++) {
                Thread thread = new Thread(
                        () -> {
                            while (!stop && System.nanoTime() < deadline) {
                                String target = "/load/" + sent.incrementAndGet();
                                try {
                                    RawClient.Response r = viaFront(target);
                                    if (r.status() != 200 || !r.bodyText().startsWith("origin:" + target)) {
                                        failures.add(target + ": " + r.status() + " " + r.bodyText());
                                    }
                                } catch (IOException e) {
                                    failures.add(target + ": " + e);
                                }
                                try {
                                    Thread.sleep(20);
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        },
                        "load-" + t);
                threads.add(thread);
                thread.start();
            }
            return this;
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            for (Thread t : threads) {
                t.join(15_000);
            }
        }
    }

    // ---- set up and tear down ------------------------------------------------------------------

    @BeforeAll
    void buildHostsAndController() throws Exception {
        startedAt = System.nanoTime();
        try {
            net = NetworkNamespaces.requireUsable();
        } catch (org.opentest4j.TestAbortedException e) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI must run the Ansible test (root, ip, network namespaces): " + e.getMessage());
            }
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(processStopper); // also for a JVM stopped mid-test
        for (String[] tool : List.of(
                new String[] {"/usr/bin/ansible-playbook", "ansible"},
                new String[] {"/usr/sbin/sshd", "openssh-server"},
                new String[] {"/usr/sbin/haproxy", "haproxy"},
                new String[] {"/usr/sbin/keepalived", "keepalived"},
                new String[] {"/usr/bin/prometheus", "prometheus"},
                new String[] {"/usr/bin/unshare", "util-linux"},
                new String[] {"/usr/bin/systemd-analyze", "systemd"})) {
            ExternalTool.require(tool[0], tool[1]);
        }
        subnet = net.freeSubnet("10.233.");
        vip = subnet + "20";
        String bridge = "fa-br" + id;
        net.addRootBridge(bridge);
        net.run("addr", "add", subnet + "1/24", "dev", bridge);
        net.run("addr", "add", subnet + "2/24", "dev", bridge);
        net.run("link", "set", bridge, "up");

        exec(
                Duration.ofSeconds(30),
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                dir.resolve("id_ed25519").toString());
        exec(
                Duration.ofSeconds(30),
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                dir.resolve("host_key").toString());
        Files.createDirectories(dir.resolve("cp"));
        Files.createDirectories(dir.resolve("ansible-tmp"));

        origin = TestOrigin.start(
                (request, out) -> {
                    String path = request.target();
                    int n = counts.computeIfAbsent(path, k -> new AtomicInteger())
                            .incrementAndGet();
                    byte[] body = ("origin:" + path + "#" + n).getBytes(StandardCharsets.US_ASCII);
                    String cache = path.startsWith("/cached/") ? "max-age=600" : "no-store";
                    TestOrigin.writeResponse(
                            out,
                            200,
                            Map.of("Cache-Control", cache),
                            body,
                            !request.method().equals("HEAD"));
                    return true;
                },
                InetAddress.getByName(subnet + "1"),
                0);

        launcher = launcherJar("flotilla.jar", "1");
        // The admin token lives in a Vault-encrypted file, as the example inventory means it to.
        Files.createDirectories(dir.resolve("inventory/group_vars/all"));
        Files.writeString(dir.resolve("vault-pass"), "vault-" + id + "\n");
        Path vault = Files.writeString(
                dir.resolve("inventory/group_vars/all/vault.yml"),
                "vault_flotilla_admin_token: " + TOKEN + "\n" + "vault_flotilla_fleet_key: "
                        + io.flotilla.cluster.security.FleetKeys.generate() + "\n");
        exec(
                Duration.ofSeconds(60),
                "ansible-vault",
                "encrypt",
                "--vault-password-file",
                dir.resolve("vault-pass").toString(),
                vault.toString());

        Map<String, String> all = new LinkedHashMap<>();
        for (int i = 1; i <= 4; i++) {
            all.put("n" + i, subnet + (10 + i));
        }
        all.put("f1", subnet + "21");
        all.put("f2", subnet + "22");
        all.put("m1", subnet + "31");
        for (Map.Entry<String, String> h : all.entrySet()) {
            addHost(h.getKey(), h.getValue());
        }
        inventory(List.of("n1", "n2", "n3"), launcher);
        System.out.printf("ansible test: 7 hosts with sshd on %s0/24 after %.1f s%n", subnet, elapsed());
    }

    @AfterAll
    void tearDown() throws Exception {
        try {
            stopProcesses();
            if (origin != null) {
                origin.close();
            }
        } finally {
            if (net != null) {
                net.close();
            }
            Runtime.getRuntime().removeShutdownHook(processStopper);
        }
        System.out.printf("ansible test: done after %.1f s%n", elapsed());
    }

    /** What the playbooks started (by the pid files on each host), the SSH sessions, and the sshds. */
    private void stopProcesses() {
        for (String host : hosts.keySet()) {
            for (String daemon : List.of("flotilla", "haproxy", "keepalived", "prometheus")) {
                long pid = pid(host, daemon);
                if (pid > 0) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
        for (Process sshd : sshds.values()) {
            sshd.descendants().forEach(ProcessHandle::destroyForcibly); // SSH sessions (ControlPersist)
            sshd.destroyForcibly();
        }
    }

    // ---- what it shows ----------------------------------------------------------------------------

    @Test
    @Order(1)
    void siteBringsUpTheFleetFromNothingAndServesThroughTheFloatingAddress() throws Exception {
        playbook("site.yml");
        await("the floating address on a front", 20, () -> {
            try {
                return holdsVip("f1") || holdsVip("f2");
            } catch (Exception e) {
                return false;
            }
        });
        assertTrue(holdsVip("f1"), "f1, the first front, is the master");
        await("a request through the floating address", 20, () -> {
            try {
                return viaFront("/whoami").status() == 200;
            } catch (IOException e) {
                return false;
            }
        });
        RawClient.Response r = viaFront("/whoami/1");
        assertEquals(200, r.status(), r.bodyText());
        TestOrigin.Received seen = origin.received().stream()
                .filter(x -> x.target().equals("/whoami/1"))
                .findFirst()
                .orElseThrow();
        assertEquals(subnet + "2", seen.header("X-Real-IP"), "the client's own address reaches the origin");
        assertEquals(subnet + "2", seen.header("X-Forwarded-For"));
        assertTrue(seen.header("Via").matches("1\\.1 n[123]"), seen.header("Via"));

        for (String n : List.of("n1", "n2", "n3")) {
            await(n + " to see three members", 60, () -> fleetMembers(n) == 3);
        }
        // Prometheus, from its generated scrape config, scrapes every node with the Vault token.
        await("Prometheus to scrape the three nodes", 60, () -> {
            String targets = http(subnet + "31", 9090, "/api/v1/targets");
            return targets.split("\"health\":\"up\"", -1).length - 1 == 3;
        });
        // Grafana is not a Debian package: its provisioning and the dashboards are what can be checked.
        Path grafana = root("m1").resolve("etc/grafana/provisioning");
        assertTrue(Files.readString(grafana.resolve("datasources/flotilla.yaml"))
                .contains("url: http://" + subnet + "31:9090"));
        assertTrue(Files.readString(grafana.resolve("dashboards/flotilla.yaml"))
                .contains("path: /opt/grafana/dashboards/flotilla"));
        for (String d : List.of("fleet-overview.json", "node.json")) {
            assertEquals(
                    Files.readString(REPO.resolve("grafana/dashboards/" + d)),
                    Files.readString(root("m1").resolve("opt/grafana/dashboards/flotilla/" + d)));
        }
        // The unit the role renders for systemd hosts, checked by systemd itself.
        Path unit = root("n1").resolve("etc/systemd/system/flotilla.service");
        String unitText = Files.readString(unit);
        assertTrue(
                unitText.contains("NoNewPrivileges=yes")
                        && unitText.contains("ProtectSystem=strict")
                        && unitText.contains("PrivateTmp=yes")
                        && unitText.contains("LimitNOFILE="),
                unitText);
        assertTrue(unitText.contains("-Xmx160m"), "heap from the host's memory, within the inventory's bounds");
        String verified = exec(Duration.ofSeconds(60), "systemd-analyze", "verify", unit.toString());
        assertTrue(!verified.contains("flotilla.service:"), "systemd-analyze verify: " + verified);
        String config = Files.readString(root("n2").resolve("etc/flotilla/flotilla.yaml"));
        assertTrue(config.contains("peers: [\"" + subnet + "11:7800\", \"" + subnet + "13:7800\"]"), config);
        assertTrue(
                Files.readString(root("n1").resolve("etc/passwd")).contains("flotilla:"), "the system user, n1's own");
        assertTrue(
                !Files.readString(Path.of("/etc/passwd")).contains("\nflotilla:"),
                "nothing written to this machine's /etc");
        System.out.printf("ansible test: fleet serving through %s after %.1f s%n", vip, elapsed());
    }

    @Test
    @Order(2)
    void aSecondRunChangesNothing() throws Exception {
        Map<String, Integer> changed = recap(playbook("site.yml"));
        assertEquals(6, changed.size(), changed.toString());
        changed.forEach((host, n) -> assertEquals(0, n, host + " changed on the second run"));
    }

    @Test
    @Order(3)
    void scaleOutUnderTrafficFailsNothingAndTheNewNodeHitsWhatWasStoredBefore() throws Exception {
        for (int i = 0; i < 8; i++) {
            assertEquals(200, viaFront("/cached/" + i).status());
        }
        Map<String, Long> pids = new LinkedHashMap<>();
        for (String n : List.of("n1", "n2", "n3")) {
            pids.put(n, pid(n, "flotilla"));
        }
        inventory(List.of("n1", "n2", "n3", "n4"), launcher);
        Load load = new Load().start();
        try (load) {
            String output = playbook("scale-out.yml");
            for (String n : List.of("n1", "n2", "n3")) {
                // The firewall list names the new peer; the node's config, jar and unit stay as they were.
                assertEquals(
                        List.of("flotilla_node : Render the firewall ports for nftables"),
                        changedTasks(output, n),
                        n + ": what changed while the fleet grew");
            }
            Thread.sleep(1_000);
        }
        System.out.printf(
                "ansible test: scale-out under traffic: %d requests, %d failed%n",
                load.sent.get(), load.failures.size());
        assertEquals(List.of(), List.copyOf(load.failures), "requests failed during the scale-out");
        pids.forEach((n, pid) -> assertEquals(pid, pid(n, "flotilla"), n + " was restarted"));
        await("n4 to see four members", 30, () -> fleetMembers("n4") == 4);
        // The front sends to n4: the origin sees n4's hop on requests it cannot cache.
        AtomicInteger probe = new AtomicInteger();
        await("the front to send a request to n4", 20, () -> {
            String target = "/probe/" + probe.incrementAndGet();
            try {
                viaFront(target);
            } catch (IOException e) {
                return false;
            }
            return origin.received().stream()
                    .anyMatch(x -> x.target().equals(target) && "1.1 n4".equals(x.header("Via")));
        });
        // n4 itself, asked as a front asks (from f1, with a PROXY header): the fleet's copies, as hits.
        for (int i = 0; i < 8; i++) {
            String path = "/cached/" + i;
            String response = exec(
                    Duration.ofSeconds(30),
                    net.inNamespace(
                                    ns("f1"),
                                    List.of(
                                            "python3",
                                            "-c",
                                            "import socket,sys\n"
                                                    + "s=socket.create_connection((sys.argv[1],8080),5)\n"
                                                    + "s.sendall(('PROXY TCP4 %s %s 40000 8080\\r\\nGET %s HTTP/1.1\\r\\nHost: shop.test\\r\\n"
                                                    + "Connection: close\\r\\n\\r\\n'%(sys.argv[2],sys.argv[1],sys.argv[3])).encode())\n"
                                                    + "sys.stdout.write(s.makefile('rb').read().decode('latin-1'))\n",
                                            hosts.get("n4"),
                                            subnet + "2",
                                            path))
                            .toArray(String[]::new));
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            assertTrue(response.toLowerCase().contains("\r\ncache-status: flotilla; hit"), response);
            assertTrue(response.endsWith("origin:" + path + "#1"), response);
            assertEquals(1, count(path), path + " fetched from the origin once");
        }
        await(
                "Prometheus to scrape four nodes",
                30,
                () -> http(subnet + "31", 9090, "/api/v1/targets").split("\"health\":\"up\"", -1).length - 1 == 4);
    }

    @Test
    @Order(4)
    void aRollingUpgradeUnderTrafficFailsNothing() throws Exception {
        Path upgraded = launcherJar("flotilla-next.jar", "2");
        inventory(List.of("n1", "n2", "n3", "n4"), upgraded);
        Map<String, Long> before = new LinkedHashMap<>();
        for (String n : List.of("n1", "n2", "n3", "n4")) {
            before.put(n, pid(n, "flotilla"));
        }
        Load load = new Load().start();
        try (load) {
            playbook("rolling-upgrade.yml");
            Thread.sleep(1_000);
        }
        System.out.printf(
                "ansible test: rolling upgrade under traffic: %d requests, %d failed%n",
                load.sent.get(), load.failures.size());
        assertEquals(List.of(), List.copyOf(load.failures), "requests failed during the rolling upgrade");
        String sha = sha256(upgraded);
        for (String n : before.keySet()) {
            assertNotEquals(before.get(n), pid(n, "flotilla"), n + " runs a new process");
            assertEquals(sha, sha256(root(n).resolve("opt/flotilla/flotilla.jar")), n + " has the new jar");
            await(n + " to see four members", 30, () -> fleetMembers(n) == 4);
        }
    }

    @Test
    @Order(5)
    void stoppingTheMasterFrontsHaproxyMovesTheFloatingAddressAndTrafficContinues() throws Exception {
        assertTrue(holdsVip("f1"), "f1 is the master");
        Load load = new Load().start();
        long movedAfterMs;
        int sentAtMove;
        int failedAtMove;
        try (load) {
            Thread.sleep(1_000);
            long stoppedAt = System.nanoTime();
            ProcessHandle.of(pid("f1", "haproxy")).orElseThrow().destroy(); // SIGTERM to the master process
            await("f2 to take the floating address", 15, () -> {
                try {
                    return holdsVip("f2") && !holdsVip("f1");
                } catch (Exception e) {
                    return false;
                }
            });
            movedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);
            Thread.sleep(500); // the neighbour caches take the gratuitous ARP
            sentAtMove = load.sent.get();
            failedAtMove = load.failures.size();
            Thread.sleep(4_000);
        }
        int after = load.sent.get() - sentAtMove;
        int failedAfter = load.failures.size() - failedAtMove;
        System.out.printf(
                "ansible test: floating address moved to f2 %d ms after f1's HAProxy stopped; %d requests"
                        + " failed in between (cut or refused by the stopping HAProxy), %d of %d failed after%n",
                movedAfterMs, failedAtMove, failedAfter, after);
        assertTrue(movedAfterMs < 10_000, "the move took " + movedAfterMs + " ms");
        assertTrue(after > 50, "traffic continued: " + after + " requests");
        assertEquals(0, failedAfter, "failed after the move: " + load.failures);
    }

    @Test
    @Order(6)
    void configPushReachesEveryNode() throws Exception {
        String rendered = Files.readString(root("n1").resolve("etc/flotilla/flotilla.yaml"));
        assertTrue(rendered.contains("routes: ["), rendered);
        // The file is validated on the controller, where the node's log directory and fleet key file do
        // not exist: each node keeps its own node and cluster sections anyway, so the pushed text leaves
        // the access log and the cluster section (the template's last) out.
        String shared = rendered.substring(0, rendered.indexOf("\ncluster:\n") + 1);
        Path pushed = Files.writeString(
                dir.resolve("pushed.yaml"),
                shared.replace(
                                "routes: [",
                                "routes: [{\"path\": \"/pushed/\", \"upstream\": \"app\", \"rewrite\": \"/from-push/\"}, ")
                        .replaceAll("(?m)^  access_log: .*\n", ""));
        String output = playbook("config-push.yml", "-e", "flotilla_push_file=" + pushed);
        assertTrue(output.contains("published version"), output);
        System.out.println("ansible test: config-push.yml: "
                + output.lines()
                        .filter(l -> l.contains("published version"))
                        .findFirst()
                        .orElse("")
                        .trim());
        for (String n : List.of("n1", "n2", "n3", "n4")) {
            awaitNode(n, "to route by the pushed config", 20, () -> {
                String fleet = http(hosts.get(n), 9901, "/config");
                return fleet.contains("/from-push/");
            });
        }
        RawClient.Response r = viaFront("/pushed/x");
        assertEquals(200, r.status(), r.bodyText());
        assertTrue(r.bodyText().startsWith("origin:/from-push/x#"), r.bodyText());
    }

    @Test
    @Order(7)
    void aConfigChangeAloneReloadsTheNodesWithoutRestartingThem() throws Exception {
        List<String> nodes = List.of("n1", "n2", "n3", "n4");
        Map<String, Long> pids = new LinkedHashMap<>();
        for (String n : nodes) {
            pids.put(n, pid(n, "flotilla"));
        }
        routes = "[{path: /reloaded/, upstream: app, rewrite: /from-reload/}, {path: /, upstream: app, cache: true}]";
        inventory(nodes, deployed);
        String output = playbook("site.yml");
        for (String n : nodes) {
            assertEquals(
                    List.of("flotilla_node : Render the node's config", "daemon : Signal to reload: flotilla"),
                    changedTasks(output, n),
                    n + ": what changed");
            assertEquals(pids.get(n), pid(n, "flotilla"), n + " was restarted");
            // A SIGHUP makes the file the fleet's next version (docs/manual.md, "Changing the config").
            awaitNode(n, "to apply its file again", 30, () -> http(hosts.get(n), 9901, "/config")
                    .contains("/from-reload/"));
        }
        // f1's HAProxy (stopped above) is back, and keepalived gives f1 the address again meanwhile.
        await("a request through the floating address to the new route", 20, () -> {
            try {
                return viaFront("/reloaded/x").bodyText().startsWith("origin:/from-reload/x#");
            } catch (IOException e) {
                return false;
            }
        });
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /** As {@code await}, with the end of the node's own log in the failure (what it did meanwhile). */
    private void awaitNode(String node, String what, int seconds, java.util.function.BooleanSupplier done)
            throws InterruptedException {
        try {
            await(node + " " + what, seconds, done);
        } catch (AssertionError e) {
            List<String> log =
                    read(root(node).resolve("var/log/flotilla.out")).lines().toList();
            throw new AssertionError(
                    e.getMessage() + "; " + node + "'s log ends:\n"
                            + String.join("\n", log.subList(Math.max(0, log.size() - 30), log.size())),
                    e);
        }
    }

    private int fleetMembers(String node) {
        String json = http(hosts.get(node), 9901, "/fleet");
        return json.split("\"name\":", -1).length - 1;
    }

    /** GET on an admin-style HTTP endpoint (with the token), or "" when it does not answer. */
    private static String http(String address, int port, String target) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), 2_000);
            try (RawClient c = new RawClient(s)) {
                c.send("GET " + target + " HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + TOKEN
                        + "\r\nConnection: close\r\n\r\n");
                return c.timeout(5_000).read().bodyText();
            }
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The artifact the roles deploy. Under {@code mvn test} the packaged jar is not built yet, so this
     * is a jar whose manifest runs the node's Main on a copy of the test's class path (copied where the
     * nodes' system user can read it, unlike ~/.m2); {@code version} makes the upgrade's jar a
     * different file with a different checksum.
     */
    private static Path launcherJar(String name, String version) throws Exception {
        Path lib = dir.resolve("lib");
        List<String> classPath = new ArrayList<>();
        String[] entries = System.getProperty("java.class.path").split(java.io.File.pathSeparator);
        for (int i = 0; i < entries.length; i++) {
            Path from = Path.of(entries[i]);
            Path to = lib.resolve(i + "-" + from.getFileName());
            if (!Files.exists(to)) {
                Files.createDirectories(lib);
                exec(Duration.ofSeconds(60), "cp", "-r", from.toString(), to.toString());
            }
            classPath.add(to.toUri().toString());
        }
        exec(Duration.ofSeconds(30), "chmod", "-R", "a+rX", lib.toString());
        exec(Duration.ofSeconds(30), "chmod", "a+x", dir.toString());
        Manifest manifest = new Manifest();
        Attributes a = manifest.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(Attributes.Name.MAIN_CLASS, "io.flotilla.node.cli.Main");
        a.put(Attributes.Name.IMPLEMENTATION_VERSION, "test-" + version);
        a.put(Attributes.Name.CLASS_PATH, String.join(" ", classPath));
        Path jar = dir.resolve(name);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.flush();
        }
        return jar;
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static String java() {
        return ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** Runs a command to its end; fails the test with its output unless it exits 0. */
    private static String exec(Duration timeout, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish within " + timeout);
        }
        if (p.exitValue() != 0) {
            fail(String.join(" ", command) + " exited " + p.exitValue() + ": " + output);
        }
        return output;
    }

    private double elapsed() {
        return (System.nanoTime() - startedAt) / 1e9;
    }
}
