package io.flotilla.cluster.membership;

/** What a member says it is doing: taking traffic, or finishing what it has before it leaves. */
public enum MemberState {
    SERVING,
    DRAINING
}
