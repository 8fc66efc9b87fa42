package io.flotilla.cluster.hazelcast;

import io.flotilla.cluster.cache.StoredResponse;

/**
 * What the responses map holds under a key: a stored response, a fill claim, or both (a stale
 * response being revalidated by the claim's holder). Claims live in the entry they guard so that a
 * miss is one entry processor ("get or claim") and one put ("store", which replaces the claim),
 * where a separate claims map cost a get, a claim, a put and a release.
 *
 * @param response    the stored response, or null for a claim alone
 * @param claimHolder the member filling the key, or null
 * @param claimUntil  epoch millis when the claim lapses (so a dead holder never blocks a key)
 */
record CacheSlot(StoredResponse response, String claimHolder, long claimUntil) {

    static CacheSlot of(StoredResponse response) {
        return new CacheSlot(response, null, 0);
    }

    /** The response if it may still be served at {@code now}. */
    StoredResponse live(long now) {
        return response != null && response.removeAt() > now ? response : null;
    }

    /**
     * Whether a fill claim holds at {@code now}, whoever holds it: a member's requests collapse among
     * themselves before they ask the fleet, so a second ask of the same member is another fill.
     */
    boolean claimed(long now) {
        return claimHolder != null && claimUntil > now;
    }

    CacheSlot claimedBy(String member, long until) {
        return new CacheSlot(response, member, until);
    }

    CacheSlot unclaimed() {
        return new CacheSlot(response, null, 0);
    }
}
