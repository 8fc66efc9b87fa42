package io.flotilla.cluster.hazelcast;

import io.flotilla.cluster.membership.Membership;
import io.flotilla.cluster.membership.MembershipContract;
import org.junit.jupiter.api.extension.ExtendWith;

/** The membership contract on the JGroups gossip of a two-member fleet: a's state as b sees it. */
@ExtendWith(SharedPair.class)
class GossipMembershipTest extends MembershipContract {

    @Override
    protected Membership membership() {
        return SharedPair.pair().get(0).membership();
    }

    @Override
    protected Membership reader() {
        return SharedPair.pair().get(1).membership();
    }

    @Override
    protected int size() {
        return 2;
    }
}
