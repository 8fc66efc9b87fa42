package io.flotilla.node.fleet;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Network namespaces and veth links a test creates with {@code ip} (iproute2), and removes again:
 * everything it made is remembered by name, and {@link #close()} (also run by a shutdown hook, for a
 * JVM stopped mid-test) deletes exactly those and nothing else. Needs root; {@link #requireUsable()}
 * skips the test where namespaces cannot be made.
 */
final class NetworkNamespaces implements AutoCloseable {
    private static final List<String> IP_CANDIDATES = List.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip");

    private final String ip;
    private final List<String> namespaces = Collections.synchronizedList(new ArrayList<>());
    private final List<String> rootLinks = Collections.synchronizedList(new ArrayList<>());
    private final Thread hook = new Thread(this::removeAll, "netns-cleanup");

    private NetworkNamespaces(String ip) {
        this.ip = ip;
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Skips the calling test unless this is Linux, {@code ip} is installed, and a namespace can
     * really be added and deleted here (root, a kernel and container that allow it).
     */
    static NetworkNamespaces requireUsable() throws IOException, InterruptedException {
        Assumptions.assumeTrue(
                System.getProperty("os.name", "").toLowerCase().contains("linux"), "network namespaces are Linux only");
        String ip = IP_CANDIDATES.stream()
                .filter(p -> Files.isExecutable(Path.of(p)))
                .findFirst()
                .orElse(null);
        Assumptions.assumeTrue(ip != null, "no ip (iproute2) installed: skipping the network namespace test");
        String probe = "fl-probe-" + Long.toHexString(System.nanoTime() & 0xffffffL);
        Result added = exec(List.of(ip, "netns", "add", probe));
        if (added.code == 0) {
            exec(List.of(ip, "netns", "del", probe));
        }
        Assumptions.assumeTrue(
                added.code == 0,
                "cannot add a network namespace (not root, or not allowed here): " + added.output.trim());
        return new NetworkNamespaces(ip);
    }

    String ip() {
        return ip;
    }

    /** Adds a namespace (with its loopback up) and remembers it for {@link #close()}. */
    void addNamespace(String name) throws IOException, InterruptedException {
        namespaces.add(name);
        run("netns", "add", name);
        run("-n", name, "link", "set", "lo", "up");
    }

    /** A veth pair with one end, {@code rootEnd}, left in the root namespace (remembered), the other in {@code ns}. */
    void addRootLink(String rootEnd, String ns, String nsEnd) throws IOException, InterruptedException {
        rootLinks.add(rootEnd);
        run("link", "add", rootEnd, "type", "veth", "peer", "name", nsEnd, "netns", ns);
    }

    /** A bridge in the root namespace (remembered), for namespaces' veth ends to join. */
    void addRootBridge(String name) throws IOException, InterruptedException {
        rootLinks.add(name);
        run("link", "add", name, "type", "bridge");
    }

    /** A /24 of {@code prefix} ("10.231.": its /16) that no address or route on this host uses yet, as "10.231.S.". */
    String freeSubnet(String prefix) throws IOException, InterruptedException {
        String used = run("-4", "addr") + run("-4", "route");
        for (int tries = 0; tries < 64; tries++) {
            String candidate = prefix + ThreadLocalRandom.current().nextInt(1, 255) + ".";
            if (!used.contains(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("no free " + prefix + "x.0/24 on this host");
    }

    /** Runs {@code ip ARGS...} and fails the test with its output unless it succeeds. */
    String run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ip));
        command.addAll(List.of(args));
        Result r = exec(command);
        if (r.code != 0) {
            fail(String.join(" ", command) + " exited " + r.code + ": " + r.output);
        }
        return r.output;
    }

    /** The command line that runs {@code command} inside namespace {@code ns}. */
    List<String> inNamespace(String ns, List<String> command) {
        List<String> line = new ArrayList<>(List.of(ip, "netns", "exec", ns));
        line.addAll(command);
        return line;
    }

    @Override
    public void close() {
        removeAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook runs (and finds nothing left)
        }
    }

    /** Deletes the remembered links and namespaces (a namespace takes its own links with it). */
    private synchronized void removeAll() {
        List<String> links;
        List<String> spaces;
        synchronized (rootLinks) {
            links = new ArrayList<>(rootLinks);
            rootLinks.clear();
        }
        synchronized (namespaces) {
            spaces = new ArrayList<>(namespaces);
            namespaces.clear();
        }
        for (String link : links) {
            quietly(List.of(ip, "link", "del", link));
        }
        for (String ns : spaces) {
            quietly(List.of(ip, "netns", "del", ns));
        }
    }

    private static void quietly(List<String> command) {
        try {
            exec(command);
        } catch (IOException e) {
            // nothing more to do: it is gone or cannot be removed by us
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Result(int code, String output) {}

    private static Result exec(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, command + " timed out");
        }
        return new Result(p.exitValue(), output);
    }
}
