package io.flotilla.node.testing;

import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * TLS from the JDK's client to a node on loopback, trusting any certificate (the tests check which one
 * came, not who signed it), and throwaway certificates written where a config can name them.
 */
public final class TlsClient {
    private TlsClient() {}

    /**
     * A handshaken connection. Each has a fresh client context, so nothing is resumed from another test.
     *
     * @param sni the server name to send, or null for none
     */
    public static SSLSocket connect(int port, String sni, String... alpn) throws IOException {
        SSLContext context;
        try {
            context = SSLContext.getInstance("TLS");
            context.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
        if (alpn.length > 0) {
            parameters.setApplicationProtocols(alpn);
        }
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return socket;
    }

    /** The CN of the certificate the server presented on {@code socket}. */
    public static String peerName(SSLSocket socket) throws IOException {
        X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
        return leaf.getSubjectX500Principal().getName().replaceFirst("^CN=", "");
    }

    /** A certificate and its PKCS#8 key, as PEM files under a directory of the test. */
    public record CertFiles(Path cert, Path key) {
        /** Writes a new self-signed certificate for {@code cn} (EC P-256 or RSA 2048) over these files. */
        @SuppressWarnings("deprecation") // SelfSignedCertificate: fine for throwaway test certificates
        public CertFiles write(String cn, boolean ec) throws IOException {
            SelfSignedCertificate generated;
            try {
                generated = ec ? new SelfSignedCertificate(cn, "EC", 256) : new SelfSignedCertificate(cn, "RSA", 2048);
            } catch (java.security.cert.CertificateException e) {
                throw new IOException(e);
            }
            try {
                // Key first, then the certificate by rename: a watcher sees either the old pair, a
                // mismatched pair it refuses, or the new pair, never a half-written file.
                replace(generated.privateKey().toPath(), key);
                replace(generated.certificate().toPath(), cert);
            } finally {
                generated.delete();
            }
            return this;
        }

        private static void replace(Path from, Path to) throws IOException {
            Path temp = to.resolveSibling(to.getFileName() + ".tmp");
            Files.copy(from, temp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(temp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }

        /** The YAML of one certificate entry. */
        public String yaml() {
            return "{cert: " + cert + ", key: " + key + "}";
        }
    }

    /** New files {@code name.pem} and {@code name.key} in {@code dir} holding a certificate for {@code cn}. */
    public static CertFiles certificate(Path dir, String name, String cn, boolean ec) throws IOException {
        return new CertFiles(dir.resolve(name + ".pem"), dir.resolve(name + ".key")).write(cn, ec);
    }
}
