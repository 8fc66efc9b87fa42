package io.flotilla.cluster.hazelcast;

import com.hazelcast.nio.MemberSocketInterceptor;
import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.cluster.security.Outsiders;
import io.flotilla.cluster.security.RecordCipher;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;
import java.util.WeakHashMap;
import javax.crypto.KeyAgreement;

/**
 * The shared-state port's door: before Hazelcast's own protocol starts on a connection, both ends
 * prove they hold the fleet key, with a challenge bound to that connection, and agree on keys that
 * encrypt everything the connection carries afterwards ({@link RecordCipher}, installed by
 * {@link GatedNodeContext}). A stock Hazelcast member or client (which speaks Hazelcast's protocol at
 * once) and anything without the key is cut off before it can join, send an operation, or read a byte.
 *
 * <p>The exchange, all fixed sizes: the connecting side sends {@code MAGIC | nonceC(32) | pubC}; the
 * accepting side answers {@code MAGIC | nonceA(32) | pubA | proofA}; the connecting side checks proofA
 * and sends {@code proofC}. {@code pub} are ephemeral X25519 keys; a proof is a GCM tag with no
 * plaintext ({@link FleetKeys#seal} of nothing) over the role, the fleet's name, both nonces and both
 * public keys, under a key derived for this purpose. Fresh nonces make a recorded exchange useless on
 * another connection; the proofs bind the X25519 keys, so nobody in the middle can substitute their
 * own; the stream keys come from the X25519 secret, so a key stolen later does not decrypt recorded
 * traffic. The opening side tries every configured fleet key, so a rotation works as for values and
 * gossip.
 *
 * <p>Hazelcast calls this through its socket-interceptor hook (Enterprise's config feature; the
 * open-source member only lacks a way to configure one, which {@link GatedNodeContext} supplies), in
 * blocking mode, off its I/O threads, before the connection is registered.
 */
final class MemberGate implements MemberSocketInterceptor {

