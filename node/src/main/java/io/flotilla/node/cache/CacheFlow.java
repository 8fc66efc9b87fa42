package io.flotilla.node.cache;

import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.cache.StoredResponse;
import io.flotilla.node.http.ByteRanges;
import io.flotilla.node.http.Preconditions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The cache's part in one request, driven by the exchange that forwards it: look up, then either
 * answer from the store or forward (conditionally when revalidating), and on the way back decide
 * whether to store, copy the body aside while it streams to the client, and store it at the end.
 * Every response that passed through here carries a {@code Cache-Status} (RFC 9211). Lives on the
 * exchange's event loop.
 */
public final class CacheFlow {
    /** What the request is to the cache. */
    enum Mode {
        /** GET or HEAD: looked up, and a GET may fill. */
        LOOKUP,
        /** A bypass condition matched: forwarded, never stored. */
        BYPASS,
        /** A safe method the cache does not store (OPTIONS, TRACE). */
        PASS,
        /** An unsafe method: on success, what it targets is invalidated (§4.4). */
        INVALIDATE
    }

    /** What the exchange does after the lookup. */
    public enum Decision {
        /** Answer with {@link #storedResponse}. */
        HIT,
        /** Answer with the stale {@link #storedResponse}, and start {@link #refresh()} in the background. */
        STALE_REFRESH,
        /** Forward (a miss, or a revalidation: {@link #prepareUpstream} adds the validators). */
        FORWARD,
        /** only-if-cached and nothing usable: 504 (§5.2.1.7). */
        GATEWAY_TIMEOUT
    }

    private static final String NAME = "flotilla";

    private final RouteCache route;
    private final ResponseCache cache;
    private final HttpRequest request;
    private final Mode mode;
    private final String url;
    private final String primaryKey;
    private final boolean head;
    private final CacheControl requestCc;
    // The client's own conditionals and range, kept before forwarding may replace them with ours.
    private final String ifNoneMatch;
    private final String ifModifiedSince;
    private final String range;
    private final String ifRange;

    private StoredResponse entry;
    private CachedHead entryHead;
    private CacheControl entryCc = CacheControl.NONE;
    private CachePolicy.Facts entryFacts;
    private CachePolicy.Judgement judgement;
    private String fwd = "uri-miss";
    private boolean revalidating;
    private boolean collapsed;
    private boolean waitedOnce;
    /** Whether this request holds the fleet-wide claim on its key (released when it ends). */
    private boolean fleetClaimed;
    /** The claim the lookup took in the same round trip as its read, for {@link #miss} (null: none asked). */
    private ResponseStore.Claim lookupClaim;

    private Fill fill;
    private String cacheStatus;

    private long requestTime;
    private int upstreamStatus;
    private boolean storing;
    private HttpHeaders storedHeaders;
    private CacheControl storedCc;
    private String storedReason;
    private byte[] body;
    private int bodyLength;
    /** The fill budget {@link #body} was taken from, and how much of it this fill holds. */
    private FillMemory fillMemory;

    private long held;
    private boolean stored;

    CacheFlow(RouteCache route, HttpRequest request, Mode mode, String url, String primaryKey) {
        this.route = route;
        this.cache = route.cache;
        this.request = request;
        this.mode = mode;
        this.url = url;
        this.primaryKey = primaryKey;
        this.head = HttpMethod.HEAD.equals(request.method());
        HttpHeaders h = request.headers();
        this.requestCc = mode == Mode.LOOKUP ? CachePolicy.requestDirectives(h) : CacheControl.NONE;
        this.ifNoneMatch = h.get(HttpHeaderNames.IF_NONE_MATCH);
        this.ifModifiedSince = h.get(HttpHeaderNames.IF_MODIFIED_SINCE);
        this.range = h.get(HttpHeaderNames.RANGE);
        this.ifRange = h.get(HttpHeaderNames.IF_RANGE);
    }

    // ---- lookup ---------------------------------------------------------------------------------

