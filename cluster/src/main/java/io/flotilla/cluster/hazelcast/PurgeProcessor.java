package io.flotilla.cluster.hazelcast;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import io.flotilla.cluster.cache.StoredResponse;
import java.io.IOException;
import java.util.Map;

/**
 * Removes an entry where it lives if it matches a purge and was stored before the purge's time, and
 * says whether it did. Runs on the owner (and the backup), so no value crosses the network.
 */
final class PurgeProcessor extends WireObject implements EntryProcessor<String, CacheSlot, Boolean> {

    private PurgeKind kind;
    private String value;
    private long storedBefore;

    PurgeProcessor() {}

    PurgeProcessor(PurgeKind kind, String value, long storedBefore) {
        this.kind = kind;
        this.value = value;
        this.storedBefore = storedBefore;
    }

    @Override
    public Boolean process(Map.Entry<String, CacheSlot> entry) {
        StoredResponse r = entry.getValue() == null ? null : entry.getValue().response();
        if (r == null || !kind.matches(r, value) || r.storedAt() >= storedBefore) {
            return Boolean.FALSE;
        }
        entry.setValue(null);
        return Boolean.TRUE;
    }

    @Override
    public int getClassId() {
        return WireFactory.PURGE_PROCESSOR;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeString(kind.name());
        out.writeString(value);
        out.writeLong(storedBefore);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        kind = PurgeKind.valueOf(in.readString());
        value = in.readString();
        storedBefore = in.readLong();
    }
}
