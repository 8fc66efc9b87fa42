package io.flotilla.cluster.membership;

import java.util.List;
import java.util.function.Consumer;

/**
 * The live view of the fleet: who is alive and in which state. A member that stops answering
 * leaves the view within the failure-detection time; listeners hear of every change.
 */
public interface Membership extends AutoCloseable {

    /** A fleet of one: this node only, nothing on the network. */
    static Membership local(String id) {
        return new LocalMembership(id);
    }

    /** This node as the others see it. */
    Member self();

    /** Every live member including this one, ordered by id. */
    List<Member> members();

    /** This member's own gossip address, {@code host:port} as bound; empty for a fleet of one. */
    default String gossipAddress() {
        return "";
    }

    /** Says to every member that this node is now {@code state}. */
    void setState(MemberState state);

    /**
     * Calls {@code listener} with the new view after every change (join, leave, state change), on a
     * thread of the implementation's; returns what cancels the subscription.
     */
    Runnable onChange(Consumer<List<Member>> listener);

    @Override
    void close();
}
