package io.flotilla.loadtest;

import io.gatling.http.response.Response;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admitted answers of one client per rate-limit window. Flotilla counts in fixed windows aligned to the
 * epoch, so an answer belongs to window {@code floor(t / window)}, with t the midpoint of its request
 * and response (on loopback they are a millisecond or two apart; the node decided in between).
 */
final class RateLimitLedger {
    private final long windowMillis;
    private final int allowed;
    private final Map<Long, AtomicInteger> admitted = new ConcurrentHashMap<>();

    /** {@code allowed}: the limit plus any slack the deployment is granted (a fleet syncs every 50 ms). */
    RateLimitLedger(long windowMillis, int allowed) {
        this.windowMillis = windowMillis;
        this.allowed = allowed;
    }

    /** Counts an admitted answer (200); true if it is beyond what its window allows. */
    boolean admittedOverLimit(Response response) {
        if (response.status().code() != 200) {
            return false;
        }
        long window = (response.startTimestamp() + response.endTimestamp()) / 2 / windowMillis;
        return admitted.computeIfAbsent(window, w -> new AtomicInteger()).incrementAndGet() > allowed;
    }

    /** Admitted count per window whose whole span lies in [fromMillis, toMillis). */
    Map<Long, Integer> fullWindows(long fromMillis, long toMillis) {
        Map<Long, Integer> out = new TreeMap<>();
        for (long w = (fromMillis + windowMillis - 1) / windowMillis; (w + 1) * windowMillis <= toMillis; w++) {
            AtomicInteger n = admitted.get(w);
            out.put(w, n == null ? 0 : n.get());
        }
        return out;
    }
}
