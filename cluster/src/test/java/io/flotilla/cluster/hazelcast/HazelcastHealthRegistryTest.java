package io.flotilla.cluster.hazelcast;

import io.flotilla.cluster.health.HealthRegistry;
import io.flotilla.cluster.health.HealthRegistryContract;
import org.junit.jupiter.api.extension.ExtendWith;

/** The health contract on a two-member fleet: reported through member a, read through member b. */
@ExtendWith(SharedPair.class)
class HazelcastHealthRegistryTest extends HealthRegistryContract {

    @Override
    protected HealthRegistry newRegistry() {
        HazelcastFleetState a = SharedPair.pair().get(0);
        return new HazelcastHealthRegistry(
                a.hazelcast(), a.membership(), HealthRegistry.DEFAULT_PROBE_OWNERS, a.seal());
    }

    @Override
    protected HealthRegistry reader() {
        return SharedPair.pair().get(1).health();
    }

    @Override
    protected int members() {
        return 2;
    }
}
