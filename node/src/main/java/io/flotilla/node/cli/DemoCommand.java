package io.flotilla.node.cli;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.demo.DemoOrigin;
import io.flotilla.node.server.FlotillaNode;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code flotilla demo}: two demo origins on loopback and a small fleet of nodes in front of them
 * (three by default, sharing cache, health, rate limits and config), for a first look.
 */
@Parameters(commandDescription = "Start demo origins and a fleet of nodes in front of them on 127.0.0.1")
final class DemoCommand {
    @Parameter(names = "--port", description = "Port of the first node's listener (the others use the next ones)")
    private int port = 8080;

    @Parameter(names = "--nodes", description = "How many nodes: 1 runs a lone node, more form a fleet")
    private int nodes = 3;

    @Parameter(names = "--origin-port", description = "Port of the first demo origin (the second uses the next one)")
    private int originPort = 9001;

    @Parameter(names = "--admin-port", description = "Admin API port of the first node (the others use the next ones)")
    private int adminPort = 9901;

    /** A fleet secret made for this run: the demo fleet takes the secure path, gate and seals included. */
    private final String fleetKey = FleetKeys.generate();

    int run(PrintStream out, PrintStream err) {
        Logging.configure();
        if (nodes < 1 || nodes > 9) {
            err.println("flotilla: --nodes must be 1 to 9");
            return Main.USAGE;
        }
        EventLoopGroup originLoops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        List<FlotillaNode> started = new ArrayList<>();
        try {
            DemoOrigin a = DemoOrigin.start(
                    originLoops,
                    NioServerSocketChannel.class,
                    new InetSocketAddress("127.0.0.1", originPort),
                    "origin-a");
            DemoOrigin b = DemoOrigin.start(
                    originLoops,
                    NioServerSocketChannel.class,
                    new InetSocketAddress("127.0.0.1", originPort + 1),
                    "origin-b");
            // Real files, as a node in production has: `config show`, `history`, `push` and `rollback`
            // work on them, SIGHUP-style reloads have a file, and the second one is what a push changes.
            Path dir = Files.createTempDirectory("flotilla-demo-");
            for (int i = 0; i < nodes; i++) {
                Path file = Files.writeString(dir.resolve("node-" + (i + 1) + ".yaml"), yaml(i, a, b, ""));
                started.add(FlotillaNode.start(ConfigLoader.loadWithText(file)));
            }
            Files.writeString(
                    dir.resolve(CHANGED),
                    yaml(0, a, b, "  - {path: /v2/, upstream: demo, rewrite: /echo}   # added by the push\n"));
            NodeCommand.markRunning();
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                try {
                                    for (FlotillaNode node : started) {
                                        node.close();
                                    }
                                    a.close();
                                    b.close();
                                    originLoops.shutdownGracefully().await();
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            },
                            "flotilla-demo-shutdown"));
            printWhatToTry(out, started, a, b, dir);
            return Main.OK;
        } catch (ConfigException e) {
            err.println(e.getMessage());
            stop(started, originLoops);
            return Main.BAD_CONFIG;
        } catch (Exception e) {
            err.println("flotilla: cannot start the demo: " + NodeCommand.describe(e));
            stop(started, originLoops);
            return Main.FAILED;
        }
    }

    /** A copy of node 1's file with one more route: the demo's hints push it, then roll it back. */
    static final String CHANGED = "node-1-with-v2-route.yaml";

    private String yaml(int i, DemoOrigin a, DemoOrigin b, String extraRoute) {
        String fleet = nodes == 1
                ? ""
                : String.join(
                        "\n",
                        "cluster:",
                        "  name: demo",
                        "  bind: 127.0.0.1:" + (5701 + i),
                        "  gossip_port: " + (7800 + i),
                        "  expected_size: " + nodes,
                        "  keys: ['" + fleetKey + "']",
                        i == 0 ? "" : "  peers: [127.0.0.1:7800]",
                        "");
        return String.join(
                        "\n",
                        "node: {name: demo-" + (i + 1) + ", admin: 127.0.0.1:" + (adminPort + i) + ", drain_grace: 0s}",
                        "listeners:",
                        "  - bind: 127.0.0.1:" + (port + i),
                        "upstreams:",
                        "  demo:",
                        "    servers: [127.0.0.1:" + a.address().getPort() + ", 127.0.0.1:"
                                + b.address().getPort() + "]",
                        "    health: {path: /health, interval: 1s, timeout: 500ms, fall: 1, rise: 1}",
                        "routes:",
                        "  - {path: /, upstream: demo, cache: true}",
                        "  - {path: /limited/, upstream: demo, rate_limit: {requests: 5, per: 10s, key: route}}",
                        "")
                + extraRoute
                + fleet;
    }

    private void printWhatToTry(PrintStream out, List<FlotillaNode> started, DemoOrigin a, DemoOrigin b, Path dir) {
        String first = "http://127.0.0.1:" + started.get(0).port(0);
        String last = "http://127.0.0.1:" + started.get(started.size() - 1).port(0);
        String admin = "http://127.0.0.1:" + adminPort;
        out.println();
        out.println("Flotilla demo: "
                + (nodes == 1 ? "a node on " + first : nodes + " nodes on " + first + " .. " + last + ", one fleet,")
                + " in front of " + a.name()
                + " (:" + a.address().getPort() + ") and " + b.name() + " (:"
                + b.address().getPort() + ").");
        out.println("Try:");
        out.println("  curl -i " + first
                + "/echo             # what the origin received: X-Forwarded-For, Via, X-Request-Id");
        // The Host is part of the cache key: the same one through every node.
        out.println("  curl -i -H 'Host: demo' " + first
                + "/cached   # a miss, stored (Cache-Status: flotilla; fwd=uri-miss; stored)");
        out.println("  curl -i -H 'Host: demo' " + last + "/cached   # "
                + (nodes == 1 ? "a hit" : "a hit on another node: same body, an Age, no origin request"));
        out.println("  curl -X POST '" + admin + "/cache/purge?tag=demo'   # purged "
                + (nodes == 1 ? "" : "on every node"));
        out.println("  for i in 1 2 3 4 5 6 7 8; do curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:$((" + port
                + " + i % " + nodes + "))/limited/x; sleep 0.1; done   # 5 per 10 s"
                + (nodes == 1 ? "" : " for the whole fleet")
                + ", then 429");
        out.println("  curl -X POST http://127.0.0.1:" + b.address().getPort() + "/_down   # 'kill' " + b.name()
                + ": within a second every node avoids it");
        out.println("  curl -s " + admin + "/upstreams; curl -X POST http://127.0.0.1:"
                + b.address().getPort() + "/_up");
        out.println("  curl -s " + admin + "/fleet            # members, their state and the config version each runs");
        String to = " --to 127.0.0.1:" + adminPort;
        out.println("  bin/flotilla config show" + to + "     # node 1's config, from " + dir.resolve("node-1.yaml"));
        out.println("  bin/flotilla config push " + dir.resolve(CHANGED) + to + "   # version 2 adds /v2/"
                + (nodes == 1 ? "" : " on every node"));
        out.println("  curl -s " + last + "/v2/   # the new route: the origin's /echo answers");
        out.println("  bin/flotilla config history" + to + "; bin/flotilla config rollback" + to
                + "   # version 3 is version 1 again: /v2/ is the origin's page");
        if (nodes > 1) {
            out.println(
                    "The fleet's gossip, member connections and shared values are sealed with a key made for this run;"
                            + " a member without it is refused and shows in /fleet (\"outsiders\").");
        }
        out.println("Stop with Ctrl-C.");
    }

    private static void stop(List<FlotillaNode> started, EventLoopGroup originLoops) {
        for (FlotillaNode node : started) {
            try {
                node.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        originLoops.shutdownGracefully();
    }
}
