package io.flotilla.node.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/**
 * Conditional requests (RFC 9110 §13) evaluated against a selected representation's validators:
 * one evaluator for static files and for responses served from the cache. Validators are an
 * entity-tag as sent ({@code "x"} or {@code W/"x"}, null when there is none) and a last-modified
 * time in epoch seconds ({@link #NO_DATE} when there is none).
 */
public final class Preconditions {
    /** No Last-Modified to compare with. */
    public static final long NO_DATE = Long.MIN_VALUE;

    private Preconditions() {}

    /**
     * All preconditions of a GET or HEAD, in the order of §13.2.2: 412 (If-Match, If-Unmodified-Since),
     * 304 (If-None-Match, If-Modified-Since), or null to go on.
     */
    public static HttpResponseStatus evaluate(HttpHeaders request, String etag, long lastModified) {
        List<String> ifMatch = request.getAll(HttpHeaderNames.IF_MATCH);
        if (!ifMatch.isEmpty()) {
            if (!matches(ifMatch, etag, true)) {
                return HttpResponseStatus.PRECONDITION_FAILED;
            }
        } else {
            long since = date(single(request.getAll(HttpHeaderNames.IF_UNMODIFIED_SINCE)));
            if (since != NO_DATE && lastModified != NO_DATE && lastModified > since) {
                return HttpResponseStatus.PRECONDITION_FAILED;
            }
        }
        return notModified(
                        request.getAll(HttpHeaderNames.IF_NONE_MATCH),
                        single(request.getAll(HttpHeaderNames.IF_MODIFIED_SINCE)),
                        etag,
                        lastModified)
                ? HttpResponseStatus.NOT_MODIFIED
                : null;
    }

    /**
     * Whether a GET or HEAD is answered with 304: If-None-Match by weak comparison (§13.1.2), or,
     * only without it, If-Modified-Since (§13.1.3).
     *
     * @param ifNoneMatch the If-None-Match field lines (empty: absent)
     * @param ifModifiedSince the If-Modified-Since value, or null
     */
    public static boolean notModified(
            List<String> ifNoneMatch, String ifModifiedSince, String etag, long lastModified) {
        if (!ifNoneMatch.isEmpty()) {
            return matches(ifNoneMatch, etag, false);
        }
        long since = date(ifModifiedSince);
        return since != NO_DATE && lastModified != NO_DATE && lastModified <= since;
    }

    /**
     * §13.1.5: whether a Range applies: If-Range absent, or naming the current representation, an
     * entity-tag by strong comparison (both strong and the same characters) or a date equal to the
     * Last-Modified. Several If-Range lines match nothing.
     *
     * @param ifRange the If-Range field lines (empty: absent)
     */
    public static boolean ifRangeHolds(List<String> ifRange, String etag, long lastModified) {
        if (ifRange.isEmpty()) {
            return true;
        }
        if (ifRange.size() > 1) {
            return false;
        }
        String value = ifRange.get(0).trim();
        if (value.startsWith("\"") || value.startsWith("W/")) {
            return etag != null && !etag.startsWith("W/") && value.equals(etag);
        }
        long date = date(value);
        return date != NO_DATE && date == lastModified;
    }

    /**
     * Whether any entity-tag in the lists (or {@code *}) matches {@code etag}, by strong or weak
     * comparison (§8.8.3.2); a list that does not parse matches nothing, and no entity-tag matches
     * only {@code *}.
     */
    public static boolean matches(List<String> lists, String etag, boolean strong) {
        boolean currentWeak = etag != null && etag.startsWith("W/");
        String opaque = currentWeak ? etag.substring(2) : etag;
        for (String list : lists) {
            int i = 0;
            int length = list.length();
            while (i < length) {
                char c = list.charAt(i);
                if (c == ' ' || c == '\t' || c == ',') {
                    i++;
                    continue;
                }
                if (c == '*') {
                    return true;
                }
                boolean weak = list.startsWith("W/", i);
                if (weak) {
                    i += 2;
                }
                if (i >= length || list.charAt(i) != '"') {
                    return false;
                }
                int close = list.indexOf('"', i + 1);
                if (close < 0) {
                    return false;
                }
                if (opaque != null
                        && !(strong && (weak || currentWeak))
                        && list.regionMatches(i, opaque, 0, opaque.length())
                        && close + 1 - i == opaque.length()) {
                    return true;
                }
                i = close + 1;
            }
        }
        return false;
    }

    /** An HTTP-date in epoch seconds, or {@link #NO_DATE} when absent or not an HTTP-date. */
    public static long date(String value) {
        if (value == null) {
            return NO_DATE;
        }
        long millis = HttpDates.parse(value.trim());
        return millis == HttpDates.INVALID ? NO_DATE : Math.floorDiv(millis, 1000);
    }

    /** The value of a field that must occur once, or null (§13.1.3 ignores repeated date fields). */
    private static String single(List<String> values) {
        return values.size() == 1 ? values.get(0) : null;
    }
}
