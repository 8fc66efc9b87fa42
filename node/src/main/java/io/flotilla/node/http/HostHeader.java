package io.flotilla.node.http;

/** The Host field (RFC 9110 §7.2) as routing reads it. */
public final class HostHeader {
    private HostHeader() {}

    /**
     * The host of a Host value: lower case, without the port, without a trailing dot ("example.com."
     * names the same host); an IPv6 literal keeps its brackets. Null for no Host.
     */
    public static String hostOf(String hostHeader) {
        if (hostHeader == null) {
            return null;
        }
        String host = hostHeader;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            host = close > 0 ? host.substring(0, close + 1) : host;
        } else {
            int colon = host.indexOf(':');
            host = colon >= 0 ? host.substring(0, colon) : host;
        }
        if (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1); // "example.com." names the same host
        }
        return host.toLowerCase();
    }
}
