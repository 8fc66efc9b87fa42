package io.flotilla.cluster.health;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Rendezvous (highest random weight) hashing: which {@code k} members probe a backend. Every member
 * computes the same answer from the same view, and a member leaving moves only its own backends.
 */
public final class ProbeOwners {

    private ProbeOwners() {}

    /** The {@code k} member ids with the highest weight for {@code backendId}, best first. */
    public static List<String> choose(String backendId, Collection<String> memberIds, int k) {
        List<String> ranked = new ArrayList<>(memberIds);
        ranked.sort(Comparator.comparingLong((String m) -> weight(backendId, m))
                .reversed()
                .thenComparing(Comparator.naturalOrder()));
        return List.copyOf(ranked.subList(0, Math.min(Math.max(k, 0), ranked.size())));
    }

    /** A well-mixed 64-bit hash of the pair; String.hashCode alone clusters for similar names. */
    static long weight(String backendId, String memberId) {
        long h = 0xcbf29ce484222325L; // FNV-1a, then a murmur finaliser for avalanche
        for (byte b : (backendId + '\0' + memberId).getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        return h ^ (h >>> 33);
    }
}
