package io.flotilla.cluster.membership;

import io.flotilla.cluster.Listeners;
import java.util.List;
import java.util.function.Consumer;

/** The view of a lone node: itself, in the state it last set. */
final class LocalMembership implements Membership {

    private final String id;
    private final Listeners<List<Member>> listeners = new Listeners<>("membership");
    private volatile Member self;

    LocalMembership(String id) {
        this.id = id;
        this.self = new Member(id, "", MemberState.SERVING);
    }

    @Override
    public Member self() {
        return self;
    }

    @Override
    public List<Member> members() {
        return List.of(self);
    }

    @Override
    public void setState(MemberState state) {
        self = new Member(id, "", state);
        listeners.fire(members());
    }

    @Override
    public Runnable onChange(Consumer<List<Member>> listener) {
        return listeners.add(listener);
    }

    @Override
    public void close() {
        listeners.clear();
    }
}
