package io.flotilla.cluster.hazelcast;

import com.hazelcast.nio.MemberSocketInterceptor;
import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.cluster.security.Outsiders;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Properties;

/**
 * The shared-state port's door: before Hazelcast's own protocol starts on a connection, both ends
 * prove they hold the fleet key, with a challenge bound to that connection. A stock Hazelcast member
 * or client (which speaks Hazelcast's protocol at once) and anything without the key is cut off
 * before it can join, send an operation, or read a byte.
 *
 * <p>The exchange, all fixed sizes: the connecting side sends {@code MAGIC | nonceC(32)}; the
 * accepting side answers {@code MAGIC | nonceA(32) | proofA}; the connecting side checks proofA and
 * sends {@code proofC}. A proof is a GCM tag with no plaintext ({@link FleetKeys#seal} of nothing)
 * over the role, the fleet's name and both nonces, under a key derived for this purpose: fresh nonces
 * on both sides make a recorded exchange useless on another connection, and the opening side tries
 * every configured key, so a rotation works as for values and gossip.
 *
 * <p>Hazelcast calls this through its socket-interceptor hook (Enterprise's config feature; the
 * open-source member only lacks a way to configure one, which {@link GatedNodeContext} supplies), in
 * blocking mode, off its I/O threads, before the connection is registered. What it does not do:
 * encrypt the traffic that follows (values are sealed instead, see docs/DESIGN.md).
 */
final class MemberGate implements MemberSocketInterceptor {

  private static final byte[] MAGIC = "flotilla-gate/1\n".getBytes(StandardCharsets.US_ASCII);
  private static final int NONCE_BYTES = 32;
  private static final int PROOF_BYTES = FleetKeys.OVERHEAD;
  private static final int TIMEOUT_MS = 5_000;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] NOTHING = new byte[0];

  private final FleetKeys keys;
  private final String fleet;
  private final Outsiders outsiders;

  MemberGate(FleetKeys fleetKeys, String fleet, Outsiders outsiders) {
    this.keys = fleetKeys.derive("member gate");
    this.fleet = fleet;
    this.outsiders = outsiders;
  }

  @Override
  public void init(Properties properties) {
  }

  /** The socket's streams for the handshake, with a read timeout until {@link #done}. */
  private record Wire(Socket socket, DataInputStream in, OutputStream out, int timeout) {
    static Wire of(Socket socket) throws IOException {
      Wire w = new Wire(socket, new DataInputStream(socket.getInputStream()), socket.getOutputStream(),
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

  @Override
  public void onConnect(Socket socket) throws IOException {
    Wire w = Wire.of(socket);
    DataInputStream in = w.in();
    byte[] nonceC = nonce();
    w.send(concat(MAGIC, nonceC));
    byte[] magic = read(in, MAGIC.length, socket);
    byte[] nonceA = read(in, NONCE_BYTES, socket);
    byte[] proofA = read(in, PROOF_BYTES, socket);
    if (!Arrays.equals(MAGIC, magic) || keys.open(proofA, aad("accept", nonceC, nonceA)) == null) {
      throw refuse(socket, "it did not prove the fleet key when we connected");
    }
    w.send(keys.seal(NOTHING, aad("connect", nonceC, nonceA)));
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
    byte[] nonceA = nonce();
    w.send(concat(MAGIC, nonceA, keys.seal(NOTHING, aad("accept", nonceC, nonceA))));
    byte[] proofC = read(in, PROOF_BYTES, socket);
    if (keys.open(proofC, aad("connect", nonceC, nonceA)) == null) {
      throw refuse(socket, "it did not prove the fleet key");
    }
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

  private byte[] aad(String role, byte[] nonceC, byte[] nonceA) {
    return FleetKeys.aad("flotilla member gate", role, fleet, HexFormat.of().formatHex(nonceC),
        HexFormat.of().formatHex(nonceA));
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
