package io.flotilla.cluster.jgroups;

import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.cluster.security.Outsiders;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Message;
import org.jgroups.stack.Protocol;
import org.jgroups.util.ByteArray;
import org.jgroups.util.FastArray;
import org.jgroups.util.MessageBatch;
import org.jgroups.util.Util;

/**
 * Seals every gossip message whole (headers, addresses and payload) with the fleet's gossip key, just
 * above the transport, and opens every message coming up; what does not open is dropped. So a process
 * without the key can neither read gossip nor be seen: its discovery requests, join requests and
 * heartbeats never reach a protocol above this one, and it never learns the fleet's members.
 *
 * <p>Why not JGroups's own SYM_ENCRYPT and AUTH: SYM_ENCRYPT defaults to AES-CBC without a MAC (the
 * ciphertext is malleable), takes one key (a member with another key version is dropped, so a key
 * cannot be rotated without a fleet-wide outage), and leaves discovery to AUTH, whose tokens prove
 * the secret only at join. Sealing with {@link FleetKeys} is authenticated (AES-GCM), covers every
 * message, and opens with every configured key, so rotation works the same way as for shared values.
 *
 * <p>Each sealed message carries the sender's clock; one older than {@link #MAX_AGE} is dropped, so a
 * recorded message cannot be replayed later (within that window, JGroups's own sequence numbers drop
 * duplicates of reliable messages). The associated data binds the fleet's name: a message of another
 * fleet with the same key does not open here.
 */
final class GossipSeal extends Protocol {

    static final Duration MAX_AGE = Duration.ofMinutes(2);

    private final FleetKeys keys;
    private final byte[] aad;
    private final Outsiders outsiders;

    GossipSeal(FleetKeys fleetKeys, String fleetName, Outsiders outsiders) {
        this.keys = fleetKeys.derive("gossip");
        this.aad = FleetKeys.aad("flotilla gossip", fleetName);
        this.outsiders = outsiders;
    }

    @Override
    public Object down(Message msg) {
        if (msg.getSrc() == null) {
            msg.setSrc(local_addr); // sealed inside, so the receiver's idea of the sender is authenticated
        }
        try {
            ByteArray inner = Util.messageToBuffer(msg);
            ByteBuffer plain = ByteBuffer.allocate(Long.BYTES + inner.getLength());
            plain.putLong(System.currentTimeMillis()).put(inner.getArray(), inner.getOffset(), inner.getLength());
            Message out = new BytesMessage(msg.getDest(), keys.seal(plain.array(), aad)).setSrc(msg.getSrc());
            out.setFlag(msg.getFlags(false), false);
            out.setFlag(msg.getFlags(true), true);
            return down_prot.down(out);
        } catch (Exception e) {
            throw new IllegalStateException("gossip message not sealed", e);
        }
    }

    @Override
    public Object up(Message msg) {
        Message opened = open(msg);
        return opened == null ? null : up_prot.up(opened);
    }

    @Override
    public void up(MessageBatch batch) {
        for (Iterator<Message> it = batch.iterator(); it.hasNext(); ) {
            Message opened = open(it.next());
            if (opened == null) {
                it.remove();
            } else {
                ((FastArray<Message>.FastIterator) it).replace(opened);
            }
        }
        if (!batch.isEmpty()) {
            up_prot.up(batch);
        }
    }

    private Message open(Message msg) {
        byte[] sealed = msg.getArray();
        if (sealed != null && (msg.getOffset() != 0 || msg.getLength() != sealed.length)) {
            sealed = Arrays.copyOfRange(sealed, msg.getOffset(), msg.getOffset() + msg.getLength());
        }
        byte[] plain = sealed == null ? keys.open(null, aad) : keys.open(sealed, aad);
        if (plain == null || plain.length < Long.BYTES) {
            rejectedFrom(msg.getSrc(), "does not open with the fleet key");
            return null;
        }
        long sent = ByteBuffer.wrap(plain).getLong();
        if (Math.abs(System.currentTimeMillis() - sent) > MAX_AGE.toMillis()) {
            rejectedFrom(
                    msg.getSrc(), "is " + (System.currentTimeMillis() - sent) + " ms old (replayed, or a clock off)");
            return null;
        }
        try {
            return Util.messageFromBuffer(plain, Long.BYTES, plain.length - Long.BYTES);
        } catch (Exception e) {
            rejectedFrom(msg.getSrc(), "opened but does not parse");
            return null;
        }
    }

    private void rejectedFrom(Address src, String why) {
        outsiders.refused(Outsiders.Kind.GOSSIP, "jgroups " + src, "the message " + why);
    }
}
