package io.flotilla.node.cache;

import static io.flotilla.node.testing.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.cache.StoredResponse;
import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * RFC 9111 (and RFC 5861, 9211, 9213) end to end: a real node in front of a scripted origin; every
 * test asserts statuses, headers, and how many requests reached the origin.
 */
class CacheTest {
    /** What the origin answers for one path; {@code version} counts the origin's answers for it. */
    record Reply(int status, Map<String, String> headers, String body) {}

    private final Map<String, Function<TestOrigin.Received, Reply>> script = new ConcurrentHashMap<>();
    private final AtomicInteger version = new AtomicInteger();
    /** How far the cache's clock is ahead of the wall clock: tests move time on instead of sleeping. */
    private final AtomicLong ahead = new AtomicLong();

    private TestOrigin origin;
    private TestNode node;

    @BeforeEach
    void start() throws Exception {
        origin = TestOrigin.start((request, out) -> {
            String path = request.target();
            int q = path.indexOf('?');
            Function<TestOrigin.Received, Reply> f = script.get(q < 0 ? path : path.substring(0, q));
            Reply r = f == null ? new Reply(404, Map.of(), "no script") : f.apply(request);
            Map<String, String> headers = new LinkedHashMap<>(r.headers());
            byte[] body = r.body().getBytes(StandardCharsets.ISO_8859_1);
            boolean bodyless = request.method().equals("HEAD") || r.status() == 304 || r.status() == 204;
            if (bodyless && r.status() == 304) {
                headers.put("Content-Length", "0");
            }
            TestOrigin.writeResponse(out, r.status(), headers, body, !bodyless);
            return true;
        });
        node = startNode("");
    }

    private TestNode startNode(String extra) throws Exception {
        return TestNode.startWith(
                "node: {name: cache-node, event_loops: 1, admin: 127.0.0.1:0}\n"
                        + "listeners:\n  - bind: 127.0.0.1:0\n"
                        + "upstreams:\n  app:\n    servers: [" + origin.address() + "]\n"
                        + "routes:\n"
                        + "  - {path: /, upstream: app, cache: true}\n"
                        + "  - {path: /nocache/, upstream: app}\n"
                        + "  - {path: /cookies/, upstream: app, cache: {allow_set_cookie: true}}\n"
                        + "  - {path: /keyed/, upstream: app, cache: {key: {headers: [X-Device]}, bypass: ['header:X-Bypass', 'cookie:session']}}\n"
                        + "  - {path: /noquery/, upstream: app, cache: {key: {query: false}}}\n"
                        + "cache: {max_entry: 64k}\n" + extra,
                () -> System.currentTimeMillis() + ahead.get());
    }

    /** Moves the cache's clock on, as if {@code millis} had passed. */
    private void advance(long millis) {
        ahead.addAndGet(millis);
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
        origin.close();
    }

    /** Scripts {@code path} to answer 200 with {@code body} + a version number, and these headers. */
    private void serve(String path, String... headers) {
        script.put(path, r -> new Reply(200, pairs(headers), "v" + version.incrementAndGet()));
    }

