package io.flotilla.node.http;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Locale;

/**
 * HTTP-date (RFC 9110 §5.6.7), parsed strictly: IMF-fixdate, and the obsolete RFC 850 and asctime
 * forms a recipient must still accept; names are matched without regard to case. Anything else
 * (another time zone, a two-digit year in IMF form, missing comma, extra spaces) is invalid, which
 * for {@code Expires} means "already expired" (RFC 9111 §5.3), never a guess.
 */
public final class HttpDates {
    public static final long INVALID = Long.MIN_VALUE;
    private static final String[] DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    private static final String[] LONG_DAYS = {
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    };
    private static final String[] MONTHS = {
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
    };

    private HttpDates() {}

    /** Epoch millis, or {@link #INVALID}. */
    public static long parse(String value) {
        if (value == null) {
            return INVALID;
        }
        String s = value.trim();
        try {
            int comma = s.indexOf(',');
            if (comma == 3) {
                return imfFixdate(s);
            }
            if (comma > 3) {
                return rfc850(s, comma);
            }
            return asctime(s);
        } catch (RuntimeException e) {
            return INVALID;
        }
    }

    // Sun, 06 Nov 1994 08:49:37 GMT
    private static long imfFixdate(String s) {
        if (s.length() != 29
                || index(DAYS, s.substring(0, 3)) < 0
                || s.charAt(4) != ' '
                || s.charAt(7) != ' '
                || s.charAt(11) != ' '
                || s.charAt(16) != ' '
                || s.charAt(25) != ' '
                || !s.substring(26).equalsIgnoreCase("GMT")) {
            return INVALID;
        }
        return at(digits(s, 12, 4), index(MONTHS, s.substring(8, 11)), digits(s, 5, 2), time(s, 17));
    }

    // Sunday, 06-Nov-94 08:49:37 GMT
    private static long rfc850(String s, int comma) {
        if (index(LONG_DAYS, s.substring(0, comma)) < 0) {
            return INVALID;
        }
        String rest = s.substring(comma + 1);
        if (rest.length() != 23
                || rest.charAt(0) != ' '
                || rest.charAt(3) != '-'
                || rest.charAt(7) != '-'
                || rest.charAt(10) != ' '
                || rest.charAt(19) != ' '
                || !rest.substring(20).equalsIgnoreCase("GMT")) {
            return INVALID;
        }
        int yy = digits(rest, 8, 2);
        // §5.6.7: a two-digit year more than 50 years in the future is in the past century.
        int thisYear = java.time.Year.now(ZoneOffset.UTC).getValue();
        int year = (thisYear / 100) * 100 + yy;
        if (year > thisYear + 50) {
            year -= 100;
        }
        return at(year, index(MONTHS, rest.substring(4, 7)), digits(rest, 1, 2), time(rest, 11));
    }

    // Sun Nov  6 08:49:37 1994
    private static long asctime(String s) {
        if (s.length() != 24
                || index(DAYS, s.substring(0, 3)) < 0
                || s.charAt(3) != ' '
                || s.charAt(7) != ' '
                || s.charAt(10) != ' '
                || s.charAt(19) != ' ') {
            return INVALID;
        }
        int day = s.charAt(8) == ' ' ? digits(s, 9, 1) : digits(s, 8, 2);
        return at(digits(s, 20, 4), index(MONTHS, s.substring(4, 7)), day, time(s, 11));
    }

    /** HH:MM:SS at {@code i}, as seconds of the day; -1 when malformed. */
    private static int time(String s, int i) {
        if (s.charAt(i + 2) != ':' || s.charAt(i + 5) != ':') {
            return -1;
        }
        int h = digits(s, i, 2);
        int m = digits(s, i + 3, 2);
        int sec = digits(s, i + 6, 2);
        if (h < 0 || m < 0 || sec < 0 || h > 23 || m > 59 || sec > 60) {
            return -1;
        }
        return h * 3600 + m * 60 + Math.min(sec, 59);
    }

    private static long at(int year, int month, int day, int secondOfDay) {
        if (year < 0 || month < 0 || day < 1 || secondOfDay < 0) {
            return INVALID;
        }
        try {
            return LocalDateTime.of(year, month + 1, day, 0, 0).toEpochSecond(ZoneOffset.UTC) * 1000
                    + secondOfDay * 1000L;
        } catch (DateTimeException e) {
            return INVALID;
        }
    }

    private static int digits(String s, int from, int count) {
        int v = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static int index(String[] names, String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(lower)) {
                return i;
            }
        }
        return -1;
    }
}
