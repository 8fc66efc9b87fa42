package io.flotilla.cluster.membership;

import org.junit.jupiter.api.AfterAll;

class LocalMembershipTest extends MembershipContract {

    private static final Membership SOLO = Membership.local("solo");

    @AfterAll
    static void closeIt() {
        SOLO.close();
    }

    @Override
    protected Membership membership() {
        return SOLO;
    }

    @Override
    protected Membership reader() {
        return SOLO;
    }

    @Override
    protected int size() {
        return 1;
    }
}
