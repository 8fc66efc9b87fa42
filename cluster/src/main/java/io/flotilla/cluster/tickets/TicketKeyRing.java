package io.flotilla.cluster.tickets;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The TLS session-ticket keys of the fleet: every member's TLS listeners encrypt new tickets with the
 * same first key and accept the same older ones, so a session started on one node resumes on any
 * other, and a rotation made on one node reaches them all.
 *
 * <p>Contract: a rotation is a compare-and-set on the generation's version, so members racing to
 * rotate make one new generation, not several; every member converges on the stored generation and
 * tells its listeners; a member that joins later takes the fleet's generation at once. Keys are made
 * from {@code SecureRandom} on the rotating member, never derived from a long-lived secret, so a
 * dropped key (past {@link #KEPT} rotations) cannot be made again from anything the fleet keeps: that
 * bounds how long recorded TLS 1.2 sessions resumed with it stay decryptable.
 */
public interface TicketKeyRing extends AutoCloseable {

    /** Keys kept: the one encrypting now and the two before it, so a ticket lives two rotations. */
    int KEPT = 3;

    /** A lone node's ring, in memory; {@code clock} gives epoch milliseconds. */
    static TicketKeyRing local(LongSupplier clock) {
        return new LocalTicketKeyRing(clock);
    }

    /** The generation in force on this member. */
    TicketKeySet current();

    /**
     * Makes the next generation (a fresh key first) if the current version is {@code expectedVersion};
     * empty if another rotation came first (then {@link #current()} has it).
     */
    Optional<TicketKeySet> rotate(long expectedVersion);

    /** Rotates if the current generation's first key is older than {@code age}; the generation in force after. */
    default TicketKeySet rotateIfOlderThan(Duration age, long now) {
        TicketKeySet current = current();
        if (now - current.rotatedAt() < age.toMillis()) {
            return current;
        }
        return rotate(current.version()).orElseGet(this::current);
    }

    /** Calls {@code listener} with each new generation, on a thread of the ring's; returns what cancels it. */
    Runnable onChange(Consumer<TicketKeySet> listener);

    @Override
    void close();
}
