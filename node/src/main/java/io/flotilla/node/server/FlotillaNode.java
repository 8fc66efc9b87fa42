package io.flotilla.node.server;

import io.flotilla.cluster.FleetState;
import io.flotilla.cluster.config.ConfigVersion;
import io.flotilla.node.accesslog.AccessLog;
import io.flotilla.node.admin.AdminServer;
import io.flotilla.node.admin.NodeOperations;
import io.flotilla.node.cache.ResponseCache;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.config.ListenerConfig;
import io.flotilla.node.metrics.NodeMetrics;
import io.flotilla.node.proxy.ProxyRuntime;
import io.flotilla.node.proxy.ProxyServices;
import io.flotilla.node.tls.ServerTls;
import io.flotilla.node.upstream.ConnectionPool;
import io.flotilla.node.upstream.DnsRefresher;
import io.flotilla.node.upstream.Upstream;
import io.flotilla.node.upstream.UpstreamServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * A running node: its event loops, listeners and upstream pools. Started from a validated config;
 * {@link #close()} stops accepting, closes connections and waits for the loops to end.
 */
public final class FlotillaNode implements AutoCloseable, NodeOperations {
    private static final Logger LOG = Logger.getLogger(FlotillaNode.class.getName());

    private final EventLoopGroup group;
    private final Transport transport;
    private final AtomicReference<ProxyRuntime> runtime;
    private final AtomicReference<FlotillaConfig> config;
    private final Map<EventLoop, ConnectionPool> pools;
    private final List<Channel> listeners;
    private final List<FrontendInitializer> frontends;
    private final ProxyServices services;
    private final AccessLog accessLog;
    /** Per listener, in config order: its TLS, or null for a plain listener. */
    private final List<ServerTls> tls;

    private final ScheduledExecutorService tlsWatcher;
    private AdminServer admin;
    private DnsRefresher dns;
    private java.util.function.Function<String, java.net.InetAddress> resolver;

    private final LiveConfig live;
    private final HealthWiring health;
    private final NodeDrain drain;
    private final java.util.concurrent.atomic.AtomicLong reloads = new java.util.concurrent.atomic.AtomicLong();

    private FlotillaNode(
            EventLoopGroup group,
            Transport transport,
            AtomicReference<ProxyRuntime> runtime,
            FlotillaConfig config,
            Map<EventLoop, ConnectionPool> pools,
            List<Channel> listeners,
            List<FrontendInitializer> frontends,
            ProxyServices services,
            AccessLog accessLog,
            List<ServerTls> tls,
            ScheduledExecutorService tlsWatcher) {
        this.group = group;
        this.transport = transport;
        this.runtime = runtime;
        this.config = new AtomicReference<>(config);
        this.pools = pools;
        this.listeners = listeners;
        this.frontends = frontends;
        this.services = services;
        this.accessLog = accessLog;
        this.tls = tls;
        this.tlsWatcher = tlsWatcher;
        this.live = new LiveConfig(this, services.fleet().config(), config.source());
        this.health = new HealthWiring(group, transport.socketChannel());
        this.drain = new NodeDrain(services, listeners, frontends);
    }

    /** Binds every listener and the admin API; fails (and releases what it took) if any cannot bind. */
    public static FlotillaNode start(FlotillaConfig config) throws InterruptedException, IOException {
        return start(config, DnsRefresher.SYSTEM);
    }

    /**
     * As {@link #start(FlotillaConfig)}, with the resolver that re-resolves upstream names (tests move
     * a name from one loopback address to another with it).
     */
    public static FlotillaNode start(
            FlotillaConfig config, java.util.function.Function<String, java.net.InetAddress> resolver)
            throws InterruptedException, IOException {
        return start(config, resolver, null, System::currentTimeMillis);
    }

    /**
     * As {@link #start(FlotillaConfig)}, with the clock the response cache judges freshness and ages
     * by (tests move it forward instead of sleeping).
     */
    public static FlotillaNode start(FlotillaConfig config, java.util.function.LongSupplier cacheClock)
            throws InterruptedException, IOException {
        return start(config, DnsRefresher.SYSTEM, null, cacheClock);
    }

    /**
     * As {@link #start(FlotillaConfig)}, from a file loaded with its text: the text recorded as the
     * node's first version is the one validated, even if the file changes during start.
     */
    public static FlotillaNode start(ConfigLoader.Loaded loaded) throws InterruptedException, IOException {
        return start(loaded.config(), DnsRefresher.SYSTEM, loaded.text(), System::currentTimeMillis);
    }

    private static FlotillaNode start(
            FlotillaConfig config,
            java.util.function.Function<String, java.net.InetAddress> resolver,
            String text,
            java.util.function.LongSupplier cacheClock)
            throws InterruptedException, IOException {
        Transport transport = Transport.detect();
        int threads = config.node().eventLoops() > 0
                ? config.node().eventLoops()
                : Runtime.getRuntime().availableProcessors();
        EventLoopGroup group = transport.newGroup(threads, "flotilla-io");
        NodeMetrics metrics = new NodeMetrics();
        FleetState fleet = FleetStates.open(config);
        if (config.cluster().isPresent()) {
            fleet = metrics.fleet().observe(fleet); // shared-state round trips timed for /metrics
        }
        ResponseCache cache = new ResponseCache(fleet.responses(), config.cache(), cacheClock);
        ProxyRuntime compiled = ProxyRuntime.compile(config, cache, fleet.rates());
        resolveNames(compiled, resolver);
        AtomicReference<ProxyRuntime> runtime = new AtomicReference<>(compiled);
        Map<EventLoop, ConnectionPool> pools = new IdentityHashMap<>();
        for (EventExecutor executor : group) {
            EventLoop loop = (EventLoop) executor;
            pools.put(
                    loop,
                    new ConnectionPool(
                            loop, transport.socketChannel(), config.timeouts().upstreamConnect()));
        }
        AccessLog accessLog = config.node().accessLog().isPresent()
                ? AccessLog.open(config.node().accessLog().get())
                : null;
        ProxyServices services = new ProxyServices(metrics, accessLog, cache, fleet);
        metrics.registerCache(cache);
        List<Channel> bound = new ArrayList<>();
        List<FrontendInitializer> frontends = new ArrayList<>();
        List<ServerTls> tls = new ArrayList<>();
        // Certificate files are read and contexts built on this one thread, never on an event loop.
        ScheduledExecutorService tlsWatcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "flotilla-tls-files");
            thread.setDaemon(true);
            return thread;
        });
        try {
            for (ListenerConfig listener : config.listeners()) {
                ServerTls listenerTls = listener.tls().isEmpty()
                        ? null
                        : ServerTls.start(
                                listener.bind().toString(),
                                listener.tls().get(),
                                tlsWatcher,
                                listener.http2().enabled(),
                                fleet.tickets());
                tls.add(listenerTls);
                FrontendInitializer initializer =
                        new FrontendInitializer(runtime::get, services, pools, listener, listenerTls);
                frontends.add(initializer);
                Channel channel = new ServerBootstrap()
                        .group(group)
                        .channel(transport.serverChannel())
                        .option(ChannelOption.SO_BACKLOG, 4096)
                        .option(ChannelOption.SO_REUSEADDR, true)
                        .childOption(ChannelOption.AUTO_READ, false)
                        // No TCP_NODELAY here: Netty's socket config already sets it on every accepted
                        // socket, and asking again cost a second setsockopt per connection (strace).
                        .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                        .childOption(
                                ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                        .childHandler(initializer)
                        .bind(listener.bind().toSocketAddress())
                        .sync()
                        .channel();
                initializer.serverChannel(channel);
                bound.add(channel);
            }
        } catch (Exception e) {
            bound.forEach(Channel::close);
            tlsWatcher.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await();
            if (accessLog != null) {
                accessLog.close();
            }
            throw e;
        }
        FlotillaNode node = new FlotillaNode(
                group,
                transport,
                runtime,
                config,
                Map.copyOf(pools),
                List.copyOf(bound),
                List.copyOf(frontends),
                services,
                accessLog,
                java.util.Collections.unmodifiableList(tls),
                tlsWatcher);
        node.resolver = resolver;
        node.registerGauges(config);
        node.startHealthChecks();
        if (!config.node().resolveEvery().isZero()) {
            node.dns = new DnsRefresher(
                    () -> node.runtime.get().upstreams().values(), config.node().resolveEvery(), resolver);
        }
        if (config.node().admin().isPresent()) {
            try {
                node.admin = AdminServer.start(
                        group,
                        transport.serverChannel(),
                        config.node().admin().get(),
                        config.node().adminToken(),
                        node);
            } catch (Exception e) {
                node.close();
                throw e;
            }
        }
        if (text != null) {
            node.live.applied(text);
        }
        node.live.join();
        LOG.info(() -> "node '" + config.node().name() + "' serving on " + node.addresses() + " with "
                + threads + " " + transport.name() + " event loop(s), config " + config.source()
                + node.adminAddress()
                        .map(a -> ", admin on " + a.getHostString() + ":" + a.getPort())
                        .orElse("")
                + (node.inFleet()
                        ? ", fleet '" + config.cluster().get().name() + "' gossip on "
                                + node.fleet().membership().gossipAddress()
                        : ""));
        return node;
    }

    /** The bound address of each listener, in config order (a port 0 listener shows its real port). */
    public List<InetSocketAddress> addresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Channel channel : listeners) {
            out.add((InetSocketAddress) channel.localAddress());
        }
        return out;
    }

    /** The bound port of the listener at {@code index}. */
    public int port(int index) {
        return addresses().get(index).getPort();
    }

    public String transportName() {
        return transport.name();
    }

    /** Swaps in a new configuration for new requests; listeners are not changed by this. */
    public void apply(FlotillaConfig config) {
        services.cache().configure(config.cache());
        ProxyRuntime compiled =
                ProxyRuntime.compile(config, services.cache(), services.fleet().rates());
        resolveNames(compiled, resolver);
        runtime.set(compiled);
        this.config.set(config);
        registerGauges(config);
        startHealthChecks();
    }

    /** Resolves servers named by DNS names before they take traffic (blocking: never on an event loop). */
    private static void resolveNames(
            ProxyRuntime runtime, java.util.function.Function<String, java.net.InetAddress> resolver) {
        for (Upstream upstream : runtime.upstreams().values()) {
            for (UpstreamServer server : upstream.servers()) {
                if (server.named() && !server.reresolve(resolver)) {
                    LOG.warning(() -> server + ": " + server.address().host() + " does not resolve (yet); "
                            + "it is tried again every resolve_every");
                }
            }
        }
    }

    /** Probes the current upstreams ({@link HealthWiring}); the previous config's probes stop. */
    private void startHealthChecks() {
        health.start(runtime.get(), inFleet() ? services.fleet().health() : null);
    }

    /** The node's gauges ({@link NodeGauges}), again after a config change. */
    private void registerGauges(FlotillaConfig config) {
        NodeGauges.register(services, runtime.get(), frontends, addresses(), live::version, accessLog);
    }

    public FlotillaConfig config() {
        return config.get();
    }

    /**
     * Validates and applies a new config to new requests; requests in flight finish with the config
     * they started with, and no connection is closed. Listener and node settings need a restart, so a
     * config that changes them is refused whole rather than applied in part.
     *
     * @return the config now in force
     */
    public synchronized FlotillaConfig reload(FlotillaConfig next, String text) throws ReloadRefused {
        requireSameLocalSections(next);
        return reloadShared(next, text);
    }

    void requireSameLocalSections(FlotillaConfig next) throws ReloadRefused {
        FlotillaConfig current = config.get();
        if (!next.cluster().equals(current.cluster())) {
            throw new ReloadRefused("cluster settings differ from the running ones; changing them needs a restart");
        }
        boolean sameSockets = next.listeners().size() == current.listeners().size();
        for (int i = 0; sameSockets && i < next.listeners().size(); i++) {
            sameSockets =
                    !current.listeners().get(i).needsRestartFor(next.listeners().get(i));
        }
        if (!sameSockets) {
            throw new ReloadRefused("listeners differ from the running ones; changing listeners needs a restart "
                    + "(a TLS listener's certificates and TLS settings are the exception: they reload)");
        }
        if (!next.node().equals(current.node())) {
            throw new ReloadRefused("node settings differ from the running ones; changing them needs a restart");
        }
    }

    /** Applies {@code next}, whose listener, node and cluster sections are known to match the running ones. */
    synchronized FlotillaConfig reloadShared(FlotillaConfig next, String text) throws ReloadRefused {
        try {
            // Certificates are read again even when their paths did not change: a reload renews them.
            List<Runnable> tlsSwaps = new ArrayList<>();
            for (int i = 0; i < tls.size(); i++) {
                if (tls.get(i) != null) {
                    tlsSwaps.add(
                            tls.get(i).prepare(next.listeners().get(i).tls().orElseThrow()));
                }
            }
            apply(next);
            tlsSwaps.forEach(Runnable::run);
        } catch (IllegalArgumentException e) {
            throw new ReloadRefused(e.getMessage()); // e.g. an upstream's or a listener's TLS files do not load
        }
        live.applied(text);
        reloads.incrementAndGet();
        LOG.info(() -> "config " + next.source() + " applied (reload " + reloads.get() + ")");
        return next;
    }

    // ---- the live config, shared by the fleet ----------------------------------------------------

    /** Whether this node is a member of a fleet (a cluster section), rather than alone. */
    public boolean inFleet() {
        return config.get().cluster().isPresent();
    }

    /** The config version this node runs; 0 before anything was published. */
    public long configVersion() {
        return live.version();
    }

    /** How a config change arrived, as recorded in the history. */
    public static final String FROM_FILE = "file";

    public static final String FROM_SIGHUP = "sighup";

    /**
     * Parses a config text that did not come from this node's file (a push, a fleet version, a
     * rollback): relative paths resolve against the directory of the node's own config file, or the
     * working directory for a node started without one; an error about such a path names the base.
     */
    public FlotillaConfig parseText(String text, String sourceName) throws ConfigException {
        return live.parseText(text, sourceName);
    }

    /** Which config this node runs and why: its own file, or the fleet's version over the file's shared sections. */
    public String configRule() {
        return live.rule();
    }

    /** The digest of the file this node started from (null without one). */
    public String fileDigest() {
        return live.fileDigest();
    }

    /** As {@link #push(FlotillaConfig, String, String, String)}, recorded as a push by this node. */
    public String push(FlotillaConfig next, String text) throws ReloadRefused {
        return push(next, text, FROM_PUSH, config.get().node().name());
    }

    /**
     * Every change goes through here and becomes the next version of the history, recorded with its
     * {@code source} and {@code who}. Alone: applied here, then kept as a version (for rollback). In
     * a fleet: checked here, then published; every node, this one included, applies it when the
     * store tells it. Returns what to tell the operator.
     */
    public String push(FlotillaConfig next, String text, String source, String who) throws ReloadRefused {
        return live.push(next, text, source, who);
    }

    /**
     * What a push of {@code next} would do, checked as the push checks it, with nothing applied or
     * published: the operator's {@code --dry-run}.
     */
    public String dryRun(FlotillaConfig next, String text) throws ReloadRefused {
        return live.dryRun(next, text);
    }

    /**
     * SIGHUP: reads the node's file again and makes it the next version, like a push (in a fleet,
     * every node applies its shared sections); its node, listener and cluster sections must match
     * the running ones. A file whose text is the version already running changes nothing.
     */
    public String reloadFile() throws ConfigException, IOException, ReloadRefused {
        return live.reloadFile();
    }

    /** Publishes the previous version's document again, as the next version; every node applies it. */
    public String rollback(String who) throws ReloadRefused {
        return live.rollback(who);
    }

    /** As {@link #rollback(String)}, asked by this node. */
    public String rollback() throws ReloadRefused {
        return rollback(config.get().node().name());
    }

    /** What this node shares with the fleet (in-process when it is alone). */
    public FleetState fleet() {
        return services.fleet();
    }

    /** The versions the fleet (or this node) keeps, newest first. */
    public List<ConfigVersion> configVersions() {
        return services.fleet().config().versions();
    }

    /** The digest of the config text this node runs (null before any). */
    public String configDigest() {
        return live.runningDigest();
    }

    /** Remembers the YAML the node was started from, when it did not come from a file. */
    public void startedFrom(String text) {
        live.startedFrom(text);
    }

    /** The YAML in force: the last one applied by reload, else the file the node started from. */
    public String configText() throws IOException {
        return live.text();
    }

    public long reloads() {
        return reloads.get();
    }

    public ProxyRuntime runtime() {
        return runtime.get();
    }

    public NodeMetrics metrics() {
        return services.metrics();
    }

    public boolean draining() {
        return services.draining();
    }

    /** The node's WebSocket tunnels. */
    public io.flotilla.node.tunnel.Tunnels tunnels() {
        return services.tunnels();
    }

    /** The admin API's address, if it runs. */
    public java.util.Optional<InetSocketAddress> adminAddress() {
        return admin == null ? java.util.Optional.empty() : java.util.Optional.of(admin.address());
    }

    /**
     * Starts a graceful drain, once ({@link NodeDrain}): /healthz answers 503 at once, new connections
     * are still accepted for the drain grace period and every response closes its connection; then
     * the listeners close and in-flight requests get the drain timeout. The future completes when no
     * client connection is left.
     */
    public CompletableFuture<Void> drain() {
        return drain.start(config.get().node(), group.next());
    }

    /** The TLS of the listener at {@code index}, if it terminates TLS. */
    public java.util.Optional<ServerTls> tls(int index) {
        return java.util.Optional.ofNullable(tls.get(index));
    }

    @Override
    public void close() throws InterruptedException {
        live.close();
        health.stop();
        tls.stream().filter(java.util.Objects::nonNull).forEach(ServerTls::close);
        tlsWatcher.shutdownNow();
        if (dns != null) {
            dns.close();
        }
        if (admin != null) {
            admin.close();
        }
        for (Channel channel : listeners) {
            channel.close().await();
        }
        for (FrontendInitializer frontend : frontends) {
            frontend.connections().close().await(2, TimeUnit.SECONDS);
        }
        if (accessLog != null) {
            accessLog.close();
        }
        for (Map.Entry<EventLoop, ConnectionPool> entry : pools.entrySet()) {
            entry.getKey().execute(entry.getValue()::closeAll);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await();
        services.cache().close(); // after the loops: no request can take a body from it any more
        services.fleet().close();
    }

    /** The node's response cache (for the admin API's purge and stats). */
    public ResponseCache cache() {
        return services.cache();
    }
}
