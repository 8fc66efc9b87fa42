package io.flotilla.cluster.membership;

import java.util.Objects;

/**
 * One live member of the fleet as this node last heard of it.
 *
 * @param id      the member's stable name (what probe ownership hashes on)
 * @param address where its shared-state endpoint listens, {@code host:port}, or empty when not yet known
 * @param state   serving or draining, as the member itself last said
 */
public record Member(String id, String address, MemberState state) {

    public Member {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(state, "state");
    }
}