    /**
     * Looks the request up and calls {@code then} with what to do, on {@code loop}: at once when the
     * entry is at hand, later when it is on another node or another request's fill is awaited.
     */
    public void lookup(EventExecutor loop, Consumer<Decision> then) {
        if (mode != Mode.LOOKUP) {
            then.accept(Decision.FORWARD);
            return;
        }
        StoredResponse local = cache.store().getIfLocal(primaryKey);
        if (local != null) {
            onPrimary(local, loop, then); // the hot path: one near-cache read
        } else if (mayFill() && !cache.fills.containsKey(primaryKey)) {
            getOrClaim(loop, then);
        } else {
            fetchFromStore(primaryKey, loop, r -> onPrimary(r, loop, then));
        }
    }

    /** Whether a miss of this request fetches for the cache (and so may claim the key). */
    private boolean mayFill() {
        return !head && !waitedOnce && !requestCc.has("no-store") && !requestCc.has("only-if-cached");
    }

    /** The primary key's entry, or, in the same round trip, the fleet's fill claim for it. */
    private void getOrClaim(EventExecutor loop, Consumer<Decision> then) {
        askFleet(loop, found -> onLookup(found, loop, then));
    }

    /** The fleet's "get or claim" for the primary key; {@code then} runs on {@code loop}, with null if the fleet failed. */
    private void askFleet(EventExecutor loop, Consumer<ResponseStore.Lookup> then) {
        CompletableFuture<ResponseStore.Lookup> f =
                cache.store().getOrClaim(primaryKey, route.fillLease).toCompletableFuture();
        if (f.isDone()) {
            then.accept(f.isCompletedExceptionally() ? null : f.join());
        } else {
            f.whenComplete((found, error) -> loop.execute(() -> then.accept(error == null ? found : null)));
        }
    }

    private void onLookup(ResponseStore.Lookup found, EventExecutor loop, Consumer<Decision> then) {
        if (found != null && found.entry() == null) {
            lookupClaim = found.claim();
        }
        onPrimary(found == null ? null : found.entry(), loop, then);
    }

    private void fetch(String key, EventExecutor loop, Consumer<StoredResponse> then) {
        StoredResponse local = cache.store().getIfLocal(key);
        if (local != null) {
            then.accept(local);
        } else {
            fetchFromStore(key, loop, then);
        }
    }

    /** A read that may wait on the network; {@code then} runs on {@code loop}. */
    private void fetchFromStore(String key, EventExecutor loop, Consumer<StoredResponse> then) {
        CompletableFuture<StoredResponse> f = cache.store().get(key).toCompletableFuture();
        if (f.isDone()) {
            then.accept(f.isCompletedExceptionally() ? null : f.join());
            return;
        }
        f.whenComplete((r, error) -> loop.execute(() -> then.accept(error == null ? r : null)));
    }

    private void onPrimary(StoredResponse r, EventExecutor loop, Consumer<Decision> then) {
        CachePolicy.Facts f = r == null ? null : cache.facts(r);
        if (f == null) {
            miss("uri-miss", loop, then);
        } else if (f.head().isVaryMarker()) {
            fetch(variantKey(f.head().vary(), request.headers()), loop, v -> {
                CachePolicy.Facts vf = v == null ? null : cache.facts(v);
                if (vf == null || vf.head().isVaryMarker()) {
                    miss("vary-miss", loop, then);
                } else {
                    evaluate(v, vf, loop, then);
                }
            });
        } else {
            evaluate(r, f, loop, then);
        }
    }

