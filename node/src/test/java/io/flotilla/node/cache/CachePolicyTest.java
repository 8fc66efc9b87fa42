package io.flotilla.node.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 9111's arithmetic and rules, checked against the numbers worked from the RFC's own text. */
class CachePolicyTest {
    private static final long T0 = 1_700_000_000_000L;
    private final CachePolicy policy =
            new CachePolicy(List.of("Flotilla-Cache-Control", "CDN-Cache-Control"), 0.1, 86_400_000L, false);

    private static CachedHead head(int status, long requestTime, long responseTime, String... kv) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < kv.length; i += 2) {
            h.add(kv[i], kv[i + 1]);
        }
        return CachedHead.of(status, "OK", h, requestTime, responseTime);
    }

    private static String date(long millis) {
        return DateFormatter.format(new Date(millis));
    }

    @Test
    void directivesParseCaseInsensitivelyWithQuotedArguments() {
        CacheControl cc = CacheControl.parse("Max-Age=60, no-cache=\"Set-Cookie, X-A\", PUBLIC, s-maxage=\"30\"");
        assertEquals(60, cc.seconds("max-age", 0));
        assertEquals(30, cc.seconds("s-maxage", 0));
        assertEquals("Set-Cookie, X-A", cc.argument("no-cache"));
        assertTrue(cc.has("public"));
        assertEquals(-1, cc.seconds("min-fresh", 0));
        assertEquals(0, CacheControl.parse("max-age=abc").seconds("max-age", 0), "invalid: treated as stale");
        assertEquals(0, CacheControl.parse("max-age=5, max-age=10").seconds("max-age", 0), "conflicting duplicates");
        assertEquals(
                Integer.MAX_VALUE, CacheControl.parse("max-age=99999999999999").seconds("max-age", 0));
    }

    @Test
    void currentAgeFollowsSection423() {
        // Sent at T0, answered 2 s later, Date 5 s before arrival, Age: 10 from an upstream cache.
        CachedHead h = head(200, T0, T0 + 2000, "Date", date(T0 - 3000), "Age", "10");
        // apparent_age = 5 s; corrected_age_value = 10 + 2 = 12 s; initial = 12 s; resident = 30 s.
        assertEquals(42_000, CachePolicy.currentAge(h, T0 + 2000 + 30_000));
        CachedHead noAge = head(200, T0, T0, "Date", date(T0 - 7000));
        assertEquals(7000, CachePolicy.currentAge(noAge, T0), "apparent age from a Date in the past");
        CachedHead clockAhead = head(200, T0, T0, "Date", date(T0 + 60_000));
        assertEquals(0, CachePolicy.currentAge(clockAhead, T0), "a Date in the future gives no negative age");
    }

    @Test
    void freshnessLifetimePrecedence() {
        assertEquals(
                30_000, policy.freshnessLifetime(head(200, T0, T0), CacheControl.parse("max-age=60, s-maxage=30")));
        assertEquals(60_000, policy.freshnessLifetime(head(200, T0, T0), CacheControl.parse("max-age=60")));
        CachedHead expires = head(200, T0, T0, "Date", date(T0), "Expires", date(T0 + 120_000));
        assertEquals(120_000, policy.freshnessLifetime(expires, CacheControl.NONE));
        assertEquals(60_000, policy.freshnessLifetime(expires, CacheControl.parse("max-age=60")));
        CachedHead badExpires = head(200, T0, T0, "Expires", "0");
        assertEquals(0, policy.freshnessLifetime(badExpires, CacheControl.NONE));
    }

    @Test
    void heuristicFreshnessIsAFractionOfTheLastModifiedAgeCapped() {
        CachedHead tenHours = head(200, T0, T0, "Date", date(T0), "Last-Modified", date(T0 - 36_000_000));
        assertEquals(3_600_000, policy.freshnessLifetime(tenHours, CacheControl.NONE));
        CachedHead year = head(200, T0, T0, "Date", date(T0), "Last-Modified", date(T0 - 365L * 86_400_000));
        assertEquals(86_400_000, policy.freshnessLifetime(year, CacheControl.NONE));
        CachedHead notFound = head(404, T0, T0, "Date", date(T0), "Last-Modified", date(T0 - 36_000_000));
        assertEquals(0, policy.freshnessLifetime(notFound, CacheControl.NONE), "errors get no heuristic freshness");
    }

    @Test
    void targetedFieldsWinInOrder() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("Cache-Control", "max-age=10")
                .add("CDN-Cache-Control", "max-age=20")
                .add("Flotilla-Cache-Control", "max-age=30");
        assertEquals(30, policy.responseDirectives(h).seconds("max-age", 0));
        h.remove("Flotilla-Cache-Control");
        assertEquals(20, policy.responseDirectives(h).seconds("max-age", 0));
        h.remove("CDN-Cache-Control");
        assertEquals(10, policy.responseDirectives(h).seconds("max-age", 0));
    }

    @Test
    void storability() {
        HttpHeaders none = new DefaultHttpHeaders();
        HttpHeaders auth = new DefaultHttpHeaders().add("Authorization", "Bearer x");
        assertNull(unstorable(none, 200, "Cache-Control", "max-age=5"));
        assertEquals("no-store", unstorable(none, 200, "Cache-Control", "no-store"));
        assertEquals("must-understand", unstorable(none, 418, "Cache-Control", "no-store, must-understand, max-age=5"));
        assertNull(unstorable(none, 200, "Cache-Control", "no-store, must-understand, max-age=5"));
        assertEquals("private", unstorable(none, 200, "Cache-Control", "private"));
        assertNull(unstorable(none, 200, "Cache-Control", "private=\"X-User\", max-age=5"));
        assertEquals("authorization", unstorable(auth, 200, "Cache-Control", "max-age=5"));
        assertNull(unstorable(auth, 200, "Cache-Control", "s-maxage=5"));
        assertEquals("set-cookie", unstorable(none, 200, "Cache-Control", "max-age=5", "Set-Cookie", "a=b"));
        assertEquals("vary *", unstorable(none, 200, "Cache-Control", "max-age=5", "Vary", "Accept, *"));
        assertEquals("status", unstorable(none, 206, "Cache-Control", "max-age=5"));
        assertEquals("status", unstorable(none, 302));
        assertNull(unstorable(none, 302, "Cache-Control", "max-age=5"));
        assertEquals("error without explicit freshness", unstorable(none, 500));
        assertNull(unstorable(none, 500, "Cache-Control", "max-age=5"));
    }

    private String unstorable(HttpHeaders request, int status, String... kv) {
        HttpHeaders response = new DefaultHttpHeaders();
        for (int i = 0; i < kv.length; i += 2) {
            response.add(kv[i], kv[i + 1]);
        }
        return policy.unstorable(
                request, CachePolicy.requestDirectives(request), status, response, policy.responseDirectives(response));
    }

    @Test
    void judgementOfRequestDirectives() {
        CachedHead h = head(200, T0, T0, "Date", date(T0));
        CacheControl cc = CacheControl.parse("max-age=100, stale-while-revalidate=50, stale-if-error=300");
        long at = T0 + 40_000; // 40 s old, 60 s left
        assertTrue(policy.judge(h, cc, CacheControl.NONE, at).usableWithoutValidation());
        assertFalse(policy.judge(h, cc, CacheControl.parse("max-age=30"), at).usableWithoutValidation());
        assertFalse(policy.judge(h, cc, CacheControl.parse("min-fresh=61"), at).usableWithoutValidation());
        assertTrue(policy.judge(h, cc, CacheControl.parse("min-fresh=59"), at).usableWithoutValidation());
        assertFalse(policy.judge(h, cc, CacheControl.parse("no-cache"), at).usableWithoutValidation());
        long stale = T0 + 120_000; // 20 s stale
        CachePolicy.Judgement j = policy.judge(h, cc, CacheControl.NONE, stale);
        assertFalse(j.usableWithoutValidation());
        assertTrue(j.staleWhileRevalidate());
        assertEquals(-20, j.ttlSeconds());
        assertEquals(300_000, j.staleIfErrorMillis());
        assertTrue(
                policy.judge(h, cc, CacheControl.parse("max-stale=30"), stale).usableWithoutValidation());
        assertFalse(
                policy.judge(h, cc, CacheControl.parse("max-stale=10"), stale).usableWithoutValidation());
        assertTrue(policy.judge(h, cc, CacheControl.parse("max-stale"), stale).usableWithoutValidation());
        assertFalse(policy.judge(h, cc, CacheControl.NONE, T0 + 151_000).staleWhileRevalidate());
        CacheControl strict = CacheControl.parse("max-age=100, must-revalidate, stale-if-error=300");
        CachePolicy.Judgement forbidden = policy.judge(h, strict, CacheControl.parse("max-stale"), stale);
        assertFalse(forbidden.usableWithoutValidation());
        assertEquals(0, forbidden.staleIfErrorMillis());
    }

    @Test
    void headRoundTripsThroughItsWireForm() {
        CachedHead h = head(
                203,
                T0,
                T0 + 5,
                "ETag",
                "\"a\"",
                "X-Long",
                "v".repeat(70_000),
                "Set-Cookie",
                "a=1",
                "Set-Cookie",
                "b=2");
        CachedHead back = CachedHead.decode(h.encode());
        assertEquals(h, back);
        assertEquals(List.of("a=1", "b=2"), back.headerValues("set-cookie"));
        byte[] future = h.encode();
        future[0] = 99;
        assertNull(CachedHead.decode(future), "another layout version is a miss, not a crash");
        CachedHead marker = CachedHead.varyMarker(List.of("accept-encoding"), T0);
        assertEquals(
                List.of("accept-encoding"), CachedHead.decode(marker.encode()).vary());
    }

    @Test
    void a304RefreshesHeadersButNotFraming() {
        CachedHead h = head(200, T0, T0, "Content-Length", "10", "ETag", "\"a\"", "Cache-Control", "max-age=1");
        HttpHeaders notModified =
                new DefaultHttpHeaders().add("Cache-Control", "max-age=60").add("Content-Length", "0");
        CachedHead refreshed = h.refreshedBy(notModified, T0 + 10, T0 + 20);
        assertEquals("10", refreshed.header("Content-Length"));
        assertEquals("max-age=60", refreshed.header("Cache-Control"));
        assertEquals("\"a\"", refreshed.header("ETag"));
        assertEquals(T0 + 20, refreshed.responseTime());
    }

    @Test
    void severalExpiresAreInvalid() {
        CachedHead twoExpires =
                head(200, T0, T0, "Date", date(T0), "Expires", date(T0 + 60_000), "Expires", date(T0 + 60_000));
        assertEquals(0, policy.freshnessLifetime(twoExpires, CacheControl.NONE), "several Expires: invalid");
    }

    @Test
    void targetedFieldsMustBeStructuredDictionaries() {
        HttpHeaders h = new DefaultHttpHeaders().add("Cache-Control", "no-store");
        h.set("CDN-Cache-Control", "max-age=10000, &&&&&");
        assertTrue(policy.responseDirectives(h).has("no-store"), "an unparsable targeted field is ignored");
        h.set("CDN-Cache-Control", "Max-Age=60");
        assertTrue(policy.responseDirectives(h).has("no-store"), "keys are lower case in Structured Fields");
        h.set("CDN-Cache-Control", "max-age=\"10000\"");
        CacheControl stringAge = policy.responseDirectives(h);
        assertFalse(stringAge.has("no-store"));
        assertEquals(-1, stringAge.seconds("max-age", 0), "a string is not an integer: the directive is absent");
        h.set("CDN-Cache-Control", "max-age=60, private;x=1, stale-if-error=5");
        CacheControl ok = policy.responseDirectives(h);
        assertEquals(60, ok.seconds("max-age", 0));
        assertTrue(ok.has("private"));
        assertEquals(5, ok.seconds("stale-if-error", 0));
    }
}
