package io.flotilla.cluster.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.partition.MigrationListener;
import com.hazelcast.partition.MigrationState;
import com.hazelcast.partition.ReplicaMigrationEvent;
import io.flotilla.cluster.FleetStatistics;
import java.util.concurrent.atomic.LongAdder;

/**
 * A member's statistics from Hazelcast's own events: partition migrations and losses through
 * listeners registered at start, merges from the lifecycle, members from the cluster view.
 */
final class HazelcastFleetStatistics implements FleetStatistics {
    private final HazelcastInstance hz;
    private final HazelcastRateCounters rates;
    private final LongAdder migrations = new LongAdder();
    private final LongAdder migrationFailures = new LongAdder();
    private final LongAdder partitionsLost = new LongAdder();
    private final LongAdder merges = new LongAdder();

    HazelcastFleetStatistics(HazelcastInstance hz, HazelcastRateCounters rates) {
        this.hz = hz;
        this.rates = rates;
        hz.getPartitionService().addMigrationListener(new MigrationListener() {
            @Override
            public void migrationStarted(MigrationState state) {}

            @Override
            public void migrationFinished(MigrationState state) {}

            @Override
            public void replicaMigrationCompleted(ReplicaMigrationEvent event) {
                migrations.increment();
            }

            @Override
            public void replicaMigrationFailed(ReplicaMigrationEvent event) {
                migrationFailures.increment();
            }
        });
        hz.getPartitionService().addPartitionLostListener(event -> partitionsLost.increment());
        hz.getLifecycleService().addLifecycleListener(event -> {
            if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
                merges.increment();
            }
        });
    }

    @Override
    public int sharedMembers() {
        try {
            return hz.getLifecycleService().isRunning()
                    ? hz.getCluster().getMembers().size()
                    : 0;
        } catch (RuntimeException e) {
            return 0; // shut down between the check and the read
        }
    }

    @Override
    public long migrations() {
        return migrations.sum();
    }

    @Override
    public long migrationFailures() {
        return migrationFailures.sum();
    }

    @Override
    public long partitionsLost() {
        return partitionsLost.sum();
    }

    @Override
    public long merges() {
        return merges.sum();
    }

    @Override
    public long rateSyncLagMillis() {
        return rates.syncLagMillis();
    }
}
