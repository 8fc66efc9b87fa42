package io.flotilla.loadtest;

import io.gatling.http.response.Response;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admitted answers (200) of one client per rate-limit window. Flotilla counts in fixed windows aligned
 * to the epoch, and decides each request somewhere between the moment it was sent and the moment its
 * answer arrived (one clock here: loopback). An answer whose whole span lies in one window certainly
 * counted there; one whose span crosses a boundary may have counted on either side. So a window with
 * more certain admissions than allowed is a proven over-admission, and a window is under-admitted only
 * if even counting every crossing answer it falls short.
 */
final class RateLimitLedger {
    private final long windowMillis;
    private final int allowed;
    private final Map<Long, AtomicInteger> certain = new ConcurrentHashMap<>();
    private final Map<Long, AtomicInteger> crossingAfter = new ConcurrentHashMap<>();

    /** {@code allowed}: the limit plus any slack the deployment is granted (a fleet syncs every 50 ms). */
    RateLimitLedger(long windowMillis, int allowed) {
        this.windowMillis = windowMillis;
        this.allowed = allowed;
    }

    /** Counts an admitted answer (200); true if it proves its window admitted more than allowed. */
    boolean admittedOverLimit(Response response) {
        return admittedOverLimit(response.status().code(), response.startTimestamp(), response.endTimestamp());
    }

    /** The same, from the status and the epoch milliseconds the request was sent and its answer read. */
    boolean admittedOverLimit(int status, long sentMillis, long answeredMillis) {
        if (status != 200) {
            return false;
        }
        long first = sentMillis / windowMillis;
        long last = answeredMillis / windowMillis;
        if (first != last) {
            crossingAfter.computeIfAbsent(first, w -> new AtomicInteger()).incrementAndGet();
            return false;
        }
        return certain.computeIfAbsent(first, w -> new AtomicInteger()).incrementAndGet() > allowed;
    }

    /** Certain admissions per window whose whole span lies in [fromMillis, toMillis). */
    Map<Long, Integer> certainPerWindow(long fromMillis, long toMillis) {
        Map<Long, Integer> out = new TreeMap<>();
        for (long w = firstFull(fromMillis); (w + 1) * windowMillis <= toMillis; w++) {
            out.put(w, count(certain, w));
        }
        return out;
    }

    /** Admissions per full window counting every answer that may have counted there. */
    Map<Long, Integer> possiblePerWindow(long fromMillis, long toMillis) {
        Map<Long, Integer> out = new TreeMap<>();
        for (long w = firstFull(fromMillis); (w + 1) * windowMillis <= toMillis; w++) {
            out.put(w, count(certain, w) + count(crossingAfter, w) + count(crossingAfter, w - 1));
        }
        return out;
    }

    int crossing() {
        return crossingAfter.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    private long firstFull(long fromMillis) {
        return (fromMillis + windowMillis - 1) / windowMillis;
    }

    private static int count(Map<Long, AtomicInteger> counts, long window) {
        AtomicInteger n = counts.get(window);
        return n == null ? 0 : n.get();
    }
}
