package io.flotilla.cluster.hazelcast;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Put-if-absent of a fill claim with the lease as its TTL, as an entry processor so that it can be
 * submitted without blocking (IMap has no asynchronous putIfAbsent). A dead holder's claim expires.
 */
final class ClaimFill extends WireObject implements EntryProcessor<String, String, Boolean> {

  private String holder;
  private long leaseMillis;

  ClaimFill() {
  }

  ClaimFill(String holder, long leaseMillis) {
    this.holder = holder;
    this.leaseMillis = leaseMillis;
  }

  @Override
  public Boolean process(Map.Entry<String, String> entry) {
    if (entry.getValue() != null) {
      return Boolean.FALSE;
    }
    ((ExtendedMapEntry<String, String>) entry).setValue(holder, leaseMillis, TimeUnit.MILLISECONDS);
    return Boolean.TRUE;
  }

  @Override
  public int getClassId() {
    return WireFactory.CLAIM_FILL;
  }

  @Override
  public void writeData(ObjectDataOutput out) throws IOException {
    out.writeString(holder);
    out.writeLong(leaseMillis);
  }

  @Override
  public void readData(ObjectDataInput in) throws IOException {
    holder = in.readString();
    leaseMillis = in.readLong();
  }
}
