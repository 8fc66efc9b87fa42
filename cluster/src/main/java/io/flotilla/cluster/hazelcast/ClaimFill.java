package io.flotilla.cluster.hazelcast;

import com.hazelcast.map.ExtendedMapEntry;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Claims a key for a fill that found a response it cannot use as is (stale, or a Vary marker):
 * the claim is set beside the response, which stays servable to others meanwhile. True when this
 * holder has the claim.
 */
final class ClaimFill extends ClaimProcessor<Boolean> {

    ClaimFill() {}

    ClaimFill(String holder, long leaseMillis) {
        super(holder, leaseMillis);
    }

    @Override
    public Boolean process(Map.Entry<String, CacheSlot> entry) {
        long now = System.currentTimeMillis();
        CacheSlot slot = entry.getValue();
        if (slot != null && slot.claimed(now)) {
            return Boolean.FALSE;
        }
        claim(entry, slot == null || slot.live(now) == null ? null : slot, holder, now, leaseMillis);
        return Boolean.TRUE;
    }

    /**
     * Sets the claim: beside {@code keep}'s response, with the entry living as long as that response
     * (or the lease, if longer); or alone, living for the lease.
     */
    static void claim(Map.Entry<String, CacheSlot> entry, CacheSlot keep, String holder, long now, long leaseMillis) {
        long until = now + leaseMillis;
        long life = keep == null
                ? leaseMillis
                : Math.max(leaseMillis, keep.response().removeAt() - now);
        CacheSlot claimed = keep == null ? new CacheSlot(null, holder, until) : keep.claimedBy(holder, until);
        // Hazelcast keeps expiry in whole seconds: round up, as puts do.
        ((ExtendedMapEntry<String, CacheSlot>) entry)
                .setValue(claimed, (life / 1000 + 1) * 1000, TimeUnit.MILLISECONDS);
    }

    @Override
    public int getClassId() {
        return WireFactory.CLAIM_FILL;
    }
}
