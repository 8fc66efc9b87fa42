package io.flotilla.cluster.hazelcast;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.spi.merge.MergingValue;
import com.hazelcast.spi.merge.SplitBrainMergePolicy;
import io.flotilla.cluster.config.ConfigHistory;

/** After a partition heals, the config history with the higher current version wins. */
final class HighestVersionMerge extends WireObject
        implements SplitBrainMergePolicy<ConfigHistory, MergingValue<ConfigHistory>, Object> {

    @Override
    public Object merge(MergingValue<ConfigHistory> merging, MergingValue<ConfigHistory> existing) {
        if (existing == null) {
            return merging.getRawValue();
        }
        ConfigHistory a = existing.getDeserializedValue();
        ConfigHistory b = merging.getDeserializedValue();
        return ConfigHistory.newer(a, b) == a ? existing.getRawValue() : merging.getRawValue();
    }

    @Override
    public int getClassId() {
        return WireFactory.HIGHEST_VERSION_MERGE;
    }

    @Override
    public void writeData(ObjectDataOutput out) {}

    @Override
    public void readData(ObjectDataInput in) {}
}
