package io.flotilla.node.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * TLS to an upstream's servers (end-to-end encryption).
 *
 * @param ca     PEM bundle of trusted CAs; absent = the JVM's default trust store
 * @param verify check the server's certificate chain and that it names the server (SNI name)
 * @param sni    the name sent as SNI and checked in the certificate; absent = the server's host
 * @param cert   client certificate chain (PEM) for mutual TLS; with {@code key}
 * @param key    the client certificate's private key (PKCS#8 PEM)
 */
public record UpstreamTlsConfig(
        Optional<Path> ca, boolean verify, Optional<String> sni, Optional<Path> cert, Optional<Path> key) {}
