package io.flotilla.node.config;

import java.net.InetSocketAddress;

/** A host (name, IPv4 or IPv6 literal without brackets) and a port; port 0 asks the OS for one. */
public record HostPort(String host, int port) {

    /** Parses {@code host:port}, {@code [v6]:port} or {@code :port} (all interfaces). */
    public static HostPort parse(String text) {
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("expected host:port, got '" + text + "'");
        }
        String host = s.substring(0, colon);
        String portText = s.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("IPv6 addresses need brackets: [" + host + "]:" + portText);
        }
        if (host.isEmpty()) {
            host = "0.0.0.0";
        }
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port is not a number in '" + text + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range 0-65535 in '" + text + "'");
        }
        return new HostPort(host, port);
    }

    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** An unresolved address, so that a name is looked up when connecting, not when configuring. */
    public InetSocketAddress toUnresolvedAddress() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** The form used in a {@code Host} header: brackets around IPv6 literals. */
    public String authority() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String toString() {
        return authority();
    }
}
