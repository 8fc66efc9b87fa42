package io.flotilla.cluster.hazelcast;

import com.hazelcast.config.EvictionConfig;
import com.hazelcast.config.MaxSizePolicy;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.serialization.Data;
import com.hazelcast.map.impl.MapContainer;
import com.hazelcast.map.impl.MapService;
import com.hazelcast.map.impl.MapServiceContext;
import com.hazelcast.map.impl.PartitionContainer;
import com.hazelcast.map.impl.eviction.Evictor;
import com.hazelcast.map.impl.recordstore.RecordStore;
import com.hazelcast.memory.MemoryUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The responses map's heap bound, summed when it may have been crossed instead of on every write.
 *
 * <p>Hazelcast checks a {@code USED_HEAP_SIZE} bound after every write to the map, on the owner and
 * on the backup, by summing the heap cost of the map's record store in every one of the member's
 * partitions (271 by default): hundreds of scattered reads per write, about a third of the owner's
 * partition-thread time while the fleet fills (JFR, docs/benchmarks.md "Issue 11"). Here each write
 * adds what its partition's cost changed by since that partition was last written (two field reads)
 * to the last full sum; the full sum is taken again once those changes add up to 1/64 of the bound,
 * or {@link #PERIOD_NANOS} has passed, or the estimate says "over" (then at most every
 * {@link #OVER_WRITES} writes or {@link #OVER_NANOS}: a full cache evicts on most writes, and the
 * estimate follows each eviction). A member so overshoots its bound by at most 1/64 of it (plus the
 * entry being written) before it starts evicting. Which entries go, one per write, is Hazelcast's
 * eviction, unchanged.
 *
 * <p>This reaches into Hazelcast's internals (the map container's evictor, a public setter there);
 * should they change, the member logs it and keeps Hazelcast's own check: slower, never unbounded.
 */
final class PacedEviction implements Evictor {

    private static final Logger LOG = Logger.getLogger(PacedEviction.class.getName());
    static final long PERIOD_NANOS = 100_000_000L;
    static final long OVER_NANOS = 10_000_000L;
    static final int OVER_WRITES = 16;
    /** The share of the bound that may change between two full sums. */
    static final int SLICES = 64;

    private final Evictor delegate;
    private final MapServiceContext maps;
    private final String mapName;
    private final long bound;
    private final long slice;
    /** Per partition, the record store's cost when last written: only that partition's thread writes it. */
    private final AtomicLongArray seen;
    /** What the written partitions' costs changed by since the last full sum. */
    private final AtomicLong drift = new AtomicLong();

    private final AtomicInteger writesOver = new AtomicInteger();
    private volatile long summedAt = System.nanoTime() - PERIOD_NANOS;
    private volatile long sum;

    private PacedEviction(Evictor delegate, MapServiceContext maps, String mapName, long bound) {
        this.delegate = delegate;
        this.maps = maps;
        this.mapName = mapName;
        this.bound = bound;
        this.slice = Math.max(1, bound / SLICES);
        this.seen = new AtomicLongArray(maps.getPartitionContainers().length);
    }

    /** Paces the heap check of {@code mapName} on this member; whether it could. */
    static boolean install(HazelcastInstance hz, String mapName) {
        try {
            MapServiceContext maps = maps(hz);
            MapContainer container = maps.getMapContainer(mapName);
            Evictor current = container.getEvictor();
            if (current instanceof PacedEviction) {
                return true;
            }
            EvictionConfig eviction = container.getMapConfig().getEvictionConfig();
            if (current == null
                    || current == Evictor.NULL_EVICTOR
                    || eviction.getMaxSizePolicy() != MaxSizePolicy.USED_HEAP_SIZE) {
                return false;
            }
            container.setEvictor(
                    new PacedEviction(current, maps, mapName, MemoryUnit.MEGABYTES.toBytes(eviction.getSize())));
            return true;
        } catch (RuntimeException | LinkageError e) {
            LOG.log(
                    Level.WARNING,
                    "Hazelcast's heap check on " + mapName + " left as it is (checked on every write)",
                    e);
            return false;
        }
    }

    /** Whether {@code mapName}'s heap check is paced on this member. */
    static boolean installedOn(HazelcastInstance hz, String mapName) {
        return maps(hz).getMapContainer(mapName).getEvictor() instanceof PacedEviction;
    }

    private static MapServiceContext maps(HazelcastInstance hz) {
        MapService maps =
                ((HazelcastInstanceProxy) hz).getOriginal().node.getNodeEngine().getService(MapService.SERVICE_NAME);
        return maps.getMapServiceContext();
    }

    @Override
    public boolean checkEvictable(RecordStore recordStore) {
        if (recordStore.size() == 0) {
            return false; // nothing here to evict, whatever the member-wide sum
        }
        int partition = recordStore.getPartitionId();
        long cost = recordStore.getOwnedEntryCost();
        long changed = drift.addAndGet(cost - seen.getAndSet(partition, cost));
        boolean over = sum + changed > bound;
        long since = System.nanoTime() - summedAt;
        if (Math.abs(changed) >= slice
                || since >= PERIOD_NANOS
                || over && (writesOver.incrementAndGet() >= OVER_WRITES || since >= OVER_NANOS)) {
            over = resum() > bound;
        }
        return over;
    }

    /** The member's whole heap cost for the map, as Hazelcast sums it. Two partition threads may both sum: harmless. */
    private long resum() {
        drift.set(0);
        writesOver.set(0);
        summedAt = System.nanoTime();
        long total = 0;
        for (PartitionContainer c : maps.getPartitionContainers()) {
            RecordStore r = c.getExistingRecordStore(mapName);
            if (r != null) {
                total += r.getOwnedEntryCost();
            }
        }
        sum = total;
        return total;
    }

    @Override
    public void evict(RecordStore recordStore, Data excludedKey) {
        delegate.evict(recordStore, excludedKey);
    }

    @Override
    public void forceEvictByPercentage(RecordStore recordStore, double percentage) {
        delegate.forceEvictByPercentage(recordStore, percentage);
    }
}
