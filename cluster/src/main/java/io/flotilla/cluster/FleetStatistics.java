package io.flotilla.cluster;

/**
 * What a node's metrics read about its fleet state (issue 17): the shared-state members this member
 * sees, partition migrations and losses, split-brain merges, and how far the rate counters' sync
 * lags. Read at scrape time; every method is cheap and never blocks on the network. A lone node's
 * values are fixed ({@link #LONE}).
 */
public interface FleetStatistics {

    /** Members of the shared state (Hazelcast's cluster) this member sees, itself included. */
    int sharedMembers();

    /** Partition replicas migrated to or from any member since this member started. */
    long migrations();

    /** Partition replica migrations that failed. */
    long migrationFailures();

    /** Partitions lost (every replica gone at once: more members died than there are backups). */
    long partitionsLost();

    /** Times this member merged back into a fleet after a split brain. */
    long merges();

    /**
     * Milliseconds since the rate counters last found every count they sent confirmed by the fleet;
     * about one sync interval when all is well, growing while syncs fail or hang.
     */
    long rateSyncLagMillis();

    /** A lone node: one member, nothing shared, nothing to lag. */
    FleetStatistics LONE = new FleetStatistics() {
        @Override
        public int sharedMembers() {
            return 1;
        }

        @Override
        public long migrations() {
            return 0;
        }

        @Override
        public long migrationFailures() {
            return 0;
        }

        @Override
        public long partitionsLost() {
            return 0;
        }

        @Override
        public long merges() {
            return 0;
        }

        @Override
        public long rateSyncLagMillis() {
            return 0;
        }
    };

    /**
     * Hears of round trips the fleet state makes on its own (the rate counters' syncs), for the node's
     * metrics; called on Hazelcast's response threads, so it must be quick and never block.
     */
    @FunctionalInterface
    interface Observer {
        /** One round trip of {@code kind} took {@code nanos}; {@code failed} when it did not succeed. */
        void operation(String kind, long nanos, boolean failed);

        Observer NONE = (kind, nanos, failed) -> {};
    }
}
