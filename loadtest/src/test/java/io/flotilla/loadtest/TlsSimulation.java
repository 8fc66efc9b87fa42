package io.flotilla.loadtest;

import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;

/**
 * TLS termination ({@code -Dtarget=https://...}, default the front's TLS port 19101), three open-model
 * streams of 1 KiB responses at {@code -Drate} (default 100) requests per second each:
 * <ul>
 *   <li>{@code full handshake}: every request a new virtual user on a new connection with a TLS context
 *       of its own, so nothing can be resumed;</li>
 *   <li>{@code resumed handshake}: each virtual user makes one {@code first handshake} request, then
 *       {@code -Dresumptions} (4) more, each on a new connection that resumes the first one's session
 *       (the client offers its session ticket; the node decides);</li>
 *   <li>{@code HTTPS keep-alive}: connections kept alive and shared by every user.</li>
 * </ul>
 * Gatling trusts any certificate, so a self-signed one (loadtest/fleet.sh makes one) serves.
 */
public class TlsSimulation extends FlotillaSimulation {
    public TlsSimulation() {
        super("tls");
    }

    {
        double rate = Knobs.number("rate", 100);
        int resumptions = Knobs.integer("resumptions", 4);
        String target = Knobs.target();
        if (System.getProperty("target") == null) {
            target = "https://127.0.0.1:19101";
        }
        HttpProtocolBuilder ownContext = Knobs.http(target)
                .perUserKeyManagerFactory(user -> noClientCertificate())
                .connectionHeader("close");
        var full = scenario("full handshake")
                .exec(http("full handshake").get("/bytes/1024").check(status().is(200)))
                .injectOpen(Knobs.open(rate, Knobs.steady()))
                .protocols(ownContext);
        var resumed = scenario("resumed handshake")
                .exec(http("first handshake").get("/bytes/1024").check(status().is(200)))
                .repeat(resumptions)
                .on(http("resumed handshake").get("/bytes/1024").check(status().is(200)))
                .injectOpen(Knobs.open(rate / (resumptions + 1), Knobs.steady()))
                .protocols(ownContext);
        var keepAlive = scenario("HTTPS keep-alive")
                .exec(http("HTTPS keep-alive").get("/bytes/1024").check(status().is(200)))
                .injectOpen(Knobs.open(rate, Knobs.steady()))
                .protocols(Knobs.http(target).shareConnections());
        summary.line("3 streams at " + Knobs.perSecond(rate) + " each, " + resumptions + " resumptions per user, "
                + Knobs.steady().toSeconds() + " s, against " + target);
        setUp(full, resumed, keepAlive).assertions(Knobs.slo());
    }

    /** An empty key manager: the client presents no certificate, but gets a TLS context per virtual user. */
    private static KeyManagerFactory noClientCertificate() {
        try {
            KeyStore empty = KeyStore.getInstance(KeyStore.getDefaultType());
            empty.load(null, null);
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(empty, new char[0]);
            return factory;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
