package io.flotilla.cluster.cache;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where cached responses live: in this process ({@link #local}) or spread over the fleet. Knows
 * nothing of HTTP: what may be stored and served is the node's cache policy, not the store's.
 *
 * <p>Contract, for every implementation: a {@link #put} is visible to {@link #get} on every node
 * that shares the store once the put returns; an entry is never returned after its
 * {@link StoredResponse#removeAt()}; purges remove every matching entry, including variants.
 */
public interface ResponseStore extends AutoCloseable {

    /** An in-process store bounded by total weight, evicting with Caffeine's W-TinyLFU. */
    static ResponseStore local(long maxBytes) {
        return new LocalResponseStore(maxBytes, System::currentTimeMillis);
    }

    /**
     * The entry this node can answer from without waiting on the network, or null. The hot path
     * calls this first; a null means "ask {@link #get}", not "absent".
     */
    StoredResponse getIfLocal(String key);

    /** The entry for {@code key}, or a stage completed with null when there is none. */
    CompletionStage<StoredResponse> get(String key);

    /** What {@link #getOrClaim} found. */
    enum Claim {
        /** The key holds an entry; no claim was taken. */
        NONE,
        /** No entry: this node holds the fill claim (release it by storing the key or {@link #releaseFillAsync}). */
        GRANTED,
        /** No entry, and another node is filling the key. */
        BUSY
    }

    /** An entry, or the claim that stands in for its absence. */
    record Lookup(StoredResponse entry, Claim claim) {
        public static final Lookup CLAIMED = new Lookup(null, Claim.GRANTED);
        public static final Lookup BUSY = new Lookup(null, Claim.BUSY);

        public static Lookup of(StoredResponse entry) {
            return new Lookup(entry, Claim.NONE);
        }
    }

    /**
     * The lookup of a request that will fill on a miss: the entry when there is one, else the fill
     * claim for this node ({@link Claim#GRANTED}) unless another node holds it ({@link Claim#BUSY}).
     * A shared store answers in one round trip; a {@link #put} of the key then releases the claim
     * too, so a miss costs two. The default asks twice, for stores with nothing better.
     */
    default CompletionStage<Lookup> getOrClaim(String key, Duration lease) {
        return get(key).thenCompose(r -> r != null
                ? CompletableFuture.completedFuture(Lookup.of(r))
                : tryClaimFillAsync(key, lease).thenApply(granted -> granted ? Lookup.CLAIMED : Lookup.BUSY));
    }

    /** Stores (or replaces) an entry under its key. */
    void put(StoredResponse response);

    /**
     * {@link #put} for a caller that must not wait (an event loop): the stage completes when the
     * entry is stored, with the same visibility as a returned {@code put}. A shared store does not
     * block the caller; the local store stores at once.
     */
    default CompletionStage<Void> putAsync(StoredResponse response) {
        put(response);
        return CompletableFuture.completedFuture(null);
    }

    /** Removes one key; true when an entry was there. */
    boolean remove(String key);

    /** Removes every entry whose URL is exactly {@code url}; returns how many. */
    int purgeUrl(String url);

    /**
     * {@link #purgeUrl} for a caller that must not wait (an event loop invalidating after an unsafe
     * method): the local store purges at once (it indexes entries by URL), a shared one in the background.
     */
    default CompletionStage<Integer> purgeUrlAsync(String url) {
        return CompletableFuture.completedFuture(purgeUrl(url));
    }

    /** {@link #releaseFill} for a caller that must not wait. */
    default void releaseFillAsync(String key) {
        releaseFill(key);
    }

    /** Removes every entry whose URL starts with {@code prefix}; returns how many. */
    int purgePrefix(String prefix);

    /** Removes every entry tagged {@code tag}; returns how many. */
    int purgeTag(String tag);

    /**
     * Claims the right to fill {@code key} from the origin for at most {@code lease}: true for the
     * one caller that gets it until {@link #releaseFill} or the lease runs out (so a node that dies
     * holding it does not block the key). A local store always grants it: collapsing within one node
     * is the node's own business.
     */
    boolean tryClaimFill(String key, Duration lease);

    /** {@link #tryClaimFill} for a caller that must not wait (an event loop, on a miss). */
    default CompletionStage<Boolean> tryClaimFillAsync(String key, Duration lease) {
        return CompletableFuture.completedFuture(tryClaimFill(key, lease));
    }

    /** Gives back a claim taken with {@link #tryClaimFill}. */
    void releaseFill(String key);

    /**
     * Operations this node has sent to the fleet, by kind ({@code get_or_claim}, {@code get},
     * {@code store}, {@code claim}, {@code release}, {@code purge}...): what the data path costs, in
     * round trips. Empty for a store that never leaves the process.
     */
    default Map<String, Long> fleetOperations() {
        return Map.of();
    }

    /** Entries held (by this node, for a shared store: its owned share plus near cache). */
    long entryCount();

    /** Bytes held, by {@link StoredResponse#weight()}. */
    long weightedSize();

    @Override
    void close();
}
