package io.flotilla.cluster.hazelcast;

import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

/**
 * The code that travels between members (entry processors, the merge policy) as
 * IdentifiedDataSerializable with fixed ids. Ids are never reused or renumbered: a member of the
 * next version must read what this one sends during a rolling upgrade.
 */
final class WireFactory implements DataSerializableFactory {

    /** Ours alone among the factories a member registers; never change it. */
    static final int FACTORY_ID = 0x464C; // "FL"

    static final int PURGE_PROCESSOR = 1;
    static final int ADD_DELTA = 2;
    static final int PUBLISH_CONFIG = 3;
    static final int HIGHEST_VERSION_MERGE = 4;
    static final int CLAIM_FILL = 5;
    static final int GET_OR_CLAIM = 6;
    static final int RELEASE_CLAIM = 7;

    @Override
    public IdentifiedDataSerializable create(int classId) {
        return switch (classId) {
            case PURGE_PROCESSOR -> new PurgeProcessor();
            case ADD_DELTA -> new AddDelta();
            case PUBLISH_CONFIG -> new PublishConfig();
            case HIGHEST_VERSION_MERGE -> new HighestVersionMerge();
            case CLAIM_FILL -> new ClaimFill();
            case GET_OR_CLAIM -> new GetOrClaim();
            case RELEASE_CLAIM -> new ReleaseClaim();
            default -> null; // Hazelcast reports an unknown class id itself
        };
    }
}
