package io.flotilla.cluster.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Adds one member's unsent count to a window's fleet total and returns the new total; a delta of
 * 0 only reads. The entry lives a little longer than its window, then expires by itself. The delta
 * travels sealed, the total is stored and returned sealed ({@link ValueSeal}, on the owner): a delta
 * that does not verify is dropped (null returned), a stored total that does not verify counts as 0.
 */
final class AddDelta extends WireObject implements EntryProcessor<String, byte[], byte[]>, HazelcastInstanceAware {

    private byte[] sealedDelta;
    private long ttlMillis;
    private transient ValueSeal seal;

    AddDelta() {}

    AddDelta(byte[] sealedDelta, long ttlMillis) {
        this.sealedDelta = sealedDelta;
        this.ttlMillis = ttlMillis;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hz) {
        seal = ValueSeal.of(hz);
    }

    @Override
    public byte[] process(Map.Entry<String, byte[]> entry) {
        String key = entry.getKey();
        Long delta = seal.openLong(sealedDelta, MemberConfig.RATES + ".delta", key);
        if (delta == null) {
            return null;
        }
        Long stored = seal.openLong(entry.getValue(), MemberConfig.RATES, key);
        long total = stored == null ? 0 : stored;
        byte[] sealedTotal = seal.sealLong(total + delta, MemberConfig.RATES, key);
        if (delta != 0) {
            ((ExtendedMapEntry<String, byte[]>) entry).setValue(sealedTotal, ttlMillis, TimeUnit.MILLISECONDS);
        }
        return sealedTotal;
    }

    @Override
    public int getClassId() {
        return WireFactory.ADD_DELTA;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeByteArray(sealedDelta);
        out.writeLong(ttlMillis);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        sealedDelta = in.readByteArray();
        ttlMillis = in.readLong();
    }
}