    private void evaluate(StoredResponse r, CachePolicy.Facts facts, EventExecutor loop, Consumer<Decision> then) {
        CachedHead h = facts.head();
        CacheControl cc = facts.cc();
        if (request.headers().contains(HttpHeaderNames.AUTHORIZATION)
                && !cc.has("public")
                && !cc.has("must-revalidate")
                && !cc.has("s-maxage")) {
            miss("request", loop, then); // §3.5: stored for others, not reusable for an authenticated request
            return;
        }
        entry = r;
        entryHead = h;
        entryCc = cc;
        entryFacts = facts;
        judgement = route.policy.judge(facts, requestCc, cache.now());
        if (judgement.usableWithoutValidation()) {
            // Found after all (another node's fill): this node's waiters look again too.
            endFill(fill, true);
            fill = null;
            count(CacheStats.Event.HIT);
            cacheStatus = "hit; ttl=" + judgement.ttlSeconds() + (collapsed ? "; collapsed" : "");
            then.accept(Decision.HIT);
            return;
        }
        if (judgement.staleWhileRevalidate()) {
            count(CacheStats.Event.STALE);
            cacheStatus = "hit; ttl=" + judgement.ttlSeconds() + "; detail=stale-while-revalidate";
            then.accept(Decision.STALE_REFRESH);
            return;
        }
        // Fresh, yet unusable without validation: the request's directives said so, or the response's no-cache.
        boolean forcedByRequest = judgement.fresh() && !cc.has("no-cache");
        revalidating = !head && (h.header("ETag") != null || h.header("Last-Modified") != null);
        miss(forcedByRequest ? "request" : "stale", loop, then);
    }

    private void miss(String reason, EventExecutor loop, Consumer<Decision> then) {
        fwd = reason;
        if (requestCc.has("only-if-cached")) {
            count(CacheStats.Event.ONLY_IF_CACHED);
            cacheStatus = "fwd=" + reason + "; detail=only-if-cached";
            then.accept(Decision.GATEWAY_TIMEOUT);
            return;
        }
        if (head || requestCc.has("no-store") || waitedOnce) {
            count(CacheStats.Event.MISS);
            then.accept(Decision.FORWARD); // nothing this request fetches will be stored, so no one waits on it
            return;
        }
        Fill mine = new Fill();
        Fill running = cache.fills.putIfAbsent(primaryKey, mine);
        if (running == null) {
            fill = mine;
            ResponseStore.Claim claimed = lookupClaim;
            lookupClaim = null;
            if (claimed == ResponseStore.Claim.GRANTED) {
                afterClaim(true, true, loop, then);
            } else if (claimed == ResponseStore.Claim.BUSY) {
                afterClaim(false, false, loop, then);
            } else {
                claimFleetWide(loop, then);
            }
            return;
        }
        if (lookupClaim == ResponseStore.Claim.GRANTED) {
            // Another request of this node started its fill while the fleet gave the claim to this
            // one (it is waiting on the fleet, or already ended): fetch, and store for both.
            lookupClaim = null;
            afterClaim(true, true, loop, then);
            return;
        }
        lookupClaim = null;
        waitedOnce = true;
        count(CacheStats.Event.COLLAPSED);
        boolean[] resumed = {false};
        long wait = route.config.collapseWait().toMillis();
        ScheduledFuture<?> timer = loop.schedule(
                () -> {
                    if (!resumed[0]) {
                        resumed[0] = true;
                        count(CacheStats.Event.MISS);
                        then.accept(Decision.FORWARD); // waited long enough: fetch for ourselves
                    }
                },
                wait,
                TimeUnit.MILLISECONDS);
        boolean joined = running.join(loop, storedByOther -> {
            if (resumed[0]) {
                return;
            }
            resumed[0] = true;
            timer.cancel(false);
            collapsed = true;
            if (storedByOther) {
                lookup(loop, then); // the fill stored it: this is a hit now
            } else {
                count(CacheStats.Event.MISS);
                then.accept(Decision.FORWARD); // it turned out uncacheable: go upstream ourselves
            }
        });
        if (!joined) {
            resumed[0] = true;
            timer.cancel(false);
            lookup(loop, then);
        }
    }

