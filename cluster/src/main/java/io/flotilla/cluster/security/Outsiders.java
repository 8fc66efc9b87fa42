package io.flotilla.cluster.security;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;

/**
 * Who tried to take part in the fleet without proving its secret, and how often: gossip that did not
 * open, member connections that failed the handshake, shared values that did not verify. Counts for
 * the metrics, the most recent sources for {@code /fleet}, and a warning in the log (at most one per
 * kind every 10 s, so an attacker cannot flood the log). Thread-safe.
 */
public final class Outsiders {

    /** Where the secret was not proven. */
    public enum Kind {
        /** A gossip (JGroups) message that did not open with the fleet key. */
        GOSSIP,
        /** A connection to the shared-state (Hazelcast) port that failed the key handshake. */
        MEMBER,
        /** A shared value that did not verify (forged, or sealed with another key). */
        VALUE
    }

    /** One source of refusals: where, from whom (an address, or the map and key of a value), how often, last when. */
    public record Refusal(Kind kind, String from, long count, Instant last, String why) {}

    private static final Logger LOG = Logger.getLogger(Outsiders.class.getName());
    private static final int KEEP = 16;
    private static final long LOG_EVERY_MS = 10_000;

    private final Map<Kind, LongAdder> counts = new EnumMap<>(Kind.class);
    private final Map<Kind, AtomicLong> lastLog = new EnumMap<>(Kind.class);
    private final LinkedHashMap<String, Refusal> recent = new LinkedHashMap<>(KEEP, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Refusal> eldest) {
            return size() > KEEP;
        }
    };

    public Outsiders() {
        for (Kind k : Kind.values()) {
            counts.put(k, new LongAdder());
            lastLog.put(k, new AtomicLong(Long.MIN_VALUE / 2));
        }
    }

    /** Counts a refusal of {@code kind} from {@code from} and logs it (rate-limited). */
    public void refused(Kind kind, String from, String why) {
        counts.get(kind).increment();
        Instant now = Instant.now();
        synchronized (recent) {
            Refusal old = recent.get(kind + " " + from);
            recent.put(kind + " " + from, new Refusal(kind, from, old == null ? 1 : old.count() + 1, now, why));
        }
        AtomicLong last = lastLog.get(kind);
        long was = last.get();
        if (now.toEpochMilli() - was >= LOG_EVERY_MS && last.compareAndSet(was, now.toEpochMilli())) {
            LOG.warning(() -> kind.name().toLowerCase() + " from " + from + " refused: " + why + " (" + count(kind)
                    + " so far; a member without the fleet key, or an attacker)");
        }
    }

    /** Refusals of {@code kind} since start. */
    public long count(Kind kind) {
        return counts.get(kind).sum();
    }

    /** The most recent sources (at most 16), newest first. */
    public List<Refusal> recent() {
        List<Refusal> out;
        synchronized (recent) {
            out = new ArrayList<>(recent.values());
        }
        out.sort(Comparator.comparing(Refusal::last).reversed());
        return List.copyOf(out);
    }
}
