package io.flotilla.cluster.hazelcast;

/**
 * One purge as kept in the purge log, so it can be applied again after a partition heals.
 *
 * @param id       unique per purge; the log's key, so both halves' records survive a merge
 * @param kind     what {@code value} matches
 * @param value    the URL, prefix, tag or key
 * @param issuedAt epoch millis; a re-applied purge removes only entries stored before it
 * @param issuer   id of the member that issued it
 * @param proof    the other fields sealed with the fleet key (an empty plaintext bound to them), so
 *                 a record written without the key is not applied; empty without a fleet secret
 */
record PurgeRecord(String id, PurgeKind kind, String value, long issuedAt, String issuer, byte[] proof) {

    /** What the proof binds: every field, so none can be altered. */
    String boundFields() {
        return id + '\n' + kind + '\n' + value + '\n' + issuedAt + '\n' + issuer;
    }
}
