package io.flotilla.node.tls;

import io.flotilla.cluster.tickets.TicketKeyRing;
import io.flotilla.cluster.tickets.TicketKeySet;
import io.flotilla.node.config.ListenerTlsConfig;
import io.flotilla.node.tlsfiles.PemFiles;
import io.flotilla.node.tlsfiles.TicketKeys;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * TLS termination for one listener: a server context per certificate, picked by SNI, built from the
 * files in its config and rebuilt when they change or a reload brings new ones. Every connection takes
 * the snapshot in force when it is accepted, so a swap changes new handshakes only and an open
 * connection keeps the context it started with.
 *
 * <p>With {@code session_tickets: {fleet: true}} the ticket keys are the fleet's ({@link TicketKeyRing}):
 * every context takes the fleet's generation when it is built and again whenever the fleet rotates,
 * and this listener's watcher rotates the fleet's keys when they are older than {@code rotate_every}
 * (whichever node finds them due first; the others follow).
 */
public final class ServerTls implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ServerTls.class.getName());

    /** TLS 1.2 and 1.3 only (issue 4). */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /**
     * Mozilla's "intermediate" profile (v5.7) less its DHE suites: AEAD ciphers with ECDHE only, in the
     * order the server prefers for TLS 1.2 (TLS 1.3 suites are all strong; BoringSSL picks among them).
     */
    static final List<String> CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    /** Key exchange groups, X25519 first. The JDK's default order already starts with x25519. */
    static final String[] GROUPS = {"X25519", "P-256", "P-384"};

    /** How often the age of the fleet's ticket keys is looked at (a local read until they are due). */
    private static final long ROTATION_CHECK_MILLIS = 1_000;

    private final String listener;
    private final SslProvider provider;
    private final TicketKeyRing tickets;
    private Runnable stopFollowing = () -> {};
    private ScheduledFuture<?> rotation;
    /** The protocols offered by ALPN, the server's preference first. */
    private final List<String> alpn;

    private volatile ListenerTlsConfig config;
    private volatile Snapshot current;
    private volatile byte[] lastFailed;
    private ScheduledFuture<?> watch;

    /**
     * What connections accepted now use; immutable. {@code only} is the context when there is just one
     * certificate (no SNI choice to make), else null.
     */
    private record Snapshot(
            Mapping<String, SslContext> contexts,
            SslContext only,
            Map<SslContext, byte[]> ocsp,
            List<SslContext> all,
            byte[] fingerprint) {}

    private ServerTls(
            String listener,
            SslProvider provider,
            List<String> alpn,
            ListenerTlsConfig config,
            TicketKeyRing tickets,
            Snapshot first) {
        this.listener = listener;
        this.provider = provider;
        this.alpn = alpn;
        this.config = config;
        this.tickets = tickets;
        this.current = first;
    }

    /**
     * Builds the contexts of a listener, offering {@code h2} before {@code http/1.1} by ALPN (RFC 9113
     * §3.2) when {@code http2} is set, with session-ticket keys from {@code tickets} when the config
     * asks for the fleet's, and, if {@code check_every} is set, checks its files on {@code watcher}
     * (never an event loop: reading files and building contexts block).
     *
     * @throws IllegalArgumentException when a file does not load or a forced provider is missing
     */
    public static ServerTls start(
            String listener,
            ListenerTlsConfig config,
            ScheduledExecutorService watcher,
            boolean http2,
            TicketKeyRing tickets) {
        SslProvider provider = provider(config.provider());
        List<String> alpn = http2
                ? List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)
                : List.of(ApplicationProtocolNames.HTTP_1_1);
        ServerTls tls =
                new ServerTls(listener, provider, alpn, config, tickets, build(provider, alpn, config, tickets));
        LOG.info(() -> "listener " + listener + ": TLS by " + tls.providerName() + ", "
                + config.certificates().size() + " certificate(s)"
                + (config.sessionTickets().isPresent() ? ", shared session-ticket keys" : ""));
        if (config.sessionTickets().isPresent() && provider == SslProvider.JDK) {
            LOG.warning(() -> "listener " + listener + ": the JDK provider cannot take session-ticket keys; "
                    + "sessions resume only on the node that issued them");
        }
        if (config.certificates().stream().anyMatch(c -> c.ocspResponse().isPresent()) && provider == SslProvider.JDK) {
            LOG.warning(() -> "listener " + listener + ": the JDK provider does not staple ocsp_response files");
        }
        if (!config.checkEvery().isZero()) {
            long every = config.checkEvery().toMillis();
            tls.watch = watcher.scheduleWithFixedDelay(tls::refreshQuietly, every, every, TimeUnit.MILLISECONDS);
        }
        if (provider != SslProvider.JDK) {
            tls.stopFollowing = tickets.onChange(tls::takeFleetKeys);
            tls.rotation = watcher.scheduleWithFixedDelay(
                    tls::rotateFleetKeysIfDue, ROTATION_CHECK_MILLIS, ROTATION_CHECK_MILLIS, TimeUnit.MILLISECONDS);
        }
        return tls;
    }

    /** The fleet's new generation into every context, if this listener uses the fleet's keys. */
    private void takeFleetKeys(TicketKeySet set) {
        if (!usesFleetKeys(config)) {
            return;
        }
        OpenSslSessionTicketKey[] keys = openSslKeys(set.keys()).toArray(OpenSslSessionTicketKey[]::new);
        for (SslContext context : current.all()) {
            if (context.sessionContext() instanceof OpenSslSessionContext sessions) {
                sessions.setTicketKeys(keys);
            }
        }
        LOG.info(() -> "listener " + listener + ": fleet session-ticket keys version " + set.version()
                + ", new tickets under key " + set.names().get(0));
    }

    private void rotateFleetKeysIfDue() {
        ListenerTlsConfig config = this.config;
        if (!usesFleetKeys(config)) {
            return;
        }
        try {
            tickets.rotateIfOlderThan(config.sessionTickets().get().rotateEvery(), System.currentTimeMillis());
        } catch (RuntimeException e) {
            LOG.warning(() -> "listener " + listener + ": rotating the fleet's session-ticket keys failed: " + e);
        }
    }

    private static boolean usesFleetKeys(ListenerTlsConfig config) {
        return config.sessionTickets()
                .map(ListenerTlsConfig.SessionTickets::fleet)
                .orElse(false);
    }

    private static SslProvider provider(ListenerTlsConfig.Provider wanted) {
        return switch (wanted) {
            case JDK -> SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new IllegalArgumentException(
                            "provider: openssl is set but OpenSSL does not load: " + OpenSsl.unavailabilityCause());
                }
                yield SslProvider.OPENSSL;
            }
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    /** "OpenSSL (BoringSSL)" or "JDK", as the startup log says. */
    public String providerName() {
        return provider == SslProvider.JDK ? "JDK" : "OpenSSL (" + OpenSsl.versionString() + ")";
    }

    /**
     * A new connection's TLS handler. With several certificates it is an SNI handler that reads the
     * ClientHello, picks the certificate and replaces itself with the {@link SslHandler}; with one there
     * is nothing to pick, so the {@link SslHandler} comes at once, which spares every handshake a parse
     * of the ClientHello in Java and a pipeline change. Either way the handshake must start (SNI) or
     * finish (one certificate) within {@code handshakeTimeoutMillis}.
     */
    public ChannelHandler newHandler(ByteBufAllocator allocator, long handshakeTimeoutMillis) {
        Snapshot snapshot = current;
        if (snapshot.only() != null) {
            SslHandler handler =
                    configure(snapshot, snapshot.only(), snapshot.only().newHandler(allocator));
            handler.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
            return handler;
        }
        return new SniHandler(snapshot.contexts(), handshakeTimeoutMillis) {
            @Override
            protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
                return configure(snapshot, context, super.newSslHandler(context, allocator));
            }
        };
    }

    private SslHandler configure(Snapshot snapshot, SslContext context, SslHandler handler) {
        SSLEngine engine = handler.engine();
        byte[] staple = snapshot.ocsp().get(context);
        if (staple != null && engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            openSsl.setOcspResponse(staple);
        }
        if (provider == SslProvider.JDK) {
            // OpenSSL contexts prefer the server's order already; the JDK's engine must be told.
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setUseCipherSuitesOrder(true);
            engine.setSSLParameters(parameters);
        }
        return handler;
    }

    /**
     * Builds the contexts of a new config (a reload) without using them yet; the returned action swaps
     * them in. A reload prepares every listener first, so a file that does not load fails the reload
     * and leaves everything running as it was.
     */
    public Runnable prepare(ListenerTlsConfig next) {
        if (provider(next.provider()) != provider) {
            throw new IllegalArgumentException("listener " + listener + ": changing the TLS provider needs a restart");
        }
        Snapshot built = build(provider, alpn, next, tickets);
        return () -> {
            synchronized (this) {
                config = next;
                current = built;
                lastFailed = null;
            }
            takeFleetKeys(tickets.current()); // a rotation while it was built went to the old contexts
            LOG.info(() -> "listener " + listener + ": TLS certificates and keys reloaded with the config");
        };
    }

    /** Rebuilds when a file's content changed since the last build; false when nothing changed. */
    synchronized boolean refresh() {
        ListenerTlsConfig config = this.config;
        byte[] fingerprint = fingerprint(config);
        if (Arrays.equals(fingerprint, current.fingerprint()) || Arrays.equals(fingerprint, lastFailed)) {
            return false;
        }
        try {
            current = build(provider, alpn, config, tickets);
            lastFailed = null;
            takeFleetKeys(tickets.current());
            LOG.info(() -> "listener " + listener + ": TLS files changed; new handshakes use the new certificates");
            return true;
        } catch (IllegalArgumentException e) {
            // Half-written files (a cert copied before its key) land here; the next change is tried again.
            lastFailed = fingerprint;
            LOG.warning(() -> "listener " + listener + ": changed TLS files do not load, keeping the running ones: "
                    + e.getMessage());
            return false;
        }
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            LOG.warning(() -> "listener " + listener + ": checking TLS files failed: " + e);
        }
    }

    private static Snapshot build(
            SslProvider provider, List<String> alpn, ListenerTlsConfig config, TicketKeyRing tickets) {
        // Taken before reading, so a file that changes while we build differs from it at the next check.
        byte[] fingerprint = fingerprint(config);
        List<OpenSslSessionTicketKey> ticketKeys = ticketKeys(config, tickets);
        Map<SslContext, byte[]> ocsp = new IdentityHashMap<>();
        List<SslContext> all = new ArrayList<>();
        DomainWildcardMappingBuilder<SslContext> mapping = null;
        SslContext first = null;
        for (ListenerTlsConfig.Certificate certificate : config.certificates()) {
            List<X509Certificate> chain = PemFiles.certificates(certificate.cert());
            PrivateKey key = PemFiles.privateKey(certificate.key());
            PemFiles.checkPair(chain.get(0), key, certificate.key());
            SslContext context = context(
                    provider, alpn, chain, key, certificate.ocspResponse().isPresent(), ticketKeys);
            certificate.ocspResponse().ifPresent(file -> ocsp.put(context, read(file)));
            all.add(context);
            if (mapping == null) {
                mapping = new DomainWildcardMappingBuilder<>(context); // the first is the default
                first = context;
            }
            List<String> names = certificate.names().isEmpty() ? PemFiles.dnsNames(chain.get(0)) : certificate.names();
            for (String name : names) {
                mapping.add(name, context);
            }
        }
        if (mapping == null) {
            throw new IllegalArgumentException("no certificate");
        }
        return new Snapshot(
                mapping.build(), config.certificates().size() == 1 ? first : null, ocsp, List.copyOf(all), fingerprint);
    }

    private static SslContext context(
            SslProvider provider,
            List<String> alpn,
            List<X509Certificate> chain,
            PrivateKey key,
            boolean staple,
            List<OpenSslSessionTicketKey> ticketKeys) {
        SslContextBuilder builder = SslContextBuilder.forServer(keyManagers(provider, chain, key))
                .sslProvider(provider)
                .protocols(PROTOCOLS)
                .ciphers(CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        alpn));
        if (provider != SslProvider.JDK) {
            builder.option(OpenSslContextOption.GROUPS, GROUPS);
            builder.enableOcsp(staple && OpenSsl.isOcspSupported());
        }
        try {
            SslContext context = builder.build();
            if (!ticketKeys.isEmpty() && context.sessionContext() instanceof OpenSslSessionContext sessions) {
                sessions.setTicketKeys(ticketKeys.toArray(OpenSslSessionTicketKey[]::new));
            }
            return context;
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot build a TLS context for "
                    + chain.get(0).getSubjectX500Principal().getName() + ": " + e.getMessage());
        }
    }

    /**
     * The key and chain as a key manager. For OpenSSL it is the caching one: given a bare key, Netty
     * encodes and parses the key material again on every handshake, which cost most of a handshake.
     */
    private static KeyManagerFactory keyManagers(SslProvider provider, List<X509Certificate> chain, PrivateKey key) {
        try {
            char[] password = new char[0];
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", key, password, chain.toArray(X509Certificate[]::new));
            KeyManagerFactory base = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            KeyManagerFactory factory =
                    provider == SslProvider.JDK ? base : new OpenSslCachingX509KeyManagerFactory(base);
            factory.init(store, password);
            return factory;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot hold the key of "
                    + chain.get(0).getSubjectX500Principal().getName() + ": " + e.getMessage());
        }
    }

    private static List<OpenSslSessionTicketKey> ticketKeys(ListenerTlsConfig config, TicketKeyRing ring) {
        if (config.sessionTickets().isEmpty()) {
            return List.of();
        }
        ListenerTlsConfig.SessionTickets tickets = config.sessionTickets().get();
        if (tickets.fleet()) {
            return openSslKeys(ring.current().keys());
        }
        List<String> encoded =
                tickets.file().isPresent() ? TicketKeys.lines(tickets.file().get()) : tickets.keys();
        return openSslKeys(TicketKeys.decode(encoded));
    }

    /** 48-byte keys as OpenSSL's (name, HMAC key, AES key). */
    private static List<OpenSslSessionTicketKey> openSslKeys(List<byte[]> raw) {
        List<OpenSslSessionTicketKey> keys = new ArrayList<>(raw.size());
        for (byte[] key : raw) {
            keys.add(new OpenSslSessionTicketKey(
                    Arrays.copyOfRange(key, 0, 16), Arrays.copyOfRange(key, 16, 32), Arrays.copyOfRange(key, 32, 48)));
        }
        return keys;
    }

    /** SHA-256 over every file the contexts are built from; a missing file counts as a distinct state. */
    private static byte[] fingerprint(ListenerTlsConfig config) {
        List<Path> files = new ArrayList<>();
        for (ListenerTlsConfig.Certificate certificate : config.certificates()) {
            files.add(certificate.cert());
            files.add(certificate.key());
            certificate.ocspResponse().ifPresent(files::add);
        }
        config.sessionTickets().flatMap(ListenerTlsConfig.SessionTickets::file).ifPresent(files::add);
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Path file : files) {
                digest.update(file.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                try {
                    digest.update(Files.readAllBytes(file));
                } catch (NoSuchFileException e) {
                    digest.update((byte) 0);
                } catch (IOException e) {
                    digest.update((byte) 1);
                }
            }
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** The {@code Strict-Transport-Security} value of the config in force, if any. */
    public Optional<String> hsts() {
        return config.hsts();
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.cancel(false);
        }
        if (rotation != null) {
            rotation.cancel(false);
        }
        stopFollowing.run();
    }
}
