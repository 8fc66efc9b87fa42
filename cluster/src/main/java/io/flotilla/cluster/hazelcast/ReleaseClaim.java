package io.flotilla.cluster.hazelcast;

import com.hazelcast.map.ExtendedMapEntry;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Gives back {@code holder}'s claim on a fill that stored nothing (an uncacheable response, an
 * error, a client gone), in one round trip; someone else's claim, taken after ours lapsed, stays.
 */
final class ReleaseClaim extends ClaimProcessor<Boolean> {

    ReleaseClaim() {}

    ReleaseClaim(String holder) {
        super(holder, 0);
    }

    @Override
    public Boolean process(Map.Entry<String, CacheSlot> entry) {
        CacheSlot slot = entry.getValue();
        if (slot == null || !holder.equals(slot.claimHolder())) {
            return Boolean.FALSE;
        }
        if (slot.response() == null) {
            entry.setValue(null);
        } else {
            long life = slot.response().removeAt() - System.currentTimeMillis();
            if (life <= 0) {
                entry.setValue(null);
            } else {
                ((ExtendedMapEntry<String, CacheSlot>) entry)
                        .setValue(slot.unclaimed(), (life / 1000 + 1) * 1000, TimeUnit.MILLISECONDS);
            }
        }
        return Boolean.TRUE;
    }

    @Override
    public int getClassId() {
        return WireFactory.RELEASE_CLAIM;
    }
}
