package io.flotilla.cluster.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.internal.serialization.Data;
import com.hazelcast.internal.serialization.InternalSerializationService;
import com.hazelcast.internal.serialization.impl.InternalGenericRecord;
import com.hazelcast.query.impl.QueryableEntry;
import com.hazelcast.spi.impl.SerializationServiceSupport;
import java.io.IOException;
import java.util.Map;

/**
 * The first half of a miss, in one round trip to the key's owner: the stored response if there is
 * one; else the fill claim for {@code holder} (returns {@link Boolean#TRUE}) unless someone holds
 * it already ({@link Boolean#FALSE}). A claim takes no backup: should the owner die, the claim is
 * forgotten and costs at most one more origin fetch.
 *
 * <p>A live response goes back as the owner holds it, serialized: the owner reads only the slot's
 * times and claim from it, so a cold remote hit costs the owner no copy of the body in and out of
 * objects (the caller gets a {@link CacheSlot}). Where that form is not at hand, the object path.
 */
final class GetOrClaim extends ClaimProcessor<Object> implements HazelcastInstanceAware {

    private transient InternalSerializationService serialization;

    GetOrClaim() {}

    GetOrClaim(String holder, long leaseMillis) {
        super(holder, leaseMillis);
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hz) {
        if (hz instanceof SerializationServiceSupport s
                && s.getSerializationService() instanceof InternalSerializationService iss) {
            serialization = iss;
        }
    }

    @Override
    public Object process(Map.Entry<String, CacheSlot> entry) {
        long now = System.currentTimeMillis();
        Data stored =
                serialization != null && entry instanceof QueryableEntry<?, ?> q ? q.getValueDataIfPresent() : null;
        Object live = null;
        boolean claimed = false;
        boolean read = false;
        if (stored != null) {
            try {
                InternalGenericRecord form = serialization.readAsInternalGenericRecord(stored);
                live = form.getInt64("removeAt") > now ? stored : null; // a live response is sent on as it rests
                claimed = form.getString("claimHolder") != null && form.getInt64("claimUntil") > now;
                read = true;
            } catch (IOException | RuntimeException e) {
                // not in the compact form this build writes: read it as an object below
            }
        }
        if (!read) {
            CacheSlot slot = entry.getValue();
            live = slot == null ? null : slot.live(now);
            claimed = slot != null && slot.claimed(now);
        }
        if (live != null) {
            return live;
        }
        if (claimed) {
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
