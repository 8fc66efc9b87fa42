package io.flotilla.node.server;

import io.flotilla.cluster.security.Outsiders;
import io.flotilla.cluster.FleetState;
import io.flotilla.cluster.config.ConfigStore;
import io.flotilla.cluster.health.BackendHealth;
import io.flotilla.cluster.health.HealthRegistry;
import io.flotilla.cluster.config.ConfigVersion;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import io.flotilla.node.cache.ResponseCache;
import io.flotilla.node.config.FlotillaConfig;
import io.flotilla.node.config.ListenerConfig;
import io.flotilla.node.accesslog.AccessLog;
import io.flotilla.node.admin.AdminServer;
import io.flotilla.node.admin.NodeOperations;
import io.flotilla.node.metrics.NodeMetrics;
import io.flotilla.node.proxy.ProxyHandler;
import io.flotilla.node.proxy.ProxyRuntime;
import io.flotilla.node.proxy.ProxyServices;
import io.flotilla.node.upstream.DnsRefresher;
import io.flotilla.node.upstream.HealthChecker;
import io.flotilla.node.upstream.Upstream;
import io.flotilla.node.upstream.UpstreamServer;
import io.flotilla.node.upstream.ConnectionPool;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.EventExecutor;

import io.flotilla.node.tls.ServerTls;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
    /** The fleet config version this node runs (0: its own file, not yet published). */
    private volatile long configVersion;
    private volatile String runningDigest;
    private volatile String fileDigest;
    private volatile String configRule = "no version yet";
    /** Where the node's config came from at start: its file's absolute path, or a name for a text. */
    private final java.nio.file.Path startSource;
    private Runnable configSubscription = () -> { };
    private Runnable healthSubscription = () -> { };
    private DnsRefresher dns;
    private java.util.function.Function<String, java.net.InetAddress> resolver;

    private final List<HealthChecker> checkers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicReference<String> configText = new AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicLong reloads = new java.util.concurrent.atomic.AtomicLong();

    private FlotillaNode(EventLoopGroup group, Transport transport, AtomicReference<ProxyRuntime> runtime,
                         FlotillaConfig config, Map<EventLoop, ConnectionPool> pools, List<Channel> listeners,
                         List<FrontendInitializer> frontends, ProxyServices services, AccessLog accessLog,
                         List<ServerTls> tls, ScheduledExecutorService tlsWatcher) {
        this.group = group;
        this.transport = transport;
        this.runtime = runtime;
        this.config = new AtomicReference<>(config);
        this.startSource = config.source();
        this.pools = pools;
        this.listeners = listeners;
        this.frontends = frontends;
        this.services = services;
        this.accessLog = accessLog;
        this.tls = tls;
        this.tlsWatcher = tlsWatcher;
    }

    /** Binds every listener and the admin API; fails (and releases what it took) if any cannot bind. */
    public static FlotillaNode start(FlotillaConfig config) throws InterruptedException, IOException {
        return start(config, DnsRefresher.SYSTEM);
    }

    /**
     * As {@link #start(FlotillaConfig)}, with the resolver that re-resolves upstream names (tests move
     * a name from one loopback address to another with it).
     */
    public static FlotillaNode start(FlotillaConfig config, java.util.function.Function<String, java.net.InetAddress> resolver)
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

    private static FlotillaNode start(FlotillaConfig config,
                                      java.util.function.Function<String, java.net.InetAddress> resolver, String text,
                                      java.util.function.LongSupplier cacheClock)
            throws InterruptedException, IOException {
        Transport transport = Transport.detect();
        int threads = config.node().eventLoops() > 0
                ? config.node().eventLoops() : Runtime.getRuntime().availableProcessors();
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
            pools.put(loop, new ConnectionPool(loop, transport.socketChannel(), config.timeouts().upstreamConnect()));
        }
        AccessLog accessLog = config.node().accessLog().isPresent() ? AccessLog.open(config.node().accessLog().get()) : null;
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
                ServerTls listenerTls = listener.tls().isEmpty() ? null
                        : ServerTls.start(listener.bind().toString(), listener.tls().get(), tlsWatcher);
                tls.add(listenerTls);
                FrontendInitializer initializer = new FrontendInitializer(runtime::get, services, pools, listener,
                        listenerTls);
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
                        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
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
        FlotillaNode node = new FlotillaNode(group, transport, runtime, config, Map.copyOf(pools), List.copyOf(bound),
                List.copyOf(frontends), services, accessLog, java.util.Collections.unmodifiableList(tls), tlsWatcher);
        node.resolver = resolver;
        node.registerGauges(config);
        node.startHealthChecks();
        if (!config.node().resolveEvery().isZero()) {
            node.dns = new DnsRefresher(() -> node.runtime.get().upstreams().values(), config.node().resolveEvery(),
                    resolver);
        }
        if (config.node().admin().isPresent()) {
            try {
                node.admin = AdminServer.start(group, transport, config.node().admin().get(),
                        config.node().adminToken(), node);
            } catch (Exception e) {
                node.close();
                throw e;
            }
        }
        if (text != null) {
            node.configText.set(text);
        }
        node.joinConfig();
        LOG.info(() -> "node '" + config.node().name() + "' serving on " + node.addresses() + " with "
                + threads + " " + transport.name() + " event loop(s), config " + config.source()
                + node.adminAddress().map(a -> ", admin on " + a.getHostString() + ":" + a.getPort()).orElse("")
                + (node.inFleet() ? ", fleet '" + config.cluster().get().name() + "' gossip on "
                        + node.fleet().membership().gossipAddress() : ""));
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
        ProxyRuntime compiled = ProxyRuntime.compile(config, services.cache(), services.fleet().rates());
        resolveNames(compiled, resolver);
        runtime.set(compiled);
        this.config.set(config);
        registerGauges(config);
        startHealthChecks();
    }

    /** Resolves servers named by DNS names before they take traffic (blocking: never on an event loop). */
    private static void resolveNames(ProxyRuntime runtime, java.util.function.Function<String, java.net.InetAddress> resolver) {
        for (Upstream upstream : runtime.upstreams().values()) {
            for (UpstreamServer server : upstream.servers()) {
                if (server.named() && !server.reresolve(resolver)) {
                    LOG.warning(() -> server + ": " + server.address().host() + " does not resolve (yet); "
                            + "it is tried again every resolve_every");
                }
            }
        }
    }

    /** Probes the current upstreams; the previous config's probes stop (their servers are gone). */
    private synchronized void startHealthChecks() {
        checkers.forEach(HealthChecker::close);
        checkers.clear();
        healthSubscription.run();
        HealthRegistry shared = inFleet() ? services.fleet().health() : null;
        Map<String, UpstreamServer> probed = new java.util.HashMap<>();
        for (Upstream upstream : runtime.get().upstreams().values()) {
            if (upstream.health().active().isPresent()) {
                checkers.add(HealthChecker.start(upstream, group, transport.socketChannel(), shared));
                upstream.sharedHealth(shared);
                upstream.servers().forEach(s -> probed.put(s.backendId(), s));
            }
        }
        if (shared != null) {
            // Every node routes by the fleet's verdicts: those known now, and each change as it comes.
            probed.forEach((id, server) -> {
                BackendHealth h = shared.health(id);
                if (h != null) {
                    server.healthy(h.up());
                }
            });
            healthSubscription = shared.onChange(h -> {
                UpstreamServer server = probed.get(h.backendId());
                if (server != null && server.healthy() != h.up()) {
                    server.healthy(h.up());
                    LOG.info(() -> server + (h.up() ? " is up" : " is down") + " by the fleet (" + h.reporter() + ": "
                            + h.reason() + ")");
                }
            });
        }
    }

    private void registerGauges(FlotillaConfig config) {
        NodeMetrics metrics = services.metrics();
        metrics.removeMatching("flotilla.upstream.connections.");
        metrics.removeMatching("flotilla.upstream.available.");
        metrics.removeMatching("flotilla.upstream.ejections.");
        for (Upstream upstream : runtime.get().upstreams().values()) {
            for (UpstreamServer server : upstream.servers()) {
                String id = NodeMetrics.segment(upstream.name()) + "." + NodeMetrics.segment(server.address().toString());
                metrics.gauge("flotilla.upstream.connections." + id + ".open", server::openConnections);
                metrics.gauge("flotilla.upstream.connections." + id + ".idle", server::idleConnections);
                // Whether this node sends the server traffic (healthy, not ejected, not draining), and
                // how often passive checks ejected it: what the fleet sees of its backends (issue 17).
                metrics.gauge("flotilla.upstream.available." + id, () -> server.available() ? 1 : 0);
                metrics.gauge("flotilla.upstream.ejections." + id, server::ejections);
            }
        }
        for (int i = 0; i < frontends.size(); i++) {
            FrontendInitializer frontend = frontends.get(i);
            String name = NodeMetrics.segment(addresses().get(i).getHostString() + "_" + addresses().get(i).getPort());
            metrics.gauge("flotilla.listener.connections." + name, frontend::openConnections);
            metrics.gauge("flotilla.listener.bytes." + name + ".received", frontend.bytes()::received);
            metrics.gauge("flotilla.listener.bytes." + name + ".sent", frontend.bytes()::sent);
        }
        metrics.touchKnown(runtime.get().upstreams().keySet());
        metrics.gauge("flotilla.draining", () -> services.draining() ? 1 : 0);
        metrics.gauge("flotilla.config.version", () -> configVersion);
        Outsiders outsiders = services.fleet().outsiders();
        for (Outsiders.Kind kind : Outsiders.Kind.values()) {
            metrics.gauge("flotilla.fleet.refused." + kind.name().toLowerCase(Locale.ROOT), () -> outsiders.count(kind));
        }
        if (accessLog != null) {
            metrics.gauge("flotilla.access_log.dropped", accessLog::dropped);
        }
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

    private void requireSameLocalSections(FlotillaConfig next) throws ReloadRefused {
        FlotillaConfig current = config.get();
        if (!next.cluster().equals(current.cluster())) {
            throw new ReloadRefused("cluster settings differ from the running ones; changing them needs a restart");
        }
        boolean sameSockets = next.listeners().size() == current.listeners().size();
        for (int i = 0; sameSockets && i < next.listeners().size(); i++) {
            sameSockets = !current.listeners().get(i).needsRestartFor(next.listeners().get(i));
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
    private synchronized FlotillaConfig reloadShared(FlotillaConfig next, String text) throws ReloadRefused {
        try {
            // Certificates are read again even when their paths did not change: a reload renews them.
            List<Runnable> tlsSwaps = new ArrayList<>();
            for (int i = 0; i < tls.size(); i++) {
                if (tls.get(i) != null) {
                    tlsSwaps.add(tls.get(i).prepare(next.listeners().get(i).tls().orElseThrow()));
                }
            }
            apply(next);
            tlsSwaps.forEach(Runnable::run);
        } catch (IllegalArgumentException e) {
            throw new ReloadRefused(e.getMessage()); // e.g. an upstream's or a listener's TLS files do not load
        }
        configText.set(text);
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
        return configVersion;
    }

    /** How a config change arrived, as recorded in the history. */
    public static final String FROM_FILE = "file";
    public static final String FROM_SIGHUP = "sighup";

    /**
     * The file the node was started from, or null (a node started from text). Relative paths of a
     * pushed or rolled-back text resolve against its directory, as they did in the file.
     */
    private java.nio.file.Path startFile() {
        java.nio.file.Path source = startSource;
        return source != null && source.isAbsolute() && java.nio.file.Files.isRegularFile(source) ? source : null;
    }

    /**
     * Parses a config text that did not come from this node's file (a push, a fleet version, a
     * rollback): relative paths resolve against the directory of the node's own config file, or the
     * working directory for a node started without one; an error about such a path names the base.
     */
    public FlotillaConfig parseText(String text, String sourceName) throws ConfigException {
        java.nio.file.Path file = startFile();
        return file == null
                ? ConfigLoader.parse(text, sourceName, java.nio.file.Path.of(""), "the node's working directory: it "
                        + "was not started from a file")
                : ConfigLoader.parse(text, sourceName, file.getParent(), "the directory of the node's config file "
                        + file);
    }

    /**
     * At start: the first node of a fleet (or a lone node) publishes its own file as version 1; a
     * node joining a fleet that has a config runs the fleet's shared sections and its file's own
     * (node, listeners, cluster), says so in its log and in /fleet, and follows later versions.
     */
    private void joinConfig() {
        ConfigStore store = services.fleet().config();
        String text = null;
        try {
            text = configText();
        } catch (IOException | RuntimeException e) {
            LOG.fine(() -> "no start config text to publish yet: " + e);
        }
        fileDigest = text == null ? null : ConfigVersion.digest(text);
        publishStart(text);
        if (inFleet()) {
            configSubscription = store.onChange(this::followFleet);
            ConfigVersion current = store.current();
            if (current != null && current.version() > configVersion) {
                configRule = "fleet version " + current.version() + " (" + current.digest() + ") for the shared "
                        + "sections, this node's file (" + fileDigest + ") for node, listeners and cluster";
                LOG.info(() -> "config: the fleet runs version " + current.version() + " (" + current.source() + " by "
                        + current.publisher() + ", digest " + current.digest() + ")"
                        + (current.digest().equals(fileDigest) ? ", the same text as this node's file"
                                : "; this node's file differs (digest " + fileDigest + ")")
                        + ": the fleet's version wins for upstreams, routes, timeouts, limits, headers and cache; "
                        + "the file for node, listeners and cluster");
                followFleet(current);
            }
        }
    }

    /** Which config this node runs and why: its own file, or the fleet's version over the file's shared sections. */
    public String configRule() {
        return configRule;
    }

    /** The digest of the file this node started from (null without one). */
    public String fileDigest() {
        return fileDigest;
    }

    /** A new fleet version: its shared sections applied here, with this node's own node, listeners and cluster. */
    private synchronized void followFleet(ConfigVersion version) {
        if (version.version() <= configVersion) {
            return;
        }
        try {
            FlotillaConfig pushed = parseText(version.document(), "<fleet config v" + version.version() + ">");
            reloadShared(withLocalSections(pushed), version.document());
            configVersion = version.version();
            runningDigest = version.digest();
        } catch (ConfigException | ReloadRefused | RuntimeException e) {
            // Validated by the node that published it; here it can only fail on local files (TLS, static).
            LOG.warning(() -> "fleet config version " + version.version() + " not applied: " + e.getMessage());
        }
    }

    /** The shared sections of {@code pushed} with this node's own node, listeners and cluster sections. */
    private FlotillaConfig withLocalSections(FlotillaConfig pushed) {
        FlotillaConfig local = config.get();
        return new FlotillaConfig(pushed.source(), local.node(), local.listeners(), pushed.upstreams(), pushed.routes(),
                pushed.timeouts(), pushed.limits(), pushed.headers(), pushed.cache(), local.cluster(),
                pushed.compression());
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
    public synchronized String push(FlotillaConfig next, String text, String source, String who) throws ReloadRefused {
        ConfigStore store = services.fleet().config();
        ConfigVersion current = store.current();
        long expected = current == null ? 0 : current.version();
        if (!inFleet()) {
            reload(next, text);
            store.publish(expected, text, source, who).ifPresent(v -> {
                configVersion = v.version();
                runningDigest = v.digest();
            });
            return "applied (reload " + reloads() + ", version " + configVersion + ")";
        }
        try {
            ProxyRuntime.compile(withLocalSections(next)); // what cannot be compiled is refused before anyone sees it
        } catch (IllegalArgumentException e) {
            throw new ReloadRefused(e.getMessage());
        }
        ConfigVersion published = store.publish(expected, text, source, who).orElseThrow(() -> new ReloadRefused(
                "another config was published meanwhile (now version " + store.current().version() + "); push again"));
        followFleet(published);
        return "published version " + published.version() + " to the fleet; applied here";
    }

    /**
     * What a push of {@code next} would do, checked as the push checks it, with nothing applied or
     * published: the operator's {@code --dry-run}.
     */
    public String dryRun(FlotillaConfig next, String text) throws ReloadRefused {
        if (!inFleet()) {
            requireSameLocalSections(next);
        }
        try {
            ProxyRuntime.compile(inFleet() ? withLocalSections(next) : next);
        } catch (IllegalArgumentException e) {
            throw new ReloadRefused(e.getMessage());
        }
        String digest = ConfigVersion.digest(text);
        if (digest.equals(runningDigest)) {
            return "valid; unchanged: version " + configVersion + " is this text (" + digest + "); nothing applied";
        }
        return "valid; a push would make it version " + (services.fleet().config().history().currentVersion() + 1)
                + " (" + digest + ", running version " + configVersion + " is " + runningDigest + ")"
                + (inFleet() ? " on every node of the fleet" : "") + "; nothing applied";
    }

    /**
     * SIGHUP: reads the node's file again and makes it the next version, like a push (in a fleet,
     * every node applies its shared sections); its node, listener and cluster sections must match
     * the running ones. A file whose text is the version already running changes nothing.
     */
    public synchronized String reloadFile() throws ConfigException, IOException, ReloadRefused {
        java.nio.file.Path file = startFile();
        if (file == null) {
            throw new ReloadRefused("the node was not started from a file (" + startSource + "); push a config instead");
        }
        ConfigLoader.Loaded loaded = ConfigLoader.loadWithText(file);
        FlotillaConfig next = loaded.config();
        String text = loaded.text();
        requireSameLocalSections(next);
        ConfigVersion current = services.fleet().config().current();
        if (current != null && current.document().equals(text) && current.version() == configVersion) {
            return "unchanged: version " + configVersion + " is this file (" + current.digest() + ")";
        }
        return push(next, text, FROM_SIGHUP, config.get().node().name() + " (SIGHUP, " + file + ")");
    }

    /** Publishes the previous version's document again, as the next version; every node applies it. */
    public synchronized String rollback(String who) throws ReloadRefused {
        ConfigStore store = services.fleet().config();
        ConfigVersion current = store.current();
        if (current == null || store.versions().size() < 2) {
            throw new ReloadRefused("there is no previous config version to roll back to");
        }
        ConfigVersion previous = store.versions().get(1);
        if (!inFleet()) {
            try { // applied before it is recorded: a version that does not apply here is not published
                reload(parseText(previous.document(), "<config v" + previous.version() + ">"), previous.document());
            } catch (ConfigException e) {
                throw new ReloadRefused(e.getMessage());
            }
        }
        ConfigVersion rolled = store.rollback(current.version(), who).orElseThrow(() -> new ReloadRefused(
                "another config was published meanwhile; look at GET /config/versions and try again"));
        if (inFleet()) {
            followFleet(rolled);
        } else {
            configVersion = rolled.version();
            runningDigest = rolled.digest();
        }
        return "rolled back: version " + rolled.version() + " is the config of version " + previous.version()
                + " (" + rolled.digest() + ")";
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
        return runningDigest;
    }

    /** Remembers the YAML the node was started from, when it did not come from a file. */
    public void startedFrom(String text) {
        configText.compareAndSet(null, text);
        fileDigest = ConfigVersion.digest(text);
        publishStart(text);
    }

    /** Version 1 is the config the first node started with (nothing happens when there is one already). */
    private synchronized void publishStart(String text) {
        if (text != null && configVersion == 0) {
            services.fleet().config().publish(0, text, FROM_FILE, config.get().node().name() + " (" + startSource + ")")
                    .ifPresent(v -> {
                        configVersion = v.version();
                        runningDigest = v.digest();
                        configRule = "this node's file";
                    });
        }
    }

    /** The YAML in force: the last one applied by reload, else the file the node started from. */
    public String configText() throws IOException {
        String text = configText.get();
        if (text != null) {
            return text;
        }
        java.nio.file.Path source = startFile();
        return source == null ? null : java.nio.file.Files.readString(source);
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

    /** The admin API's address, if it runs. */
    public java.util.Optional<InetSocketAddress> adminAddress() {
        return admin == null ? java.util.Optional.empty() : java.util.Optional.of(admin.address());
    }

    /**
     * Starts a graceful drain, once: /healthz answers 503 at once, new connections are still accepted
     * for the drain grace period (so the L4 front notices first) and every response closes its
     * connection; then the listeners close, idle connections are closed, and in-flight requests get
     * the drain timeout to finish before what is left is cut. The future completes when no client
     * connection is left.
     */
    public CompletableFuture<Void> drain() {
        if (!draining.compareAndSet(false, true)) {
            return drained;
        }
        FlotillaConfig current = config.get();
        long grace = current.node().drainGrace().toMillis();
        long deadline = System.nanoTime() + current.node().drainGrace().toNanos() + current.node().drainTimeout().toNanos();
        services.startDraining();
        try {
            services.fleet().membership().setState(io.flotilla.cluster.membership.MemberState.DRAINING);
        } catch (RuntimeException e) {
            LOG.warning(() -> "could not tell the fleet this node drains: " + e);
        }
        LOG.info(() -> "draining: /healthz is 503, still accepting for " + grace + " ms");
        signalConnections();
        EventLoop timer = group.next();
        timer.schedule(() -> {
            listeners.forEach(Channel::close);
            LOG.info("draining: listeners closed, waiting for in-flight requests");
            signalConnections();
            waitForConnections(timer, deadline);
        }, grace, TimeUnit.MILLISECONDS);
        return drained;
    }

    private void signalConnections() {
        for (FrontendInitializer frontend : frontends) {
            for (Channel channel : frontend.connections()) {
                channel.eventLoop().execute(() -> channel.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN));
            }
        }
    }

    private void waitForConnections(EventLoop timer, long deadlineNanos) {
        int open = frontends.stream().mapToInt(f -> f.connections().size()).sum();
        if (open == 0) {
            LOG.info("drained: no client connection left");
            drained.complete(null);
            return;
        }
        if (System.nanoTime() - deadlineNanos >= 0) {
            LOG.warning("drain timeout: closing " + open + " connection(s) still open");
            frontends.forEach(f -> f.connections().close());
            drained.complete(null);
            return;
        }
        timer.schedule(() -> waitForConnections(timer, deadlineNanos), 50, TimeUnit.MILLISECONDS);
    }

    /** The TLS of the listener at {@code index}, if it terminates TLS. */
    public java.util.Optional<ServerTls> tls(int index) {
        return java.util.Optional.ofNullable(tls.get(index));
    }

    @Override
    public void close() throws InterruptedException {
        configSubscription.run();
        healthSubscription.run();
        checkers.forEach(HealthChecker::close);
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
