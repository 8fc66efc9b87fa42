package io.flotilla.cluster.hazelcast;

import io.flotilla.cluster.config.ConfigStore;
import io.flotilla.cluster.config.ConfigStoreContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;

/** The config contract on a two-member fleet: published through member a, read through member b. */
@ExtendWith(SharedPair.class)
class HazelcastConfigStoreTest extends ConfigStoreContract {

    private ConfigStore reader;

    @Override
    protected ConfigStore newStore() {
        HazelcastFleetState a = SharedPair.pair().get(0);
        HazelcastFleetState b = SharedPair.pair().get(1);
        a.hazelcast().getMap(MemberConfig.CONFIG).clear();
        reader = new HazelcastConfigStore(b.hazelcast(), "mb", b.background(), b.seal());
        return new HazelcastConfigStore(a.hazelcast(), "ma", a.background(), a.seal());
    }

    @Override
    protected ConfigStore reader() {
        return reader;
    }

    @AfterEach
    void closeReader() {
        reader.close();
    }
}
