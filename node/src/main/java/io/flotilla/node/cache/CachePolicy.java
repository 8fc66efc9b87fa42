package io.flotilla.node.cache;

import io.flotilla.node.http.HttpDates;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * RFC 9111's rules for a shared cache, as pure functions of headers and times: whether a response
 * may be stored (§3), how long it is fresh (§4.2.1, §4.2.2), how old it is (§4.2.3), and whether a
 * request may be answered with it (§4.2, §5.2.1). Targeted fields (RFC 9213) stand in for
 * {@code Cache-Control} when present.
 */
final class CachePolicy {
    /** §4.2.2: statuses that are heuristically cacheable (206 is left out: partial content is not stored). */
    private static final Set<Integer> HEURISTIC = Set.of(200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501);
    /** Statuses this cache understands, for must-understand (§5.2.2.3). */
    private static final Set<Integer> UNDERSTOOD =
            Set.of(200, 203, 204, 300, 301, 302, 303, 307, 308, 400, 403, 404, 405, 410, 414, 500, 501, 502, 503, 504);

    private final List<String> targeted;
    private final double heuristicFraction;
    private final long heuristicMaxMillis;
    private final boolean allowSetCookie;

    /**
     * @param targeted          targeted cache-control fields, highest precedence first (RFC 9213 §2.2)
     * @param heuristicFraction the share of (Date - Last-Modified) a response without explicit
     *                          freshness is fresh for
     * @param heuristicMaxMillis cap on heuristic freshness
     * @param allowSetCookie    whether responses carrying Set-Cookie may be stored (a route's choice)
     */
    CachePolicy(List<String> targeted, double heuristicFraction, long heuristicMaxMillis, boolean allowSetCookie) {
        this.targeted = List.copyOf(targeted);
        this.heuristicFraction = heuristicFraction;
        this.heuristicMaxMillis = heuristicMaxMillis;
        this.allowSetCookie = allowSetCookie;
    }

    List<String> targetedFields() {
        return targeted;
    }

    // ---- directives -----------------------------------------------------------------------------

    static CacheControl requestDirectives(HttpHeaders request) {
        List<String> values = request.getAll(HttpHeaderNames.CACHE_CONTROL);
        if (values.isEmpty()) {
            // §5.4: Pragma: no-cache counts only where Cache-Control is absent.
            String pragma = request.get(HttpHeaderNames.PRAGMA);
            if (pragma != null && pragma.toLowerCase(Locale.ROOT).contains("no-cache")) {
                return CacheControl.parse("no-cache");
            }
            return CacheControl.NONE;
        }
        return CacheControl.parse(values);
    }

    /** RFC 9213 §2.2: the first targeted field that is present and parses wins over Cache-Control. */
    CacheControl responseDirectives(HttpHeaders response) {
        return directives(response::getAll);
    }

    CacheControl responseDirectives(CachedHead head) {
        return directives(head::headerValues);
    }

    private CacheControl directives(java.util.function.Function<String, List<String>> field) {
        for (String name : targeted) {
            List<String> values = field.apply(name);
            if (!values.isEmpty()) {
                CacheControl cc = CacheControl.parseTargeted(values);
                if (cc != null) {
                    return cc; // a field that does not parse is ignored (RFC 9213 §2.1)
                }
            }
        }
        return CacheControl.parse(field.apply(HttpHeaderNames.CACHE_CONTROL.toString()));
    }

    /** Whether a valid targeted field (RFC 9213) governed this response, which makes Expires irrelevant. */
    private boolean targetedIn(CachedHead head) {
        for (String field : targeted) {
            List<String> values = head.headerValues(field);
            if (!values.isEmpty() && CacheControl.parseTargeted(values) != null) {
                return true;
            }
        }
        return false;
    }

    // ---- §3 storing -----------------------------------------------------------------------------

