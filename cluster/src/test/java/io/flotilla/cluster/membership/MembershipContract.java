package io.flotilla.cluster.membership;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What every {@link Membership} must do; one subclass per implementation. */
public abstract class MembershipContract {

    /** The membership of a member of the fleet under test. */
    protected abstract Membership membership();

    /** Where a state change is read back: the same or another member. */
    protected abstract Membership reader();

    /** Members the fleet under test has. */
    protected abstract int size();

    @AfterEach
    void serveAgain() {
        membership().setState(MemberState.SERVING);
    }

    private Member selfAsSeenByReader() {
        String id = membership().self().id();
        return reader().members().stream()
                .filter(m -> m.id().equals(id))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void theViewHoldsEveryMemberOrderedById() {
        eventually(
                Duration.ofSeconds(10),
                () -> assertEquals(size(), membership().members().size()));
        List<Member> view = membership().members();
        assertTrue(view.contains(membership().self()));
        for (int i = 1; i < view.size(); i++) {
            assertTrue(view.get(i - 1).id().compareTo(view.get(i).id()) < 0);
        }
        assertEquals(MemberState.SERVING, membership().self().state());
    }

    @Test
    void aStateChangeReachesTheViewAndTheListeners() {
        List<List<Member>> heard = new CopyOnWriteArrayList<>();
        Runnable cancel = reader().onChange(heard::add);
        try {
            membership().setState(MemberState.DRAINING);
            assertEquals(MemberState.DRAINING, membership().self().state());
            eventually(
                    Duration.ofSeconds(5),
                    () -> assertEquals(
                            MemberState.DRAINING, selfAsSeenByReader().state()));
            eventually(
                    Duration.ofSeconds(5),
                    () -> assertTrue(heard.stream().anyMatch(v -> v.stream()
                            .anyMatch(m ->
                                    m.id().equals(membership().self().id()) && m.state() == MemberState.DRAINING))));
        } finally {
            cancel.run();
        }
    }
}
