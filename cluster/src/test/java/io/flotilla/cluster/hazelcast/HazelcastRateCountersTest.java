package io.flotilla.cluster.hazelcast;

import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.rate.RateCounters;
import io.flotilla.cluster.rate.RateCountersContract;
import org.junit.jupiter.api.extension.ExtendWith;

/** The rate contract on member a of a two-member fleet, where a must win the whole window from b's share. */
@ExtendWith(SharedPair.class)
class HazelcastRateCountersTest extends RateCountersContract {

    @Override
    protected RateCounters newCounters() {
        HazelcastFleetState a = SharedPair.pair().get(0);
        return new HazelcastRateCounters(
                a.hazelcast(), 2, ClusterSettings.DEFAULT_SYNC_INTERVAL, a.background(), a.seal());
    }
}
