package io.flotilla.cluster.jgroups;

import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.TCPPING;

/**
 * TCPPING that allows an OS-chosen transport port. JGroups refuses bind port 0 with a static peer
 * list, assuming the list names fixed ports; ours may name ports read back from running members
 * (tests, the demo), so the check does not apply. Peers can also be added at run time.
 */
final class PeerListPing extends TCPPING {

    /** Protocol ids below 1024 are JGroups' own; this one is ours alone. */
    static final short PROTOCOL_ID = 1701;

    static {
        ClassConfigurator.addProtocol(PROTOCOL_ID, PeerListPing.class);
    }

    @Override
    public boolean isDynamic() {
        return true;
    }
}