    /**
     * This node fetches the key; in a fleet, only if no other node is fetching it already (the
     * store's claim, whose lease frees it should that node die). A local store grants it at once.
     */
    private void claimFleetWide(EventExecutor loop, Consumer<Decision> then) {
        CompletableFuture<Boolean> claim =
                cache.store().tryClaimFillAsync(primaryKey, route.fillLease).toCompletableFuture();
        if (claim.isDone()) {
            afterClaim(claim.isCompletedExceptionally() || claim.join(), !claim.isCompletedExceptionally(), loop, then);
        } else {
            claim.whenComplete((granted, error) ->
                    loop.execute(() -> afterClaim(error != null || granted, error == null && granted, loop, then)));
        }
    }

    private void afterClaim(boolean fetch, boolean claimed, EventExecutor loop, Consumer<Decision> then) {
        if (fetch) {
            fleetClaimed = claimed;
            count(CacheStats.Event.MISS);
            then.accept(Decision.FORWARD);
            return;
        }
        count(CacheStats.Event.COLLAPSED);
        waitForFleetFill(loop, then, cache.now() + route.config.collapseWait().toMillis());
    }

    /**
     * Another node is fetching: every 50 ms, ask the fleet again for the entry or the claim. The
     * entry found is a hit; the claim granted means the other fill stored nothing (an uncacheable
     * response, an error, a client gone) or its holder died, and this node fetches and stores in its
     * place at once, instead of waiting out {@code collapse_wait} and then fetching without storing.
     */
    private void waitForFleetFill(EventExecutor loop, Consumer<Decision> then, long deadline) {
        loop.schedule(
                () -> askFleet(loop, found -> {
                    if (found != null && found.entry() != null) {
                        waitedOnce = true;
                        collapsed = true;
                        onPrimary(found.entry(), loop, then);
                    } else if (found != null && found.claim() == ResponseStore.Claim.GRANTED) {
                        afterClaim(true, true, loop, then);
                    } else if (found == null || found.claim() != ResponseStore.Claim.BUSY || cache.now() >= deadline) {
                        waitedOnce = true;
                        count(CacheStats.Event.MISS);
                        then.accept(Decision.FORWARD);
                    } else {
                        waitForFleetFill(loop, then, deadline);
                    }
                }),
                50,
                TimeUnit.MILLISECONDS);
    }

    // ---- forwarding -----------------------------------------------------------------------------

    /**
     * Adjusts the request about to go upstream: a revalidation replaces the client's conditionals
     * with the stored response's validators (§4.3.1); the client's are answered here afterwards.
     */
    public void prepareUpstream(HttpHeaders upstream) {
        requestTime = cache.now();
        if (!revalidating) {
            return;
        }
        upstream.remove(HttpHeaderNames.IF_NONE_MATCH);
        upstream.remove(HttpHeaderNames.IF_MODIFIED_SINCE);
        upstream.remove(HttpHeaderNames.RANGE);
        upstream.remove(HttpHeaderNames.IF_RANGE);
        String etag = entryHead.header("ETag");
        if (etag != null) {
            upstream.set(HttpHeaderNames.IF_NONE_MATCH, etag);
        }
        String lastModified = entryHead.header("Last-Modified");
        if (lastModified != null) {
            upstream.set(HttpHeaderNames.IF_MODIFIED_SINCE, lastModified);
        }
    }

    /**
     * The upstream's response head, after the proxy's own response rules and before anything is
     * written. Returns true when the exchange must drop it (and its body) and answer with
     * {@link #storedResponse} instead: a 304 that refreshed the stored response, or an error that
     * stale-if-error covers.
     */
    public boolean onResponseHead(HttpResponse response) {
        long now = cache.now();
        int code = response.status().code();
        upstreamStatus = code;
        HttpHeaders headers = response.headers();
        switch (mode) {
            case BYPASS -> cacheStatus = "fwd=bypass";
            case PASS -> cacheStatus = "fwd=method";
            case INVALIDATE -> {
                if (code < 400) {
                    invalidate(headers);
                }
                cacheStatus = "fwd=method";
            }
            case LOOKUP -> {
                if (revalidating && code == 304 && entry != null) {
                    refreshStored(headers, now);
                    return true;
                }
                if (staleStandsInFor(code, true)) {
                    return true;
                }
                decideStoring(response, now);
                cacheStatus = "fwd=" + fwd + (revalidating ? "; fwd-status=" + code : "") + (storing ? "; stored" : "")
                        + (collapsed ? "; collapsed" : "");
            }
        }
        stripTargeted(headers);
        return false;
    }