    /**
     * Why this response to a GET must not be stored, or null when it may be.
     *
     * @param request    the request's headers (as received from the client)
     * @param requestCc  its directives
     * @param status     the response's status
     * @param response   the response's headers
     * @param responseCc its effective directives
     */
    String unstorable(
            HttpHeaders request, CacheControl requestCc, int status, HttpHeaders response, CacheControl responseCc) {
        boolean mustUnderstand = responseCc.has("must-understand");
        if (mustUnderstand && !UNDERSTOOD.contains(status)) {
            return "must-understand";
        }
        if (!mustUnderstand && (responseCc.has("no-store"))) {
            return "no-store";
        }
        if (requestCc.has("no-store")) {
            return "request no-store";
        }
        if (status < 200 || status == 206 || status == 304) {
            return "status";
        }
        if (responseCc.has("private") && responseCc.argument("private") == null) {
            return "private";
        }
        if (request.contains(HttpHeaderNames.AUTHORIZATION)
                && !responseCc.has("public")
                && !responseCc.has("must-revalidate")
                && !responseCc.has("s-maxage")) {
            return "authorization"; // §3.5
        }
        if (!allowSetCookie && response.contains(HttpHeaderNames.SET_COOKIE)) {
            return "set-cookie";
        }
        for (String vary : response.getAll(HttpHeaderNames.VARY)) {
            if (vary.trim().equals("*") || vary.contains("*")) {
                return "vary *"; // §4.1: never matches, so storing it is useless
            }
        }
        boolean explicit = responseCc.seconds("s-maxage", 0) >= 0
                || responseCc.seconds("max-age", 0) >= 0
                || (response.contains(HttpHeaderNames.EXPIRES));
        if (status >= 400 && !explicit) {
            return "error without explicit freshness"; // errors are cached only when their headers say so
        }
        if (!explicit && !responseCc.has("public") && !HEURISTIC.contains(status)) {
            return "status";
        }
        return null;
    }

    // ---- §4.2 freshness -------------------------------------------------------------------------

    /** §4.2.1: how long the response is fresh for, in millis, from its generation. */
    long freshnessLifetime(CachedHead head, CacheControl cc) {
        long s = cc.seconds("s-maxage", 0);
        if (s >= 0) {
            return s * 1000;
        }
        long maxAge = cc.seconds("max-age", 0);
        if (maxAge >= 0) {
            return maxAge * 1000;
        }
        long date = dateValue(head);
        if (!targetedIn(head)) {
            List<String> expires = head.headerValues("Expires");
            if (!expires.isEmpty()) {
                long at = expires.size() == 1 ? HttpDates.parse(expires.get(0)) : HttpDates.INVALID;
                // §5.3: an invalid Expires (such as "0", or several of them) means already expired.
                return at == HttpDates.INVALID ? 0 : Math.max(0, at - date);
            }
        }
        if (head.status() < 400 && HEURISTIC.contains(head.status())) {
            long modified = HttpDates.parse(head.header("Last-Modified"));
            if (modified != HttpDates.INVALID && modified < date) {
                return Math.min(heuristicMaxMillis, (long) ((date - modified) * heuristicFraction));
            }
        }
        return 0;
    }

    /** The Date the origin gave, or when the response arrived if it gave none or an invalid one. */
    static long dateValue(CachedHead head) {
        long parsed = HttpDates.parse(head.header("Date"));
        return parsed == HttpDates.INVALID ? head.responseTime() : parsed;
    }

    /** §4.2.3: the response's current age in millis. */
    static long currentAge(CachedHead head, long now) {
        long ageValue = 0;
        String age = head.header("Age");
        if (age != null) {
            long parsed = CacheControl.parse("age=" + age.trim()).seconds("age", -1);
            ageValue = Math.max(0, parsed) * 1000;
        }
        long apparentAge = Math.max(0, head.responseTime() - dateValue(head));
        long responseDelay = Math.max(0, head.responseTime() - head.requestTime());
        long correctedAgeValue = ageValue + responseDelay;
        long correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
        long residentTime = Math.max(0, now - head.responseTime());
        return correctedInitialAge + residentTime;
    }

    /** §4.2.4: directives that forbid serving this response stale, in any way. */
    static boolean staleForbidden(CacheControl responseCc) {
        return responseCc.has("must-revalidate")
                || responseCc.has("proxy-revalidate")
                || responseCc.has("s-maxage")
                || responseCc.has("no-cache");
    }

