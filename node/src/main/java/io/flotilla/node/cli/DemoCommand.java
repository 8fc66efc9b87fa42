package io.flotilla.node.cli;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.demo.DemoOrigin;
import io.flotilla.node.server.FlotillaNode;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

import java.io.PrintStream;
import java.net.InetSocketAddress;

/** {@code flotilla demo}: two demo origins on loopback and a node in front of them, for a first look. */
@Parameters(commandDescription = "Start demo origins and a node in front of them on 127.0.0.1")
final class DemoCommand {
    @Parameter(names = "--port", description = "Port of the node's listener")
    private int port = 8080;

    @Parameter(names = "--origin-port", description = "Port of the first demo origin (the second uses the next one)")
    private int originPort = 9001;

    int run(PrintStream out, PrintStream err) {
        Logging.configure();
        EventLoopGroup originLoops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            DemoOrigin a = DemoOrigin.start(originLoops, NioServerSocketChannel.class,
                    new InetSocketAddress("127.0.0.1", originPort), "origin-a");
            DemoOrigin b = DemoOrigin.start(originLoops, NioServerSocketChannel.class,
                    new InetSocketAddress("127.0.0.1", originPort + 1), "origin-b");
            String yaml = String.join("\n",
                    "node: {name: demo-node}",
                    "listeners:",
                    "  - bind: 127.0.0.1:" + port,
                    "upstreams:",
                    "  demo:",
                    "    servers: [127.0.0.1:" + a.address().getPort() + ", 127.0.0.1:" + b.address().getPort() + "]",
                    "routes:",
                    "  - {path: /, upstream: demo}",
                    "");
            FlotillaConfig config = ConfigLoader.parse(yaml, "<demo>");
            FlotillaNode node = FlotillaNode.start(config);
            NodeCommand.markRunning();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    node.close();
                    a.close();
                    b.close();
                    originLoops.shutdownGracefully().await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "flotilla-demo-shutdown"));
            String base = "http://127.0.0.1:" + node.port(0);
            out.println();
            out.println("Flotilla demo: a node on " + base + " in front of " + a.name() + " (:" + a.address().getPort()
                    + ") and " + b.name() + " (:" + b.address().getPort() + "), round robin.");
            out.println("Try:");
            out.println("  curl -i " + base + "/                 # alternates between the two origins");
            out.println("  curl -i " + base + "/echo             # what the origin received: X-Forwarded-For, Via, X-Request-Id");
            out.println("  curl -s " + base + "/bytes?n=1048576 | wc -c   # a streamed 1 MiB body");
            out.println("  curl -i -H 'Content-Length: 1' -H 'Transfer-Encoding: chunked' " + base + "/   # refused: 400");
            out.println("Stop with Ctrl-C.");
            return Main.OK;
        } catch (ConfigException e) {
            err.println(e.getMessage());
            originLoops.shutdownGracefully();
            return Main.BAD_CONFIG;
        } catch (Exception e) {
            err.println("flotilla: cannot start the demo: " + NodeCommand.describe(e));
            originLoops.shutdownGracefully();
            return Main.FAILED;
        }
    }
}