    /**
     * The one way into stale-if-error (RFC 5861 §4): whether the stale stored response answers instead
     * of an error, the origin's ({@code fromOrigin}) or one the proxy would make (502, 503, 504 when
     * the origin could not be reached). Counts it and says so in {@code Cache-Status} when it does.
     */
    public boolean staleStandsInFor(int status, boolean fromOrigin) {
        if (status < 500 || entry == null || judgement == null || judgement.staleIfErrorMillis() <= 0) {
            return false;
        }
        count(CacheStats.Event.STALE_IF_ERROR);
        cacheStatus = "fwd=" + fwd + (fromOrigin ? "; fwd-status=" + status : "") + "; detail=stale-if-error";
        return true;
    }

    private void decideStoring(HttpResponse response, long now) {
        HttpHeaders h = response.headers();
        storedCc = route.policy.responseDirectives(h);
        String why = head ? "head" : route.policy.unstorable(request.headers(), requestCc, upstreamStatus, h, storedCc);
        long length = h.getInt(HttpHeaderNames.CONTENT_LENGTH, -1);
        if (why == null && length > route.config.maxEntry()) {
            why = "too large";
        }
        if (why != null) {
            if (!head) {
                count(CacheStats.Event.NOT_STORED);
            }
            return;
        }
        storing = true;
        storedReason = response.status().reasonPhrase();
        storedHeaders = new DefaultHttpHeaders(false).set(h);
        storedHeaders.remove(HttpHeaderNames.TRANSFER_ENCODING);
        storedHeaders.remove(HttpHeaderNames.CONNECTION);
        removeQualified(storedHeaders, storedCc.argument("private"));
        removeQualified(storedHeaders, storedCc.argument("no-cache"));
        if (!storedHeaders.contains(HttpHeaderNames.DATE)) {
            storedHeaders.set(HttpHeaderNames.DATE, DateFormatter.format(new Date(now)));
        }
        int initial = (int) Math.max(0, Math.min(length, route.config.maxEntry()));
        letGo();
        fillMemory = cache.fillMemory();
        if (!hold(initial)) {
            return;
        }
        body = new byte[initial];
        responseTime = now;
    }

    /** Takes {@code bytes} more of the fill budget for the body; if there is none, the response is not stored. */
    private boolean hold(long bytes) {
        if (fillMemory.reserve(bytes)) {
            held += bytes;
            return true;
        }
        storing = false;
        body = null;
        letGo();
        count(CacheStats.Event.NOT_STORED);
        count(CacheStats.Event.FILL_MEMORY_FULL);
        return false;
    }

    /** Gives back what this fill holds of the budget. */
    private void letGo() {
        if (held > 0) {
            fillMemory.release(held);
            held = 0;
        }
    }

    private long responseTime;

    /** A qualified private or no-cache names fields that may not be stored (§5.2.2.4, §5.2.2.7). */
    private static void removeQualified(HttpHeaders h, String fields) {
        if (fields != null) {
            for (String field : fields.split(",")) {
                h.remove(field.trim());
            }
        }
    }

    /** A part of the response body on its way to the client; copied aside while it is being stored. */
    public void onBodyPart(ByteBuf content) {
        if (!storing) {
            return;
        }
        int n = content.readableBytes();
        if ((long) bodyLength + n > route.config.maxEntry()) {
            storing = false;
            body = null;
            letGo();
            count(CacheStats.Event.NOT_STORED);
            return;
        }
        if (bodyLength + n > body.length) {
            int grown = (int) Math.min(route.config.maxEntry(), Math.max(bodyLength + n, body.length * 2L + 1024));
            if (!hold(grown - body.length)) {
                return;
            }
            body = Arrays.copyOf(body, grown);
        }
        content.getBytes(content.readerIndex(), body, bodyLength, n);
        bodyLength += n;
    }

