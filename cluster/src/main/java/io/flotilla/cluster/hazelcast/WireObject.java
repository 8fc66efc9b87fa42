package io.flotilla.cluster.hazelcast;

import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

/** What every object of ours that travels between members shares: the factory that rebuilds it. */
abstract class WireObject implements IdentifiedDataSerializable {

    @Override
    public final int getFactoryId() {
        return WireFactory.FACTORY_ID;
    }
}
