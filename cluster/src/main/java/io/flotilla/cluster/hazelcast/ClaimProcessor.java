package io.flotilla.cluster.hazelcast;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import java.io.IOException;

/**
 * What the entry processors that take a fill claim share: who claims, for how long, and no backup
 * (a claim lost with its owner costs one more origin fetch at most, and a backup per miss would
 * cost every miss a round trip to a third member).
 */
abstract class ClaimProcessor<R> extends WireObject implements EntryProcessor<String, CacheSlot, R> {

    String holder;
    long leaseMillis;

    ClaimProcessor() {}

    ClaimProcessor(String holder, long leaseMillis) {
        this.holder = holder;
        this.leaseMillis = leaseMillis;
    }

    @Override
    public final EntryProcessor<String, CacheSlot, R> getBackupProcessor() {
        return null;
    }

    @Override
    public final void writeData(ObjectDataOutput out) throws IOException {
        out.writeString(holder);
        out.writeLong(leaseMillis);
    }

    @Override
    public final void readData(ObjectDataInput in) throws IOException {
        holder = in.readString();
        leaseMillis = in.readLong();
    }
}
