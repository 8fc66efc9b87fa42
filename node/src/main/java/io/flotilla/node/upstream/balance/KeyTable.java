package io.flotilla.node.upstream.balance;

/**
 * Positions on a circle, each owned by a server, that a key hash maps into; immutable, and shared read-only
 * by the balancers of every event loop. A key belongs to the owner of its position; when that owner cannot
 * take it, to the next owner along the circle that can, so only the keys of the missing server move.
 */
interface KeyTable {
    /** The number of positions; 0 when no server has a weight above 0. */
    int size();

    /** The position of a key hash, in {@code [0, size())}; only called when {@code size() > 0}. */
    int position(long keyHash);

    /** The index, in the server list the table was built from, of the position's owner. */
    int owner(int position);

    /** How many distinct servers own at least one position (those with a weight above 0). */
    int owners();
}
