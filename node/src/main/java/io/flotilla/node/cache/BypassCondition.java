package io.flotilla.node.cache;

import io.flotilla.node.http.Cookies;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * A condition under which a caching route's request goes past the cache ({@code bypass}), parsed
 * once when the route is compiled: a request header, a cookie, or a query parameter is present.
 */
public abstract class BypassCondition {
    /** The header, cookie or query parameter named. */
    final String name;

    private BypassCondition(String name) {
        this.name = name;
    }

    public static BypassCondition header(String name) {
        return new Header(name);
    }

    public static BypassCondition cookie(String name) {
        return new Cookie(name);
    }

    public static BypassCondition query(String name) {
        return new Query(name);
    }

    /** {@code header:NAME}, {@code cookie:NAME} or {@code query:NAME} (the config has validated it). */
    public static BypassCondition parse(String condition) {
        int colon = condition.indexOf(':');
        String name = condition.substring(colon + 1);
        return switch (condition.substring(0, colon)) {
            case "header" -> header(name);
            case "cookie" -> cookie(name);
            default -> query(name);
        };
    }

    /**
     * @param query the query string with its '?', or empty
     */
    abstract boolean matches(HttpHeaders request, String query);

    private static final class Header extends BypassCondition {
        Header(String name) {
            super(name);
        }

        @Override
        boolean matches(HttpHeaders request, String query) {
            return request.contains(name);
        }
    }

    private static final class Cookie extends BypassCondition {
        Cookie(String name) {
            super(name);
        }

        @Override
        boolean matches(HttpHeaders request, String query) {
            return Cookies.value(request, name) != null;
        }
    }

    private static final class Query extends BypassCondition {
        Query(String name) {
            super(name);
        }

        @Override
        boolean matches(HttpHeaders request, String query) {
            if (query.length() < 2) {
                return false;
            }
            for (String pair : query.substring(1).split("&")) {
                int eq = pair.indexOf('=');
                if ((eq < 0 ? pair : pair.substring(0, eq)).equals(name)) {
                    return true;
                }
            }
            return false;
        }
    }
}