    /** The response ended cleanly: store it if it was being stored. */
    public void onResponseEnd() {
        if (!storing) {
            return;
        }
        storing = false;
        byte[] bytes = bodyLength == body.length ? body : Arrays.copyOf(body, bodyLength);
        body = null;
        // The budget is given back when the store has the body (for the fleet: sealed and sent).
        FillMemory from = fillMemory;
        long holding = held;
        held = 0;
        storedHeaders.set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        CachedHead h = CachedHead.of(upstreamStatus, storedReason, storedHeaders, requestTime, responseTime);
        long useful =
                route.policy.usefulFor(h, storedCc, route.config.keepStale().toMillis());
        if (useful <= 0) {
            from.release(holding);
            count(CacheStats.Event.NOT_STORED); // stale on arrival and nothing to revalidate with
            return;
        }
        String key = primaryKey;
        List<String> vary = varyFields(storedHeaders);
        if (!vary.isEmpty()) {
            key = variantKey(vary, request.headers());
            long markerLife = Math.max(useful, route.config.keepStale().toMillis());
            cache.store()
                    .putAsync(new StoredResponse(
                            primaryKey,
                            url,
                            Set.of(),
                            responseTime,
                            responseTime + markerLife,
                            CachedHead.varyMarker(vary, responseTime).encode(),
                            new byte[0]));
        }
        stored = true;
        fleetClaimed =
                false; // the primary key's slot is written (the entry or its Vary marker): that releases the claim
        count(CacheStats.Event.STORED);
        Fill done = fill;
        fill = null; // waiters are told once the store has it, so they find it when they look again
        cache.store()
                .putAsync(new StoredResponse(
                        key, url, tags(storedHeaders), responseTime, responseTime + useful, h.encode(), bytes))
                .whenComplete((v, error) -> {
                    from.release(holding);
                    endFill(done, error == null);
                });
    }

    private void endFill(Fill done, boolean stored) {
        if (done != null) {
            done.complete(stored);
            cache.fills.remove(primaryKey, done);
        }
    }

    private void refreshStored(HttpHeaders notModified, long now) {
        CachedHead refreshed = entryHead.refreshedBy(notModified, requestTime, now);
        long useful = route.policy.usefulFor(
                refreshed,
                route.policy.responseDirectives(refreshed),
                route.config.keepStale().toMillis());
        StoredResponse updated = new StoredResponse(
                entry.key(),
                entry.url(),
                entry.tags(),
                now,
                now + Math.max(1, useful),
                refreshed.encode(),
                entry.body());
        entry = updated;
        entryHead = refreshed;
        stored = true;
        if (updated.key().equals(primaryKey)) {
            fleetClaimed = false; // written over the claim
        }
        count(CacheStats.Event.REVALIDATED);
        cacheStatus = "fwd=" + fwd + "; fwd-status=304" + (collapsed ? "; collapsed" : "");
        Fill done = fill;
        fill = null;
        cache.store().putAsync(updated).whenComplete((v, error) -> endFill(done, error == null));
    }

    /** Called once when the exchange ends, however it ended: waiters of an unfinished fill go on. */
    public void finish() {
        storing = false;
        body = null;
        letGo();
        endFill(fill, stored);
        fill = null;
        if (fleetClaimed) {
            fleetClaimed = false;
            cache.store().releaseFillAsync(primaryKey);
        }
    }

    // ---- answering from the store ---------------------------------------------------------------

