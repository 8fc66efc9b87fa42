package io.flotilla.cluster.hazelcast;

import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.cache.ResponseStoreContract;
import io.flotilla.cluster.cache.StoredResponse;
import java.time.Duration;
import org.junit.jupiter.api.extension.ExtendWith;

/** The store contract on a two-member fleet: written through member a, read back through member b. */
@ExtendWith(SharedPair.class)
class HazelcastResponseStoreTest extends ResponseStoreContract {

    @Override
    protected ResponseStore newStore() {
        HazelcastFleetState a = SharedPair.pair().get(0);
        a.hazelcast().getMap(MemberConfig.RESPONSES).clear();
        return new HazelcastResponseStore(
                a.hazelcast(),
                "ma",
                TestFleet.CACHE_MAX_BYTES,
                TestFleet.NEAR_CACHE_MAX_BYTES,
                Duration.ofMinutes(1),
                a.background(),
                a.seal());
    }

    @Override
    protected StoredResponse read(String key) {
        return SharedPair.pair()
                .get(1)
                .responses()
                .get(key)
                .toCompletableFuture()
                .join();
    }

    @Override
    protected long maxBytes() {
        return TestFleet.CACHE_MAX_BYTES + TestFleet.NEAR_CACHE_MAX_BYTES;
    }
}
