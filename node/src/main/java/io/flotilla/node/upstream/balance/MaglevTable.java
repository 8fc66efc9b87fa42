package io.flotilla.node.upstream.balance;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A Maglev lookup table (Eisenbud et al., "Maglev", NSDI 2016, section 3.4): each server walks its own
 * permutation of the slots, derived from its address, and the servers take turns claiming their next free
 * slot until the table is full. Weighted as in Envoy: in turn k a server of weight w claims only while it
 * has fewer than {@code k * w / maxWeight} slots.
 */
final class MaglevTable implements KeyTable {
    private static final long OFFSET_SEED = 0;
    private static final long SKIP_SEED = 1;

    private final int[] slots;
    private final int owners;

    private MaglevTable(int[] slots, int owners) {
        this.slots = slots;
        this.owners = owners;
    }

    static MaglevTable build(List<String> names, int[] weights, int size) {
        List<Integer> order = new ArrayList<>();
        long maxWeight = 0;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] > 0) {
                order.add(i);
                maxWeight = Math.max(maxWeight, weights[i]);
            }
        }
        if (order.isEmpty()) {
            return new MaglevTable(new int[0], 0);
        }
        if (order.size() > size) {
            throw new IllegalArgumentException("a Maglev table of " + size + " slots cannot hold " + order.size()
                    + " servers; use a prime above 100 times the number of servers");
        }
        // Turns go in address order, not config order, so every node builds the same table from the same set.
        order.sort(Comparator.comparing(names::get));
        int n = order.size();
        long[] next = new long[n];
        long[] skip = new long[n];
        long[] claimed = new long[n];
        for (int j = 0; j < n; j++) {
            byte[] name = names.get(order.get(j)).getBytes(StandardCharsets.UTF_8);
            next[j] = Long.remainderUnsigned(XxHash64.hash(name, 0, name.length, OFFSET_SEED), size);
            // A prime size makes every skip in [1, size) visit each slot once.
            skip[j] = Long.remainderUnsigned(XxHash64.hash(name, 0, name.length, SKIP_SEED), size - 1) + 1;
        }
        int[] slots = new int[size];
        Arrays.fill(slots, -1);
        int filled = 0;
        for (long turn = 1; ; turn++) {
            for (int j = 0; j < n; j++) {
                int server = order.get(j);
                if (claimed[j] * maxWeight >= turn * weights[server]) {
                    continue;
                }
                int slot;
                do {
                    slot = (int) next[j];
                    next[j] = (next[j] + skip[j]) % size;
                } while (slots[slot] >= 0);
                slots[slot] = server;
                claimed[j]++;
                if (++filled == size) {
                    return new MaglevTable(slots, n);
                }
            }
        }
    }

    static boolean isPrime(int n) {
        if (n < 2) {
            return false;
        }
        for (int d = 2; (long) d * d <= n; d++) {
            if (n % d == 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int size() {
        return slots.length;
    }

    @Override
    public int position(long keyHash) {
        return (int) Long.remainderUnsigned(keyHash, slots.length);
    }

    @Override
    public int owner(int position) {
        return slots[position];
    }

    @Override
    public int owners() {
        return owners;
    }
}
