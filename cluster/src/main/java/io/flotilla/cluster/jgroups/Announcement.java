package io.flotilla.cluster.jgroups;

import io.flotilla.cluster.membership.Member;
import io.flotilla.cluster.membership.MemberState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What a member says about itself on the channel. Hand-written, versioned bytes: a format byte
 * first, so a later format can be told apart and an unknown one ignored rather than misread.
 */
final class Announcement {

    static final byte FORMAT_1 = 1;

    private Announcement() {}

    static byte[] encode(Member m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT_1);
            out.writeUTF(m.id());
            out.writeUTF(m.address());
            out.writeByte(m.state().ordinal());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The member announced, or null for a format this version does not know. */
    static Member decode(byte[] data, int offset, int length) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data, offset, length))) {
            if (in.readByte() != FORMAT_1) {
                return null;
            }
            String id = in.readUTF();
            String address = in.readUTF();
            int state = in.readByte();
            MemberState[] states = MemberState.values();
            return new Member(id, address, state >= 0 && state < states.length ? states[state] : MemberState.SERVING);
        } catch (IOException e) {
            return null;
        }
    }
}