    private static Map<String, String> pairs(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private RawClient.Response get(String target, String... headers) throws Exception {
        return request("GET", target, headers);
    }

    private RawClient.Response request(String method, String target, String... headers) throws Exception {
        StringBuilder raw =
                new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: example.com\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            raw.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        if (!method.equals("GET") && !method.equals("HEAD")) {
            raw.append("Content-Length: 0\r\n");
        }
        raw.append("\r\n");
        try (RawClient client = node.client()) {
            client.send(raw.toString());
            return client.read(method.equals("HEAD"));
        }
    }

    private long originCount(String path) {
        return origin.received().stream()
                .filter(r -> r.target().equals(path) || r.target().startsWith(path + "?"))
                .count();
    }

    private static String http(long epochMillis) {
        return DateFormatter.format(new Date(epochMillis));
    }

    // ---- §3 storing, §4.2 freshness -------------------------------------------------------------

    @Test
    void maxAgeResponseIsStoredThenServedWithAgeAndCacheStatus() throws Exception {
        serve("/a", "Cache-Control", "max-age=60");
        RawClient.Response first = get("/a");
        assertEquals(200, first.status());
        assertEquals("flotilla; fwd=uri-miss; stored", first.header("Cache-Status"));
        RawClient.Response second = get("/a");
        assertEquals(200, second.status());
        assertEquals("v1", second.bodyText());
        assertTrue(second.header("Cache-Status").startsWith("flotilla; hit; ttl="), second.header("Cache-Status"));
        assertNotNull(second.header("Age"));
        assertTrue(Long.parseLong(second.header("Age")) <= 1);
        assertEquals(1, originCount("/a"));
    }

    @Test
    void ageFromUpstreamCountsAgainstFreshness() throws Exception {
        serve("/aged", "Cache-Control", "max-age=60", "Age", "59");
        get("/aged");
        RawClient.Response second = get("/aged");
        assertTrue(Long.parseLong(second.header("Age")) >= 59, second.header("Age"));
        advance(1100);
        get("/aged");
        assertEquals(2, originCount("/aged"), "an Age of 59 of 60 seconds leaves about one second of freshness");
    }

    @Test
    void sMaxAgeTakesPrecedenceOverMaxAgeForASharedCache() throws Exception {
        serve("/s", "Cache-Control", "max-age=600, s-maxage=0");
        get("/s");
        get("/s");
        assertEquals(2, originCount("/s"));
    }

    @Test
    void expiresInTheFutureIsFreshAndInvalidExpiresIsStale() throws Exception {
        long now = System.currentTimeMillis();
        serve("/exp", "Date", http(now), "Expires", http(now + 60_000));
        serve("/exp0", "Expires", "0");
        get("/exp");
        assertTrue(get("/exp").header("Cache-Status").contains("hit"));
        get("/exp0");
        get("/exp0");
        assertEquals(1, originCount("/exp"));
        assertEquals(2, originCount("/exp0"));
    }

    @Test
    void maxAgeOverridesExpires() throws Exception {
        long now = System.currentTimeMillis();
        serve("/me", "Cache-Control", "max-age=0", "Expires", http(now + 600_000));
        get("/me");
        get("/me");
        assertEquals(2, originCount("/me"));
    }

    @Test
    void privateAndNoStoreAreNeverStored() throws Exception {
        serve("/p", "Cache-Control", "private, max-age=60");
        serve("/ns", "Cache-Control", "no-store, max-age=60");
        get("/p");
        RawClient.Response p = get("/p");
        assertEquals("flotilla; fwd=uri-miss", p.header("Cache-Status"));
        get("/ns");
        get("/ns");
        assertEquals(2, originCount("/p"));
        assertEquals(2, originCount("/ns"));
    }

    @Test
    void heuristicFreshnessFromLastModified() throws Exception {
        long now = System.currentTimeMillis();
        serve("/h", "Date", http(now), "Last-Modified", http(now - 10L * 86_400_000));
        get("/h");
        RawClient.Response hit = get("/h");
        assertTrue(hit.header("Cache-Status").startsWith("flotilla; hit"));
        assertEquals(1, originCount("/h"));
    }

    @Test
    void noFreshnessAndNoValidatorIsNotReused() throws Exception {
        serve("/plain");
        get("/plain");
        get("/plain");
        assertEquals(2, originCount("/plain"));
    }

    @Test
    void errorsAreCachedOnlyWhenTheirHeadersSaySo() throws Exception {
        script.put(
                "/404",
                r -> new Reply(
                        404, Map.of("Last-Modified", http(System.currentTimeMillis() - 86_400_000L * 30)), "gone"));
        script.put("/404ok", r -> new Reply(404, Map.of("Cache-Control", "max-age=60"), "gone"));
        script.put("/500", r -> new Reply(500, Map.of(), "boom"));
        for (int i = 0; i < 2; i++) {
            assertEquals(404, get("/404").status());
            assertEquals(404, get("/404ok").status());
            assertEquals(500, get("/500").status());
        }
        assertEquals(2, originCount("/404"), "a 404 without explicit freshness is not reused");
        assertEquals(1, originCount("/404ok"));
        assertEquals(2, originCount("/500"));
    }

    @Test
    void authorizedRequestsOnlyReuseResponsesThatAllowIt() throws Exception {
        serve("/auth", "Cache-Control", "max-age=60");
        serve("/authpub", "Cache-Control", "public, max-age=60");
        get("/auth", "Authorization", "Bearer a");
        get("/auth", "Authorization", "Bearer b");
        get("/authpub", "Authorization", "Bearer a");
        RawClient.Response reused = get("/authpub", "Authorization", "Bearer b");
        assertEquals(2, originCount("/auth"));
        assertEquals(1, originCount("/authpub"));
        assertTrue(reused.header("Cache-Status").contains("hit"));
    }

    @Test
    void setCookieIsNotStoredUnlessTheRouteAllowsIt() throws Exception {
        serve("/sc", "Cache-Control", "max-age=60", "Set-Cookie", "id=1");
        serve("/cookies/sc", "Cache-Control", "max-age=60", "Set-Cookie", "id=1");
        get("/sc");
        get("/sc");
        get("/cookies/sc");
        get("/cookies/sc");
        assertEquals(2, originCount("/sc"));
        assertEquals(1, originCount("/cookies/sc"));
    }

    // ---- §4.1 Vary ------------------------------------------------------------------------------

    @Test
    void varyKeepsOneVariantPerSelectingHeaderValue() throws Exception {
        script.put(
                "/v",
                r -> new Reply(
                        200,
                        pairs("Cache-Control", "max-age=60", "Vary", "Accept-Language"),
                        "lang=" + r.header("Accept-Language")));
        assertEquals("lang=en", get("/v", "Accept-Language", "en").bodyText());
        RawClient.Response fr = get("/v", "Accept-Language", "fr");
        assertEquals("lang=fr", fr.bodyText());
        assertEquals("flotilla; fwd=vary-miss; stored", fr.header("Cache-Status"));
        assertEquals("lang=en", get("/v", "Accept-Language", "en").bodyText());
        assertEquals("lang=fr", get("/v", "Accept-Language", "fr").bodyText());
        assertEquals(2, originCount("/v"));
    }

    @Test
    void varyStarNeverMatches() throws Exception {
        serve("/vs", "Cache-Control", "max-age=60", "Vary", "*");
        get("/vs");
        get("/vs");
        assertEquals(2, originCount("/vs"));
    }

    // ---- §4.3 validation ------------------------------------------------------------------------

    @Test
    void staleEntryIsRevalidatedAndA304RefreshesItsHeaders() throws Exception {
        AtomicInteger n = new AtomicInteger();
        script.put("/val", r -> {
            if ("\"e1\"".equals(r.header("If-None-Match"))) {
                return new Reply(304, pairs("ETag", "\"e1\"", "Cache-Control", "max-age=60", "X-Refreshed", "yes"), "");
            }
            n.incrementAndGet();
            return new Reply(200, pairs("ETag", "\"e1\"", "Cache-Control", "max-age=0", "X-Refreshed", "no"), "body-1");
        });
        get("/val");
        RawClient.Response revalidated = get("/val");
        assertEquals(200, revalidated.status());
        assertEquals("body-1", revalidated.bodyText());
        assertEquals("yes", revalidated.header("X-Refreshed"));
        assertEquals("flotilla; fwd=stale; fwd-status=304", revalidated.header("Cache-Status"));
        assertEquals("\"e1\"", origin.last().header("If-None-Match"));
        RawClient.Response fresh = get("/val");
        assertTrue(fresh.header("Cache-Status").contains("hit"), "the 304's max-age=60 made it fresh");
        assertEquals(2, originCount("/val"));
        assertEquals(1, n.get());
    }

    @Test
    void lastModifiedIsUsedAsValidatorWhenThereIsNoETag() throws Exception {
        String lm = http(System.currentTimeMillis() - 3_600_000);
        script.put(
                "/lm",
                r -> lm.equals(r.header("If-Modified-Since"))
                        ? new Reply(304, pairs("Cache-Control", "no-cache"), "")
                        : new Reply(200, pairs("Last-Modified", lm, "Cache-Control", "no-cache"), "lm-body"));
        get("/lm");
        RawClient.Response second = get("/lm");
        assertEquals("lm-body", second.bodyText());
        assertEquals(lm, origin.last().header("If-Modified-Since"));
        assertTrue(second.header("Cache-Status").contains("fwd-status=304"));
    }

    @Test
    void clientConditionalsAreAnsweredFromTheCache() throws Exception {
        String lm = http(System.currentTimeMillis() - 3_600_000);
        serve("/cond", "Cache-Control", "max-age=60", "ETag", "W/\"x\"", "Last-Modified", lm);
        get("/cond");
        RawClient.Response inm = get("/cond", "If-None-Match", "\"y\", W/\"x\"");
        assertEquals(304, inm.status());
        assertEquals(0, inm.body().length);
        assertEquals("W/\"x\"", inm.header("ETag"));
        RawClient.Response ims = get("/cond", "If-Modified-Since", lm);
        assertEquals(304, ims.status());
        RawClient.Response changed = get("/cond", "If-None-Match", "\"other\"");
        assertEquals(200, changed.status());
        assertEquals(1, originCount("/cond"));
    }

    // ---- §5.2.1 request directives -------------------------------------------------------------

    @Test
    void requestMaxAgeZeroAndNoCacheGoToTheOrigin() throws Exception {
        serve("/rq", "Cache-Control", "max-age=60");
        get("/rq");
        RawClient.Response forced = get("/rq", "Cache-Control", "max-age=0");
        assertEquals("flotilla; fwd=request; stored", forced.header("Cache-Status"));
        get("/rq", "Cache-Control", "no-cache");
        get("/rq", "Pragma", "no-cache");
        assertEquals(4, originCount("/rq"));
        assertTrue(get("/rq").header("Cache-Status").contains("hit"));
        assertEquals(4, originCount("/rq"));
    }

    @Test
    void minFreshAsksForMoreFreshnessThanLeft() throws Exception {
        serve("/mf", "Cache-Control", "max-age=60");
        get("/mf");
        get("/mf", "Cache-Control", "min-fresh=30");
        get("/mf", "Cache-Control", "min-fresh=120");
        assertEquals(2, originCount("/mf"));
    }

    @Test
    void maxStaleAcceptsAStaleEntry() throws Exception {
        serve("/ms", "Cache-Control", "max-age=1");
        get("/ms");
        advance(1500);
        RawClient.Response stale = get("/ms", "Cache-Control", "max-stale=60");
        assertTrue(stale.header("Cache-Status").startsWith("flotilla; hit; ttl=-"), stale.header("Cache-Status"));
        assertEquals(1, originCount("/ms"));
        get("/ms", "Cache-Control", "max-stale=0");
        assertEquals(2, originCount("/ms"));
    }

    @Test
    void mustRevalidateForbidsMaxStale() throws Exception {
        serve("/mr", "Cache-Control", "max-age=1, must-revalidate");
        get("/mr");
        advance(1500);
        get("/mr", "Cache-Control", "max-stale");
        assertEquals(2, originCount("/mr"));
    }

    @Test
    void requestNoStoreIsNotStored() throws Exception {
        serve("/rns", "Cache-Control", "max-age=60");
        get("/rns", "Cache-Control", "no-store");
        get("/rns");
        assertEquals(2, originCount("/rns"));
    }

    @Test
    void onlyIfCachedMissIsA504WithoutContactingTheOrigin() throws Exception {
        serve("/oic", "Cache-Control", "max-age=60");
        RawClient.Response miss = get("/oic", "Cache-Control", "only-if-cached");
        assertEquals(504, miss.status());
        assertEquals("flotilla; fwd=uri-miss; detail=only-if-cached", miss.header("Cache-Status"));
        assertEquals(0, originCount("/oic"));
        get("/oic");
        assertEquals(200, get("/oic", "Cache-Control", "only-if-cached").status());
        assertEquals(1, originCount("/oic"));
    }

    // ---- RFC 9213 targeted cache control --------------------------------------------------------

    @Test
    void cdnCacheControlWinsOverCacheControlAndIsNotForwarded() throws Exception {
        serve("/cdn", "Cache-Control", "no-store", "CDN-Cache-Control", "max-age=60");
        serve(
                "/own",
                "Cache-Control",
                "max-age=60",
                "CDN-Cache-Control",
                "max-age=60",
                "Flotilla-Cache-Control",
                "no-store");
        RawClient.Response first = get("/cdn");
        assertNull(first.header("CDN-Cache-Control"));
        assertEquals("no-store", first.header("Cache-Control"), "Cache-Control is for caches downstream");
        RawClient.Response hit = get("/cdn");
        assertTrue(hit.header("Cache-Status").contains("hit"));
        assertNull(hit.header("CDN-Cache-Control"));
        get("/own");
        get("/own");
        assertEquals(1, originCount("/cdn"));
        assertEquals(2, originCount("/own"), "the fleet's own field has the highest precedence");
    }

    // ---- §4.4 invalidation ----------------------------------------------------------------------

    @Test
    void successfulUnsafeMethodsInvalidateTheTargetAndSameOriginLocation() throws Exception {
        serve("/inv", "Cache-Control", "max-age=60");
        serve("/other", "Cache-Control", "max-age=60");
        script.put(
                "/form",
                r -> new Reply(303, pairs("Location", "/other", "Content-Location", "http://evil.example/inv"), ""));
        get("/inv");
        get("/other");
        request("POST", "/form");
        assertEquals(200, request("DELETE", "/inv").status());
        get("/inv");
        get("/other");
        assertEquals(3, originCount("/inv"), "GET, DELETE, GET");
        assertEquals(2, originCount("/other"), "invalidated by the POST's same-origin Location");
    }

    @Test
    void failedUnsafeMethodsInvalidateNothing() throws Exception {
        serve("/keep", "Cache-Control", "max-age=60");
        get("/keep");
        script.put(
                "/keep",
                r -> r.method().equals("POST")
                        ? new Reply(500, Map.of(), "no")
                        : new Reply(200, pairs("Cache-Control", "max-age=60"), "again"));
        request("POST", "/keep");
        assertEquals("v1", get("/keep").bodyText());
    }

    // ---- RFC 5861 -------------------------------------------------------------------------------

    @Test
    void staleWhileRevalidateServesStaleAndRefreshesOnceInTheBackground() throws Exception {
        // The refreshed copy lives longer: the Date the node adds for an origin that sends none has
        // whole seconds, so a max-age=1 copy can be up to a second old (stale) when it is stored.
        script.put("/swr", r -> {
            int v = version.incrementAndGet();
            return new Reply(
                    200,
                    pairs(
                            "Cache-Control",
                            (v == 1 ? "max-age=1" : "max-age=60") + ", stale-while-revalidate=30",
                            "ETag",
                            "\"s\""),
                    "v" + v);
        });
        get("/swr");
        advance(1300);
        RawClient.Response stale = get("/swr");
        assertEquals("v1", stale.bodyText());
        assertTrue(stale.header("Cache-Status").contains("stale-while-revalidate"), stale.header("Cache-Status"));
        await("the background refresh to reach the origin", 5, () -> originCount("/swr") >= 2);
        await("the refreshed copy to be stored", 5, () -> {
            StoredResponse stored = cache().store().getIfLocal("http://example.com/swr");
            return stored != null && new String(stored.body(), StandardCharsets.US_ASCII).equals("v2");
        });
        RawClient.Response fresh = get("/swr");
        assertEquals("v2", fresh.bodyText());
        assertTrue(fresh.header("Cache-Status").startsWith("flotilla; hit"));
        assertEquals(2, originCount("/swr"));
    }

    @Test
    void staleIfErrorServesStaleWhenTheOriginFailsOrIsDown() throws Exception {
        serve("/sie", "Cache-Control", "max-age=1, stale-if-error=60");
        get("/sie");
        advance(1300);
        script.put("/sie", r -> new Reply(503, Map.of(), "down"));
        RawClient.Response onError = get("/sie");
        assertEquals(200, onError.status());
        assertEquals("v1", onError.bodyText());
        assertTrue(onError.header("Cache-Status").contains("fwd-status=503"), onError.header("Cache-Status"));
        origin.close();
        RawClient.Response onDown = get("/sie");
        assertEquals(200, onDown.status());
        assertEquals("v1", onDown.bodyText());
        assertTrue(onDown.header("Cache-Status").contains("stale-if-error"));
    }

    @Test
    void withoutStaleIfErrorAnOriginFailureIsRelayed() throws Exception {
        serve("/nosie", "Cache-Control", "max-age=1");
        get("/nosie");
        advance(1300);
        script.put("/nosie", r -> new Reply(503, Map.of(), "down"));
        assertEquals(503, get("/nosie").status());
    }

    // ---- collapsing -----------------------------------------------------------------------------

    @Test
    void concurrentMissesCauseOneOriginFetch() throws Exception {
        script.put("/slow", r -> {
            sleep(400);
            return new Reply(200, pairs("Cache-Control", "max-age=60"), "slow-" + version.incrementAndGet());
        });
        RawClient.Response[] responses = concurrently(8, "/slow");
        for (RawClient.Response r : responses) {
            assertEquals(200, r.status());
            assertEquals("slow-1", r.bodyText());
        }
        assertEquals(1, originCount("/slow"));
    }

    @Test
    void anUncacheableFillReleasesItsWaitersToTheOrigin() throws Exception {
        script.put("/slowpriv", r -> {
            sleep(300);
            return new Reply(200, pairs("Cache-Control", "private"), "p" + version.incrementAndGet());
        });
        RawClient.Response[] responses = concurrently(4, "/slowpriv");
        for (RawClient.Response r : responses) {
            assertEquals(200, r.status());
        }
        assertEquals(4, originCount("/slowpriv"));
    }

    private RawClient.Response[] concurrently(int n, String target) throws Exception {
        RawClient.Response[] out = new RawClient.Response[n];
        Thread[] threads = new Thread[n];
        Exception[] failure = new Exception[1];
        for (int i = 0; i < n; i++) {
            int index = i;
            threads[i] = new Thread(() -> {
                try {
                    out[index] = get(target);
                } catch (Exception e) {
                    failure[0] = e;
                }
            });
            threads[i].start();
        }
        for (Thread t : threads) {
            t.join(15_000);
        }
        if (failure[0] != null) {
            throw failure[0];
        }
        return out;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- HEAD, Range, key, bypass, limits --------------------------------------------------------

    @Test
    void headIsAnsweredFromAStoredGet() throws Exception {
        serve("/head", "Cache-Control", "max-age=60");
        RawClient.Response get = get("/head");
        RawClient.Response head = request("HEAD", "/head");
        assertEquals(200, head.status());
        assertEquals(get.header("Content-Length"), head.header("Content-Length"));
        assertEquals(0, head.body().length);
        assertEquals(1, originCount("/head"));
    }

    @Test
    void rangesAreServedFromTheStoredFullResponse() throws Exception {
        script.put("/range", r -> new Reply(200, pairs("Cache-Control", "max-age=60", "ETag", "\"r\""), "0123456789"));
        get("/range");
        RawClient.Response part = get("/range", "Range", "bytes=2-5");
        assertEquals(206, part.status());
        assertEquals("2345", part.bodyText());
        assertEquals("bytes 2-5/10", part.header("Content-Range"));
        assertEquals("789", get("/range", "Range", "bytes=-3").bodyText());
        RawClient.Response none = get("/range", "Range", "bytes=20-");
        assertEquals(416, none.status());
        assertEquals("bytes */10", none.header("Content-Range"));
        assertEquals(
                200,
                get("/range", "Range", "bytes=2-5", "If-Range", "\"other\"").status());
        assertEquals(
                206, get("/range", "Range", "bytes=2-5", "If-Range", "\"r\"").status());
        assertEquals(1, originCount("/range"));
    }

    @Test
    void theQueryIsPartOfTheKeyUnlessTheRouteSaysOtherwise() throws Exception {
        serve("/q", "Cache-Control", "max-age=60");
        serve("/noquery/q", "Cache-Control", "max-age=60");
        get("/q?a=1");
        get("/q?a=2");
        get("/q?a=1");
        get("/noquery/q?a=1");
        get("/noquery/q?a=2");
        assertEquals(2, originCount("/q"));
        assertEquals(1, originCount("/noquery/q"));
    }

    @Test
    void configuredHeadersArePartOfTheKeyAndBypassConditionsSkipTheCache() throws Exception {
        serve("/keyed/k", "Cache-Control", "max-age=60");
        get("/keyed/k", "X-Device", "mobile");
        get("/keyed/k", "X-Device", "desktop");
        get("/keyed/k", "X-Device", "mobile");
        assertEquals(2, originCount("/keyed/k"));
        RawClient.Response bypass = get("/keyed/k", "X-Device", "mobile", "X-Bypass", "1");
        assertEquals("flotilla; fwd=bypass", bypass.header("Cache-Status"));
        get("/keyed/k", "X-Device", "mobile", "Cookie", "a=b; session=s1");
        assertEquals(4, originCount("/keyed/k"));
    }

    @Test
    void responsesOverTheEntryLimitAreRelayedButNotStored() throws Exception {
        String big = "x".repeat(100 * 1024);
        script.put("/big", r -> new Reply(200, pairs("Cache-Control", "max-age=60"), big));
        assertEquals(big.length(), get("/big").body().length);
        assertEquals(big.length(), get("/big").body().length);
        assertEquals(2, originCount("/big"));
    }

    @Test
    void chunkedResponsesAreStoredWithTheirLength() throws Exception {
        script.put(
                "/chunked",
                r -> new Reply(
                        200,
                        pairs("Cache-Control", "max-age=60", "Transfer-Encoding", "chunked"),
                        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
        assertEquals("hello world", get("/chunked").bodyText());
        RawClient.Response hit = get("/chunked");
        assertEquals("hello world", hit.bodyText());
        assertEquals("11", hit.header("Content-Length"));
        assertNull(hit.header("Transfer-Encoding"));
        assertEquals(1, originCount("/chunked"));
    }

    @Test
    void routesWithoutCacheNeverTouchIt() throws Exception {
        serve("/nocache/x", "Cache-Control", "max-age=60");
        assertNull(get("/nocache/x").header("Cache-Status"));
        get("/nocache/x");
        assertEquals(2, originCount("/nocache/x"));
    }

    // ---- purge and stats through the admin API --------------------------------------------------

    private RawClient.Response admin(String method, String target) throws Exception {
        try (RawClient client = new RawClient(node.adminPort())) {
            client.send(method + " " + target + " HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n");
            return client.read();
        }
    }

    @Test
    void purgeByUrlPrefixAndTag() throws Exception {
        serve("/img/1", "Cache-Control", "max-age=60", "Surrogate-Key", "product-1 all");
        serve("/img/2", "Cache-Control", "max-age=60", "Surrogate-Key", "product-2 all");
        serve("/css/s", "Cache-Control", "max-age=60", "Surrogate-Key", "all");
        serve("/page", "Cache-Control", "max-age=60", "Surrogate-Key", "product-1");
        for (String p : new String[] {"/img/1", "/img/2", "/css/s", "/page"}) {
            get(p);
        }
        RawClient.Response byUrl = admin("POST", "/cache/purge?url=http://example.com/css/s");
        assertEquals(200, byUrl.status());
        assertEquals("{\"purged\":1}", byUrl.bodyText().trim());
        assertEquals(
                "{\"purged\":2}",
                admin("POST", "/cache/purge?tag=product-1").bodyText().trim());
        assertEquals(
                "{\"purged\":1}",
                admin("POST", "/cache/purge?prefix=http://example.com/img/")
                        .bodyText()
                        .trim());
        for (String p : new String[] {"/img/1", "/img/2", "/css/s", "/page"}) {
            assertTrue(get(p).header("Cache-Status").contains("fwd=uri-miss"), p);
            assertEquals(2, originCount(p), p);
        }
        assertEquals(400, admin("POST", "/cache/purge?colour=red").status());
        assertEquals(400, admin("POST", "/cache/purge").status());
    }

    @Test
    void statsCountWhatTheCacheDid() throws Exception {
        serve("/st", "Cache-Control", "max-age=60");
        get("/st");
        get("/st");
        get("/st");
        RawClient.Response stats = admin("GET", "/cache");
        assertEquals(200, stats.status());
        String json = stats.bodyText();
        assertTrue(json.contains("\"hit\":2"), json);
        assertTrue(json.contains("\"miss\":1"), json);
        assertTrue(json.contains("\"stored\":1"), json);
        assertTrue(json.contains("\"entries\":1"), json);
        String metrics = admin("GET", "/metrics").bodyText();
        assertTrue(metrics.contains("flotilla_cache_events_total{event=\"hit\",} 2.0"), metrics);
    }

    // ---- poisoning and deception ----------------------------------------------------------------

    @Test
    void unkeyedForwardedHostCannotPoisonWhatOthersGet() throws Exception {
        script.put(
                "/poison",
                r -> new Reply(
                        200,
                        pairs("Cache-Control", "max-age=60"),
                        "<script src=//" + r.header("X-Forwarded-Host") + "/app.js>"));
        RawClient.Response attacker = get("/poison", "X-Forwarded-Host", "evil.example");
        RawClient.Response victim = get("/poison");
        assertFalse(victim.bodyText().contains("evil.example"), victim.bodyText());
        assertFalse(attacker.bodyText().contains("evil.example"), "the proxy sets X-Forwarded-Host itself");
    }

    @Test
    void staticLookingPathsAreCachedOnlyWhenTheOriginAllowsIt() throws Exception {
        script.put(
                "/account/x.css",
                r -> new Reply(200, pairs("Content-Type", "text/html"), "account of " + r.header("Cookie")));
        get("/account/x.css", "Cookie", "session=alice");
        RawClient.Response other = get("/account/x.css", "Cookie", "session=bob");
        assertEquals("account of session=bob", other.bodyText());
        assertEquals(2, originCount("/account/x.css"));
    }

    // ---- issue 14's fixed bugs ------------------------------------------------------------------

    /** A GET with a body goes past the cache: its response must not be stored under the body-less key. */
    @Test
    void aGetWithABodyIsNeverStored() throws Exception {
        serve("/gb", "Cache-Control", "max-age=60");
        RawClient.Response withBody;
        try (RawClient client = node.client()) {
            client.send("GET /gb HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\nabcd");
            withBody = client.read();
        }
        assertEquals(200, withBody.status());
        assertFalse(withBody.header("Cache-Status").contains("stored"), withBody.header("Cache-Status"));
        RawClient.Response plain = get("/gb");
        assertEquals("v2", plain.bodyText(), "the body-less GET went to the origin");
        assertEquals(2, originCount("/gb"));
    }

    /** RFC 9110 §7.6.3: the node that serves a hit appends its own Via, whoever stored the entry. */
    @Test
    void aHitCarriesTheServingNodesVia() throws Exception {
        serve("/via", "Cache-Control", "max-age=60");
        assertEquals("1.1 cache-node", get("/via").header("Via"));
        assertEquals("1.1 cache-node", get("/via").header("Via"), "a hit on the storing node: one member, not two");

        long now = System.currentTimeMillis();
        HttpHeaders stored = new DefaultHttpHeaders()
                .add("Cache-Control", "max-age=60")
                .add("Content-Length", "5")
                .add("Via", "1.1 storing-node")
                .add("Date", http(now));
        CachedHead head = CachedHead.of(200, "OK", stored, now, now);
        cache().store()
                .putAsync(new StoredResponse(
                        "http://example.com/other",
                        "http://example.com/other",
                        Set.of(),
                        now,
                        now + 60_000,
                        head.encode(),
                        "other".getBytes(StandardCharsets.US_ASCII)))
                .toCompletableFuture()
                .join();
        RawClient.Response hit = get("/other");
        assertEquals("other", hit.bodyText());
        assertEquals("1.1 storing-node, 1.1 cache-node", hit.header("Via"));
    }

    /** Stopping the node releases the cache: its direct copies of hot bodies go back to the allocator. */
    @Test
    void stoppingTheNodeReleasesTheCache() throws Exception {
        script.put("/big", r -> new Reply(200, Map.of("Cache-Control", "max-age=60"), "x".repeat(32 * 1024)));
        get("/big");
        assertEquals(32 * 1024, get("/big").bodyText().length());
        StoredResponse entry = cache().store().getIfLocal("http://example.com/big");
        assertNotNull(entry);
        ByteBuf body = cache().body(entry, 0, 16);
        body.release();
        await("the hit's write to release its slice", 5, () -> body.refCnt() == 1); // the cache's own reference
        node.close();
        assertEquals(0, body.refCnt(), "released when the node stopped");
        node = startNode("");
    }

    private ResponseCache cache() {
        return node.node().cache();
    }
}