    private static final byte[] MAGIC = "flotilla-gate/1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int NONCE_BYTES = 32;
    private static final int PROOF_BYTES = FleetKeys.OVERHEAD;
    private static final int PUBLIC_KEY_BYTES = 44; // X25519, X.509 encoded
    private static final int TIMEOUT_MS = 5_000;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] NOTHING = new byte[0];

    private final FleetKeys keys;
    private final String fleet;
    private final Outsiders outsiders;
    /** Stream ciphers of connections that passed, until their channel takes them ({@link #take}). */
    private final Map<Socket, RecordCipher[]> sessions = Collections.synchronizedMap(new WeakHashMap<>());

    MemberGate(FleetKeys fleetKeys, String fleet, Outsiders outsiders) {
        this.keys = fleetKeys.derive("member gate");
        this.fleet = fleet;
        this.outsiders = outsiders;
    }

    @Override
    public void init(Properties properties) {}

    /** The socket's streams for the handshake, with a read timeout until {@link #done}. */
    private record Wire(Socket socket, DataInputStream in, OutputStream out, int timeout) {
        static Wire of(Socket socket) throws IOException {
            Wire w = new Wire(
                    socket,
                    new DataInputStream(socket.getInputStream()),
                    socket.getOutputStream(),
                    socket.getSoTimeout());
            socket.setSoTimeout(TIMEOUT_MS); // a peer that stalls must not hold Hazelcast's thread for long
            return w;
        }

        void send(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        void done() throws IOException {
            socket.setSoTimeout(timeout);
        }
    }

    /** The stream ciphers (send, receive) agreed on {@code socket}'s handshake, once; null if it had none. */
    RecordCipher[] take(Socket socket) {
        return sessions.remove(socket);
    }

    @Override
    public void onConnect(Socket socket) throws IOException {
        Wire w = Wire.of(socket);
        DataInputStream in = w.in();
        byte[] nonceC = nonce();
        KeyPair mine = X25519.generate();
        byte[] pubC = mine.getPublic().getEncoded();
        w.send(concat(MAGIC, nonceC, pubC));
        byte[] magic = read(in, MAGIC.length, socket);
        byte[] nonceA = read(in, NONCE_BYTES, socket);
        byte[] pubA = read(in, PUBLIC_KEY_BYTES, socket);
        byte[] proofA = read(in, PROOF_BYTES, socket);
        byte[] transcript = concat(nonceC, nonceA, pubC, pubA);
        if (!Arrays.equals(MAGIC, magic) || keys.open(proofA, aad("accept", transcript)) == null) {
            throw refuse(socket, "it did not prove the fleet key when we connected");
        }
        w.send(keys.seal(NOTHING, aad("connect", transcript)));
        sessions.put(socket, RecordCipher.session(X25519.agree(mine, pubA), transcript, true));
        w.done();
    }

    @Override
    public void onAccept(Socket socket) throws IOException {
        Wire w = Wire.of(socket);
        DataInputStream in = w.in();
        byte[] magic = read(in, MAGIC.length, socket);
        if (!Arrays.equals(MAGIC, magic)) {
            throw refuse(socket, "it does not speak the fleet's handshake (a stock Hazelcast member or client?)");
        }
        byte[] nonceC = read(in, NONCE_BYTES, socket);
        byte[] pubC = read(in, PUBLIC_KEY_BYTES, socket);
        byte[] nonceA = nonce();
        KeyPair mine = X25519.generate();
        byte[] pubA = mine.getPublic().getEncoded();
        byte[] transcript = concat(nonceC, nonceA, pubC, pubA);
        w.send(concat(MAGIC, nonceA, pubA, keys.seal(NOTHING, aad("accept", transcript))));
        byte[] proofC = read(in, PROOF_BYTES, socket);
        if (keys.open(proofC, aad("connect", transcript)) == null) {
            throw refuse(socket, "it did not prove the fleet key");
        }
        byte[] shared;
        try {
            shared = X25519.agree(mine, pubC);
        } catch (IOException e) {
            throw refuse(socket, e.getMessage());
        }
        sessions.put(socket, RecordCipher.session(shared, transcript, false));
        w.done();
    }

    private byte[] read(DataInputStream in, int n, Socket socket) throws IOException {
        byte[] b = new byte[n];
        try {
            in.readFully(b);
            return b;
        } catch (IOException e) {
            throw refuse(socket, "it closed or stalled during the fleet's handshake (" + e.getMessage() + ")");
        }
    }

    private IOException refuse(Socket socket, String why) {
        outsiders.refused(Outsiders.Kind.MEMBER, String.valueOf(socket.getRemoteSocketAddress()), why);
        return new IOException("flotilla: connection refused by the member gate: " + why);
    }

    private byte[] aad(String role, byte[] transcript) {
        return FleetKeys.aad("flotilla member gate", role, fleet, HexFormat.of().formatHex(transcript));
    }

    /** Ephemeral X25519 (RFC 7748) from the JDK: a key pair per handshake, and the shared secret. */
    private static final class X25519 {
        static KeyPair generate() throws IOException {
            try {
                return KeyPairGenerator.getInstance("X25519").generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IOException("X25519 is not available in this JVM", e);
            }
        }

        static byte[] agree(KeyPair mine, byte[] theirEncoded) throws IOException {
            try {
                PublicKey theirs =
                        KeyFactory.getInstance("X25519").generatePublic(new X509EncodedKeySpec(theirEncoded));
                KeyAgreement ka = KeyAgreement.getInstance("X25519");
                ka.init(mine.getPrivate());
                ka.doPhase(theirs, true);
                return ka.generateSecret();
            } catch (GeneralSecurityException e) {
                throw new IOException("the peer's X25519 key is not valid: " + e.getMessage(), e);
            }
        }
    }

    private static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    private static byte[] concat(byte[]... parts) {
        int size = 0;
        for (byte[] p : parts) {
            size += p.length;
        }
        byte[] out = new byte[size];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