    /**
     * The response to send from the stored entry: the stored status, headers and body, with its
     * current Age and Cache-Status; a 304 when the client's own conditional matches; 206 or 416 for
     * a Range on a stored 200 (RFC 9110 §14); no body for HEAD. Cache-Status and the proxy's other
     * fields are the response pass's ({@link #describe}).
     */
    public FullHttpResponse storedResponse() {
        CachedHead h = entryHead;
        byte[] bytes = entry.body();
        HttpHeaders out = h.toHttpHeaders();
        long age = entryFacts != null && entryFacts.head() == h
                ? entryFacts.ageAt(cache.now())
                : CachePolicy.currentAge(h, cache.now());
        out.set(HttpHeaderNames.AGE, age / 1000);
        stripTargeted(out);
        HttpResponseStatus status = HttpResponseStatus.valueOf(h.status(), h.reason());
        ByteBuf content = Unpooled.EMPTY_BUFFER;
        boolean conditional = ifNoneMatch != null || ifModifiedSince != null;
        String etag = conditional || range != null ? h.header("ETag") : null;
        long lastModified =
                conditional || range != null ? Preconditions.date(h.header("Last-Modified")) : Preconditions.NO_DATE;
        if (h.status() == 200
                && conditional
                && Preconditions.notModified(listOf(ifNoneMatch), ifModifiedSince, etag, lastModified)) {
            status = HttpResponseStatus.NOT_MODIFIED;
            out.remove(HttpHeaderNames.CONTENT_LENGTH);
        } else if (h.status() == 200
                && range != null
                && Preconditions.ifRangeHolds(listOf(ifRange), etag, lastModified)) {
            long[] r = ByteRanges.parse(range, bytes.length);
            if (r == ByteRanges.UNSATISFIABLE) {
                status = HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE;
                out.set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + bytes.length);
                out.set(HttpHeaderNames.CONTENT_LENGTH, 0);
            } else if (r != null) {
                status = HttpResponseStatus.PARTIAL_CONTENT;
                int from = (int) r[0];
                int length = (int) (r[1] - r[0] + 1);
                out.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + r[0] + "-" + r[1] + "/" + bytes.length);
                out.set(HttpHeaderNames.CONTENT_LENGTH, length);
                content = head ? Unpooled.EMPTY_BUFFER : cache.body(entry, from, length);
            } else if (!head && bytes.length > 0) {
                content = cache.body(entry, 0, bytes.length);
            }
        } else if (!head && bytes.length > 0 && h.status() != 204 && h.status() != 304) {
            content = cache.body(entry, 0, bytes.length);
        }
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content, out, EmptyHttpHeaders.INSTANCE);
    }

    /** A field the client sent once (as kept before forwarding), as the evaluator takes field lines. */
    private static List<String> listOf(String value) {
        return value == null ? List.of() : List.of(value);
    }

    /**
     * Adds this cache's member to the response's {@code Cache-Status} (RFC 9211 §2: each cache
     * appends its own), once the flow has something to say: the lookup's verdict, what became of a
     * forwarded response, or why a response the proxy made (only-if-cached's 504) came from here.
     */
    public void describe(HttpHeaders headers) {
        if (cacheStatus != null) {
            addCacheStatus(headers, cacheStatus);
        }
    }

    // ---- background refresh ---------------------------------------------------------------------

    /**
     * A flow that revalidates this one's stale entry without a client (stale-while-revalidate), or
     * null when another request is already fetching this key (one refresh per key).
     */
    public CacheFlow refresh() {
        Fill mine = new Fill();
        if (cache.fills.putIfAbsent(primaryKey, mine) != null) {
            return null;
        }
        CacheFlow r = new CacheFlow(route, request, Mode.LOOKUP, url, primaryKey);
        r.entry = entry;
        r.entryHead = entryHead;
        r.entryCc = entryCc;
        r.entryFacts = entryFacts;
        r.judgement = judgement;
        r.fwd = "stale";
        r.revalidating = entryHead.header("ETag") != null || entryHead.header("Last-Modified") != null;
        r.fill = mine;
        count(CacheStats.Event.BACKGROUND_REFRESH);
        return r;
    }

    /**
     * Runs {@code start} unless another node is refreshing or filling this key (the fleet's fill
     * claim), so a stale-while-revalidate refresh happens once per fleet, not once per node that
     * served the stale copy; otherwise ends this refresh. If the fleet cannot be asked, refreshes.
     */
    public void ifNoOtherNodeRefreshes(EventExecutor loop, Runnable start) {
        CompletableFuture<Boolean> claim =
                cache.store().tryClaimFillAsync(primaryKey, route.fillLease).toCompletableFuture();
        if (claim.isDone()) {
            startOrEnd(claim.isCompletedExceptionally() ? null : claim.join(), start);
        } else {
            claim.whenComplete(
                    (granted, error) -> loop.execute(() -> startOrEnd(error == null ? granted : null, start)));
        }
    }

    private void startOrEnd(Boolean granted, Runnable start) {
        if (granted == null || granted) {
            fleetClaimed = granted != null; // the refreshed copy's store releases it; finish() otherwise
            start.run();
        } else {
            finish(); // another node refreshes: this node's waiters (if any) look again
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    private void invalidate(HttpHeaders response) {
        purge(url);
        URI base = URI.create(url.replace(" ", "%20"));
        for (CharSequence name : List.of(HttpHeaderNames.LOCATION, HttpHeaderNames.CONTENT_LOCATION)) {
            String target = response.get(name);
            if (target == null) {
                continue;
            }
            try {
                URI resolved = base.resolve(target.trim());
                // §4.4: only same-origin targets, so one origin cannot purge another's responses.
                if (base.getScheme().equalsIgnoreCase(resolved.getScheme())
                        && base.getRawAuthority().equalsIgnoreCase(resolved.getRawAuthority())) {
                    purge(resolved.toString());
                }
            } catch (IllegalArgumentException e) {
                // an unparsable Location invalidates nothing more
            }
        }
    }

    /** Off the event loop for a shared store; at once for the local one, which indexes URLs. */
    private void purge(String target) {
        cache.store().purgeUrlAsync(target).thenAccept(n -> count(CacheStats.Event.INVALIDATED, n));
    }

    private void stripTargeted(HttpHeaders h) {
        if (route.config.stripTargeted()) {
            for (String field : route.policy.targetedFields()) {
                h.remove(field);
            }
        }
    }

    /** RFC 9211 §2: each cache appends its own member to the list. */
    private static void addCacheStatus(HttpHeaders h, String params) {
        String mine = NAME + "; " + params;
        String existing = h.get("Cache-Status");
        h.set("Cache-Status", existing == null ? mine : existing + ", " + mine);
    }

    private static List<String> varyFields(HttpHeaders h) {
        Set<String> fields = new LinkedHashSet<>();
        for (String v : h.getAll(HttpHeaderNames.VARY)) {
            for (String f : v.split(",")) {
                String name = f.trim().toLowerCase(Locale.ROOT);
                if (!name.isEmpty()) {
                    fields.add(name);
                }
            }
        }
        return new ArrayList<>(fields);
    }

    /** §4.1: the secondary key, from the request's values of the fields the response varies on. */
    private String variantKey(List<String> fields, HttpHeaders request) {
        StringBuilder key = new StringBuilder(primaryKey).append('\u0000');
        for (String field : fields) {
            List<String> values = request.getAll(field);
            key.append(field).append('=');
            for (int i = 0; i < values.size(); i++) {
                if (i > 0) {
                    key.append(',');
                }
                key.append(values.get(i).trim().replaceAll("\\s*,\\s*", ","));
            }
            key.append('\u0000');
        }
        return key.toString();
    }

    private Set<String> tags(HttpHeaders h) {
        Set<String> tags = new LinkedHashSet<>();
        for (String v : h.getAll(route.config.tagHeader())) {
            for (String tag : v.split("[\\s,]+")) {
                if (!tag.isEmpty()) {
                    tags.add(tag);
                }
            }
        }
        return tags;
    }

    private void count(CacheStats.Event event) {
        cache.stats().count(event);
    }

    private void count(CacheStats.Event event, long n) {
        cache.stats().count(event, n);
    }

    /** The status the stored response will be sent with (before conditionals and ranges). */
    public int storedStatus() {
        return entryHead == null ? 0 : entryHead.status();
    }
}