    /** A stored response judged against one request at one moment. */
    record Judgement(
            long ageMillis,
            long lifetimeMillis,
            boolean usableWithoutValidation,
            boolean staleWhileRevalidate,
            long staleIfErrorMillis) {

        boolean fresh() {
            return ageMillis < lifetimeMillis;
        }

        /** Seconds of freshness left, negative once stale (Cache-Status ttl, RFC 9211 §2.5). */
        long ttlSeconds() {
            return Math.floorDiv(lifetimeMillis - ageMillis, 1000);
        }
    }

    /**
     * What a stored response's headers say once and for all (its directives, lifetime and age on
     * arrival), so a hit does arithmetic instead of parsing.
     */
    record Facts(CachedHead head, CacheControl cc, long lifetimeMillis, long initialAgeMillis) {
        long ageAt(long now) {
            return initialAgeMillis + Math.max(0, now - head.responseTime());
        }
    }

    Facts facts(CachedHead head) {
        CacheControl cc = responseDirectives(head);
        return new Facts(head, cc, freshnessLifetime(head, cc), currentAge(head, head.responseTime()));
    }

    /** §4.2 and §5.2.1: may {@code head} answer this request now, and if not, what stale uses remain. */
    Judgement judge(CachedHead head, CacheControl responseCc, CacheControl requestCc, long now) {
        return judge(
                new Facts(head, responseCc, freshnessLifetime(head, responseCc), currentAge(head, head.responseTime())),
                requestCc,
                now);
    }

    Judgement judge(Facts facts, CacheControl requestCc, long now) {
        CacheControl responseCc = facts.cc();
        long age = facts.ageAt(now);
        long lifetime = facts.lifetimeMillis();
        boolean fresh = age < lifetime;
        boolean staleAllowed = !staleForbidden(responseCc);
        boolean usable = !responseCc.has("no-cache") && !requestCc.has("no-cache");
        long maxAge = requestCc.seconds("max-age", 0);
        if (maxAge >= 0 && age > maxAge * 1000) {
            usable = false;
        }
        long minFresh = requestCc.seconds("min-fresh", 0);
        if (minFresh >= 0 && lifetime - age < minFresh * 1000) {
            usable = false;
        }
        if (usable && !fresh) {
            usable = false;
            if (staleAllowed && requestCc.has("max-stale")) {
                long maxStale = requestCc.seconds("max-stale", Long.MAX_VALUE / 1000);
                // A bare max-stale accepts any staleness (§5.2.1.2).
                usable = requestCc.argument("max-stale") == null || age - lifetime <= maxStale * 1000;
            }
        }
        boolean swr = false;
        long sie = 0;
        if (staleAllowed && !fresh) {
            long window = responseCc.seconds("stale-while-revalidate", 0);
            swr = window > 0
                    && age - lifetime <= window * 1000
                    && !requestCc.has("no-cache")
                    && (maxAge < 0 || age <= maxAge * 1000 + window * 1000);
            long ifError = Math.max(responseCc.seconds("stale-if-error", 0), requestCc.seconds("stale-if-error", 0));
            if (ifError > 0 && age - lifetime <= ifError * 1000) {
                sie = ifError * 1000;
            }
        }
        return new Judgement(age, lifetime, usable, swr, sie);
    }

    /**
     * How long after its arrival a stored entry can still be of any use (fresh, or stale but
     * revalidatable or servable on error), which bounds how long the store keeps it.
     */
    long usefulFor(CachedHead head, CacheControl cc, long maxStaleKeep) {
        long initialAge = currentAge(head, head.responseTime());
        long lifetime = freshnessLifetime(head, cc);
        long staleWindow = staleForbidden(cc)
                ? 0
                : Math.max(cc.seconds("stale-while-revalidate", 0), cc.seconds("stale-if-error", 0)) * 1000;
        boolean validators = head.header("ETag") != null || head.header("Last-Modified") != null;
        long fresh = Math.max(0, lifetime - initialAge);
        // A stale entry is still worth keeping a while: for a conditional request if it has validators,
        // for max-stale requests and stale-if-error if nothing forbids serving it stale.
        if (fresh == 0 && !validators && staleWindow == 0) {
            return 0; // never fresh, nothing to revalidate with: storing it would only cost memory
        }
        if (validators || !staleForbidden(cc)) {
            return fresh + Math.max(staleWindow, maxStaleKeep);
        }
        return fresh;
    }
}
