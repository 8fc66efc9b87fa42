package io.flotilla.cluster.hazelcast;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Adds one member's unsent count to a window's fleet total and returns the new total; a delta of
 * 0 only reads. The entry lives a little longer than its window, then expires by itself.
 */
final class AddDelta extends WireObject implements EntryProcessor<String, Long, Long> {

  private long delta;
  private long ttlMillis;

  AddDelta() {
  }

  AddDelta(long delta, long ttlMillis) {
    this.delta = delta;
    this.ttlMillis = ttlMillis;
  }

  @Override
  public Long process(Map.Entry<String, Long> entry) {
    long total = entry.getValue() == null ? 0 : entry.getValue();
    if (delta == 0) {
      return total;
    }
    total += delta;
    ((ExtendedMapEntry<String, Long>) entry).setValue(total, ttlMillis, TimeUnit.MILLISECONDS);
    return total;
  }

  @Override
  public int getClassId() {
    return WireFactory.ADD_DELTA;
  }

  @Override
  public void writeData(ObjectDataOutput out) throws IOException {
    out.writeLong(delta);
    out.writeLong(ttlMillis);
  }

  @Override
  public void readData(ObjectDataInput in) throws IOException {
    delta = in.readLong();
    ttlMillis = in.readLong();
  }
}
