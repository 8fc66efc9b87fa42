package io.flotilla.cluster.hazelcast;

import io.flotilla.cluster.cache.StoredResponse;
import java.util.Map;

/**
 * The first half of a miss, in one round trip to the key's owner: the stored response if there is
 * one; else the fill claim for {@code holder} (returns {@link Boolean#TRUE}) unless someone holds
 * it already ({@link Boolean#FALSE}). A claim takes no backup: should the owner die, the claim is
 * forgotten and costs at most one more origin fetch.
 */
final class GetOrClaim extends ClaimProcessor<Object> {

  GetOrClaim() {
  }

  GetOrClaim(String holder, long leaseMillis) {
    super(holder, leaseMillis);
  }

  @Override
  public Object process(Map.Entry<String, CacheSlot> entry) {
    long now = System.currentTimeMillis();
    CacheSlot slot = entry.getValue();
    StoredResponse live = slot == null ? null : slot.live(now);
    if (live != null) {
      return live;
    }
    if (slot != null && slot.claimed(now)) {
      return Boolean.FALSE;
    }
    ClaimFill.claim(entry, null, holder, now, leaseMillis); // an expired response goes with it
    return Boolean.TRUE;
  }

  @Override
  public int getClassId() {
    return WireFactory.GET_OR_CLAIM;
  }
}
