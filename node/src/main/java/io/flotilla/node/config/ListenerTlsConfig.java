package io.flotilla.node.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * TLS termination on a listener (issue 4).
 *
 * @param certificates   at least one; chosen by the SNI name the client sends, the first is the default
 *                       (no SNI, or a name no certificate covers)
 * @param provider       which TLS implementation terminates: {@link Provider#AUTO} prefers OpenSSL
 * @param sessionTickets the fleet's shared ticket keys; absent = each node makes its own (resumption
 *                       then only works on the node that issued the ticket)
 * @param hsts           the {@code Strict-Transport-Security} value added to every response; absent = none
 * @param checkEvery     how often the certificate, key, OCSP and ticket-key files are checked for changes;
 *                       0 = only on reload
 */
public record ListenerTlsConfig(
        List<Certificate> certificates,
        Provider provider,
        Optional<SessionTickets> sessionTickets,
        Optional<String> hsts,
        Duration checkEvery) {
    public static final Duration DEFAULT_CHECK_EVERY = Duration.ofSeconds(5);

    public ListenerTlsConfig {
        certificates = List.copyOf(certificates);
    }

    /** Which TLS implementation to use. */
    public enum Provider {
        /** OpenSSL (BoringSSL through netty-tcnative) when it loads, else the JDK's. */
        AUTO,
        /** OpenSSL or fail to start. */
        OPENSSL,
        /** The JDK's provider, even where OpenSSL loads. */
        JDK
    }

    /**
     * One certificate chain and its key.
     *
     * @param cert         PEM chain, leaf first
     * @param key          the leaf's private key, PKCS#8 PEM (RSA or EC)
     * @param names        SNI names it serves ({@code *.example.com} covers one label); empty = the DNS
     *                     names of the certificate (its subject alternative names, else its CN), read
     *                     again whenever the file changes
     * @param ocspResponse a DER OCSP response to staple (OpenSSL only), refreshed like the certificate
     */
    public record Certificate(Path cert, Path key, List<String> names, Optional<Path> ocspResponse) {
        public Certificate {
            names = List.copyOf(names);
        }
    }

    /**
     * Session-ticket keys shared by the fleet: either the fleet's own ({@code fleet: true}: random keys
     * in the fleet state, rotated every {@code rotateEvery} by whichever node finds them due, every
     * node following at once), or keys the operator makes and distributes, as base64 of 48 bytes each
     * (16 name, 16 HMAC, 16 AES), the first encrypting new tickets and all of them accepted, so a key
     * can be rotated in on every node before it becomes the first.
     *
     * @param file        a file of such keys, one per line ({@code #} comments), re-read when it changes
     * @param keys        the keys written in the config instead
     * @param fleet       the fleet's keys instead of either
     * @param rotateEvery with {@code fleet}, the age at which the fleet's newest key is replaced
     */
    public record SessionTickets(Optional<Path> file, List<String> keys, boolean fleet, Duration rotateEvery) {
        /** Twelve hours, with three keys kept: a ticket resumes for 24 to 36 hours, as long as anything keeps it. */
        public static final Duration DEFAULT_ROTATE_EVERY = Duration.ofHours(12);

        public SessionTickets {
            keys = List.copyOf(keys);
        }

        /** Keys from a file or the config. */
        public SessionTickets(Optional<Path> file, List<String> keys) {
            this(file, keys, false, DEFAULT_ROTATE_EVERY);
        }

        /** The fleet's keys, rotated every {@code rotateEvery}. */
        public static SessionTickets ofFleet(Duration rotateEvery) {
            return new SessionTickets(Optional.empty(), List.of(), true, rotateEvery);
        }
    }
}
