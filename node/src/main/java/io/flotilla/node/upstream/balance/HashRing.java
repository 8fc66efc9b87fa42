package io.flotilla.node.upstream.balance;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * A ketama-style consistent-hash ring: a server of weight w has {@code w * virtualNodesPerWeight} points,
 * point r at XXH64(address, seed r). A point depends only on its server's address and number, never on the
 * other servers or their order, so adding or removing a server moves only the keys it gains or loses.
 */
final class HashRing implements KeyTable {
    /** At most this many points (8 MiB): enough for 1000 servers of weight 1 at the default density. */
    static final int MAX_POINTS = 1 << 20;
    // A point is one long: the top 44 bits of its hash, then its owner's index. Sorting a long[] then orders
    // the ring with no object per point, and the 20 bits moved off the hash shift a point by less than
    // 2^-44 of the circle, which no key distribution can notice.
    private static final int OWNER_BITS = 20;
    private static final long OWNER_MASK = (1L << OWNER_BITS) - 1;

    private final long[] points;
    private final int owners;

    private HashRing(long[] points, int owners) {
        this.points = points;
        this.owners = owners;
    }

    static HashRing build(List<String> names, int[] weights, int virtualNodesPerWeight) {
        if (names.size() > 1 << OWNER_BITS) {
            throw new IllegalArgumentException("a hash ring holds at most " + (1 << OWNER_BITS) + " servers");
        }
        long wanted = 0;
        for (int w : weights) {
            wanted += (long) Math.max(0, w) * virtualNodesPerWeight;
        }
        // Scaling every count alike keeps the shares; a server keeps its first points, so the keys that move
        // are only those of the points dropped.
        double scale = wanted > MAX_POINTS ? (double) MAX_POINTS / wanted : 1.0;
        int[] count = new int[weights.length];
        int total = 0;
        int owners = 0;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] > 0) {
                count[i] = (int) Math.max(1, Math.round((double) weights[i] * virtualNodesPerWeight * scale));
                total += count[i];
                owners++;
            }
        }
        long[] points = new long[total];
        int k = 0;
        for (int i = 0; i < weights.length; i++) {
            byte[] name = names.get(i).getBytes(StandardCharsets.UTF_8);
            for (int r = 0; r < count[i]; r++) {
                points[k++] = XxHash64.hash(name, 0, name.length, r) & ~OWNER_MASK | i;
            }
        }
        Arrays.sort(points);
        return new HashRing(points, owners);
    }

    @Override
    public int size() {
        return points.length;
    }

    @Override
    public int position(long keyHash) {
        int i = Arrays.binarySearch(points, keyHash);
        if (i < 0) {
            i = -i - 1;
        }
        return i == points.length ? 0 : i;
    }

    @Override
    public int owner(int position) {
        return (int) (points[position] & OWNER_MASK);
    }

    @Override
    public int owners() {
        return owners;
    }
}
