package io.flotilla.node.upstream;

import io.flotilla.cluster.health.HealthRegistry;
import io.flotilla.node.config.HealthConfig;
import io.flotilla.node.config.PoolConfig;
import io.flotilla.node.config.UpstreamConfig;
import io.flotilla.node.config.UpstreamTlsConfig;
import io.flotilla.node.upstream.balance.Balancer;
import io.flotilla.node.upstream.balance.BalancerFactory;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A named pool of origin servers and its balancing policy. Each event loop gets its own balancer over
 * its own {@link LoopServer} views (Envoy's per-worker load balancers): picking needs no lock, and
 * least-connections counts what that loop has in flight. Hash tables (ring, Maglev) are built once
 * per upstream and shared read-only.
 */
public final class Upstream {
    private final String name;
    private final String balance;
    private final String hashOn;
    private final HashKey hashKey;
    private final List<UpstreamServer> servers;
    private final PoolConfig pool;
    private final HealthConfig health;
    private final java.util.Optional<String> stickyCookie;
    private final SslContext tls;
    private final java.util.Optional<String> sni;
    private final UpstreamConfig.Protocol protocol;
    private final BalancerFactory factory;
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(Upstream.class.getName());

    private final Map<EventLoop, LoopBalancer> perLoop = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger retrying = new java.util.concurrent.atomic.AtomicInteger();

    /** One event loop's balancer and its views of the servers, in server order. */
    public record LoopBalancer(Balancer balancer, List<LoopServer> views) {}

    private Upstream(
            String name,
            String balance,
            String hashOn,
            List<UpstreamServer> servers,
            PoolConfig pool,
            HealthConfig health,
            java.util.Optional<String> stickyCookie,
            SslContext tls,
            java.util.Optional<String> sni,
            UpstreamConfig.Protocol protocol) {
        this.protocol = protocol;
        this.stickyCookie = stickyCookie;
        this.tls = tls;
        this.sni = sni;
        this.name = name;
        this.balance = balance;
        this.hashOn = hashOn;
        this.hashKey = HashKey.parse(hashOn);
        this.servers = List.copyOf(servers);
        this.pool = pool;
        this.health = health;
        this.factory = BalancerFactory.forName(balance);
    }

    public static Upstream of(UpstreamConfig config) {
        List<UpstreamServer> servers = new ArrayList<>();
        for (UpstreamConfig.ServerConfig server : config.servers()) {
            servers.add(new UpstreamServer(config.name(), server.address(), server.weight()));
        }
        return new Upstream(
                config.name(),
                config.balance(),
                config.hashOn(),
                servers,
                config.pool(),
                config.health(),
                config.stickyCookie(),
                config.tls()
                        .map(t -> clientContext(config.name(), t, config.protocol()))
                        .orElse(null),
                config.tls().flatMap(UpstreamTlsConfig::sni),
                config.protocol());
    }

    /** One client context per upstream, shared by every connection to it (SslContext is thread-safe). */
    private static SslContext clientContext(String upstream, UpstreamTlsConfig tls, UpstreamConfig.Protocol protocol) {
        try {
            SslContextBuilder builder = SslContextBuilder.forClient().protocols("TLSv1.3", "TLSv1.2");
            if (protocol == UpstreamConfig.Protocol.H2) {
                // Only h2 offered: a server that cannot speak it fails the handshake instead of
                // answering HTTP/2 frames as HTTP/1.1.
                builder.applicationProtocolConfig(new io.netty.handler.ssl.ApplicationProtocolConfig(
                        io.netty.handler.ssl.ApplicationProtocolConfig.Protocol.ALPN,
                        io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior.FATAL_ALERT,
                        io.netty.handler.ssl.ApplicationProtocolNames.HTTP_2));
            }
            if (!tls.verify()) {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            } else {
                builder.endpointIdentificationAlgorithm("HTTPS"); // the chain must name the server
                if (tls.ca().isPresent()) {
                    builder.trustManager(tls.ca().get().toFile());
                }
            }
            if (tls.cert().isPresent()) {
                builder.keyManager(
                        tls.cert().get().toFile(), tls.key().orElseThrow().toFile());
            }
            return builder.build();
        } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "upstreams." + upstream + ".tls: cannot load the certificates: " + e.getMessage(), e);
        }
    }

    /** What the node speaks to this upstream's servers. */
    public UpstreamConfig.Protocol protocol() {
        return protocol;
    }

    /** The TLS context for connections to this upstream's servers, or null for plain HTTP. */
    public SslContext tls() {
        return tls;
    }

    /** A new TLS handler for a connection to {@code server}, sending SNI and checking the name. */
    public io.netty.handler.ssl.SslHandler newTlsHandler(
            io.netty.buffer.ByteBufAllocator alloc, UpstreamServer server) {
        return tls.newHandler(
                alloc, sni.orElse(server.address().host()), server.address().port());
    }

    public String name() {
        return name;
    }

    public String balance() {
        return balance;
    }

    /** {@code client_ip}, {@code header:NAME} or {@code cookie:NAME}; used by the hashing policies. */
    public String hashOn() {
        return hashOn;
    }

    /** {@link #hashOn()}, parsed once. */
    public HashKey hashKey() {
        return hashKey;
    }

    /** Whether the policy uses a request key at all (so requests need not compute one otherwise). */
    public boolean hashes() {
        return balance.equals("ring_hash") || balance.equals("maglev");
    }

    public List<UpstreamServer> servers() {
        return servers;
    }

    public PoolConfig pool() {
        return pool;
    }

    public HealthConfig health() {
        return health;
    }

    /** The sticky-session cookie's name, when the upstream keeps clients on one server. */
    public java.util.Optional<String> stickyCookie() {
        return stickyCookie;
    }

    /** Looks up a server by its address as written in the config ({@code host:port}); null if none. */
    public UpstreamServer server(String address) {
        for (UpstreamServer server : servers) {
            if (server.address().toString().equals(address)) {
                return server;
            }
        }
        return null;
    }

    /**
     * Passive health: a failed attempt (connect error, reset, timeout, a configured 5xx). Enough
     * consecutive failures eject the server, unless that would put more than max_ejected_percent of
     * the pool out at once, so a bad deploy cannot empty the pool.
     */
    public void failed(UpstreamServer server) {
        int consecutive = server.recordFailure();
        HealthConfig.Passive passive = health.passive();
        if (passive.failures() == 0 || consecutive < passive.failures() || server.ejected()) {
            return;
        }
        long ejectedNow = servers.stream().filter(UpstreamServer::ejected).count();
        if ((ejectedNow + 1) * 100 > (long) passive.maxEjectedPercent() * servers.size()) {
            return;
        }
        server.eject(passive.ejection().toNanos());
        HealthRegistry fleet = sharedHealth;
        if (fleet != null) {
            // The fleet hears of it too; the server's probers bring it back when it answers again.
            fleet.reportFailure(server.backendId(), consecutive + " consecutive failed requests");
        }
        LOG.warning(() -> "ejected " + server + " after " + consecutive + " consecutive failures (ejection "
                + server.ejections() + ")");
    }

    private volatile HealthRegistry sharedHealth;

    /** In a fleet with active checks: passive ejections are reported to the fleet's health registry. */
    public void sharedHealth(HealthRegistry registry) {
        this.sharedHealth = registry;
    }

    /** Passive health: a good response resets the failure count. */
    public void succeeded(UpstreamServer server) {
        server.recordSuccess();
    }

    /** Takes a request slot; false (and nothing taken) when max_requests are already in flight. */
    public boolean tryBeginRequest() {
        if (inFlight.incrementAndGet() > health.circuit().maxRequests()) {
            inFlight.decrementAndGet();
            return false;
        }
        return true;
    }

    public void endRequest() {
        inFlight.decrementAndGet();
    }

    /**
     * Takes a slot to open a new connection: false when max_pending requests already wait for one,
     * or the upstream already has max_connections open.
     */
    public boolean tryBeginConnect() {
        long open = 0;
        for (UpstreamServer server : servers) {
            open += server.openConnections();
        }
        if (open >= health.circuit().maxConnections()) {
            return false;
        }
        if (pending.incrementAndGet() > health.circuit().maxPending()) {
            pending.decrementAndGet();
            return false;
        }
        return true;
    }

    public void endConnect() {
        pending.decrementAndGet();
    }

    public int inFlight() {
        return inFlight.get();
    }

    /**
     * Takes a retry slot within the budget: retries in flight at most retry_budget_percent of the
     * requests in flight, but always min_retries. Without a slot the request fails as it is.
     */
    public boolean tryBeginRetry() {
        HealthConfig.Circuit circuit = health.circuit();
        int allowed = Math.max(circuit.minRetries(), inFlight.get() * circuit.retryBudgetPercent() / 100);
        if (retrying.incrementAndGet() > allowed) {
            retrying.decrementAndGet();
            return false;
        }
        return true;
    }

    public void endRetry() {
        retrying.decrementAndGet();
    }

    /** Whether a response status counts as a failure of the server for passive health. */
    public boolean failureStatus(int status) {
        return health.passive().failureStatuses().contains(status);
    }

    /** The balancer of {@code loop}, made on first use. */
    public LoopBalancer forLoop(EventLoop loop) {
        LoopBalancer existing = perLoop.get(loop);
        return existing != null
                ? existing
                : perLoop.computeIfAbsent(loop, l -> {
                    List<LoopServer> views = new ArrayList<>(servers.size());
                    for (UpstreamServer server : servers) {
                        views.add(new LoopServer(server, health.slowStart().toNanos()));
                    }
                    return new LoopBalancer(factory.newBalancer(views), List.copyOf(views));
                });
    }
}
