package io.flotilla.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The HTTP pieces static files and the cache share: dates, byte ranges, conditional requests. */
class HttpPiecesTest {
    private static final String ETAG = "\"abc\"";
    /** Thu, 18 Aug 2050 02:01:18 GMT, in epoch seconds. */
    private static final long MODIFIED = 2544400878L;

    @Test
    void httpDatesAreParsedStrictly() {
        long t = MODIFIED * 1000;
        assertEquals(t, HttpDates.parse("Thu, 18 Aug 2050 02:01:18 GMT"));
        assertEquals(t, HttpDates.parse("THU, 18 AUG 2050 02:01:18 gmt"), "names in any case");
        assertEquals(t, HttpDates.parse("Thursday, 18-Aug-50 02:01:18 GMT"), "RFC 850");
        assertEquals(t - 10L * 86_400_000, HttpDates.parse("Mon Aug  8 02:01:18 2050"), "asctime");
        for (String invalid : List.of(
                "Thu, 18 Aug 2050 02:01:18 UTC",
                "Thu, 18 Aug 2050 02:01:18 AEST",
                "Thu, 18 Aug 50 02:01:18 GMT",
                "Thu 18 Aug 2050 02:01:18 GMT",
                "Thu, 18  Aug  2050 02:01:18 GMT",
                "Thu, 18-Aug-2050 02:01:18 GMT",
                "Thu, 18 Aug 2050 02.01.18 GMT",
                "Thu, 18 Aug 2050 2:01:18 GMT",
                "0",
                "",
                "Thu, 31 Feb 2050 02:01:18 GMT")) {
            assertEquals(HttpDates.INVALID, HttpDates.parse(invalid), invalid);
        }
    }

    @Test
    void byteRanges() {
        assertEquals(List.of(0L, 4L), asList(ByteRanges.parse("bytes=0-4", 10)));
        assertEquals(List.of(5L, 9L), asList(ByteRanges.parse("bytes=5-", 10)));
        assertEquals(List.of(7L, 9L), asList(ByteRanges.parse("bytes=-3", 10)));
        assertEquals(List.of(0L, 9L), asList(ByteRanges.parse("bytes=-30", 10)));
        assertEquals(List.of(8L, 9L), asList(ByteRanges.parse("bytes=8-100", 10)));
        assertEquals(List.of(2L, 3L), asList(ByteRanges.parse("bytes= 2-3 ,", 10)), "empty list elements are ignored");
        assertSame(ByteRanges.UNSATISFIABLE, ByteRanges.parse("bytes=10-", 10));
        assertSame(ByteRanges.UNSATISFIABLE, ByteRanges.parse("bytes=-0", 10));
        assertSame(ByteRanges.UNSATISFIABLE, ByteRanges.parse("bytes=0-", 0), "nothing of an empty body");
        assertNull(ByteRanges.parse("bytes=0-1,3-4", 10), "several ranges: the whole body, for files and cache alike");
        assertNull(ByteRanges.parse("items=0-1", 10));
        assertNull(ByteRanges.parse("bytes=5-2", 10));
        assertNull(ByteRanges.parse("bytes=x-", 10));
        assertEquals(List.of(5L, 9L), asList(ByteRanges.parse("bytes=5-99999999999999999999999", 10)), "saturates");
    }

    @Test
    void preconditionsInTheOrderOfRfc9110() {
        assertEquals(HttpResponseStatus.PRECONDITION_FAILED, evaluate("If-Match", "\"other\""));
        assertEquals(HttpResponseStatus.PRECONDITION_FAILED, evaluate("If-Match", "W/\"abc\""), "If-Match is strong");
        assertNull(evaluate("If-Match", "\"x\", \"abc\""));
        assertEquals(
                HttpResponseStatus.PRECONDITION_FAILED,
                evaluate("If-Unmodified-Since", "Thu, 18 Aug 2050 02:01:17 GMT"));
        assertEquals(HttpResponseStatus.NOT_MODIFIED, evaluate("If-None-Match", "W/\"abc\""), "If-None-Match is weak");
        assertEquals(HttpResponseStatus.NOT_MODIFIED, evaluate("If-None-Match", "*"));
        assertNull(evaluate("If-None-Match", "\"other\""));
        assertEquals(HttpResponseStatus.NOT_MODIFIED, evaluate("If-Modified-Since", "Thu, 18 Aug 2050 02:01:18 GMT"));
        assertNull(evaluate("If-Modified-Since", "Thu, 18 Aug 2050 02:01:17 GMT"));
        assertNull(evaluate("If-Modified-Since", "yesterday"), "not a date: ignored");
        assertTrue(
                Preconditions.notModified(List.of("\"abc\""), null, "W/\"abc\"", MODIFIED),
                "a stored weak tag matches by weak comparison");
        assertFalse(
                Preconditions.notModified(List.of("\"abc\""), "Thu, 18 Aug 2050 02:01:18 GMT", null, MODIFIED),
                "If-Modified-Since is not looked at when If-None-Match is there");
    }

    /** RFC 9110 §13.1.5: a strong entity-tag compared as a string, a date compared as a date. */
    @Test
    void ifRangeNamesTheCurrentRepresentation() {
        assertTrue(Preconditions.ifRangeHolds(List.of(), ETAG, MODIFIED));
        assertTrue(Preconditions.ifRangeHolds(List.of(ETAG), ETAG, MODIFIED));
        assertFalse(Preconditions.ifRangeHolds(List.of("W/\"abc\""), ETAG, MODIFIED), "weak: never");
        assertFalse(Preconditions.ifRangeHolds(List.of(ETAG), "W/\"abc\"", MODIFIED), "weak current tag: never");
        assertTrue(Preconditions.ifRangeHolds(List.of("Thu, 18 Aug 2050 02:01:18 GMT"), ETAG, MODIFIED));
        assertTrue(
                Preconditions.ifRangeHolds(List.of("Thursday, 18-Aug-50 02:01:18 GMT"), ETAG, MODIFIED),
                "the same date in the obsolete form");
        assertFalse(Preconditions.ifRangeHolds(List.of("Thu, 18 Aug 2050 02:01:19 GMT"), ETAG, MODIFIED));
        assertFalse(Preconditions.ifRangeHolds(List.of(ETAG, ETAG), ETAG, MODIFIED), "several lines: no");
    }

    private static HttpResponseStatus evaluate(String name, String value) {
        HttpHeaders request = new DefaultHttpHeaders().add(name, value);
        return Preconditions.evaluate(request, ETAG, MODIFIED);
    }

    private static List<Long> asList(long[] r) {
        return List.of(r[0], r[1]);
    }
}
