package io.flotilla.node.config;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** Checks and readers that several config sections share: names, header names, keywords, non-empty lists. */
final class ConfigValues {
    private ConfigValues() {}

    static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

    static final Pattern HOST_LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");

    static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    static final Pattern VISIBLE_ASCII = Pattern.compile("[\\x21-\\x7e]+");

    static final Pattern PRINTABLE_ASCII = Pattern.compile("[\\x21-\\x7e](?:[\\x20-\\x7e]*[\\x21-\\x7e])?");

    static String name(YamlNode n, String what, String why) throws ConfigException {
        String value = n.asString();
        if (!NAME.matcher(value).matches()) {
            throw n.error(what + " may use only letters, digits, '.', '_' and '-' (" + why + "), got '" + value + "'");
        }
        return value;
    }

    static String safeString(YamlNode n) {
        try {
            return n.asString();
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }

    static String headerName(YamlNode n) throws ConfigException {
        String name = n.asString().trim();
        if (!TOKEN.matcher(name).matches()) {
            throw n.error("expected a header name (letters, digits and !#$%&'*+.^_`|~-), got '" + name + "'");
        }
        return name;
    }

    /** The keyword in its canonical spelling when the value is one, whatever its case; else the value. */
    static String keywordOrLiteral(YamlNode n, String... keywords) throws ConfigException {
        String value = n.asString().trim();
        for (String keyword : keywords) {
            if (keyword.equalsIgnoreCase(value)) {
                return keyword;
            }
        }
        return value;
    }

    static List<YamlNode> nonEmptyList(YamlMap parent, String key, String what) throws ConfigException {
        YamlNode n = parent.required(key, "at least one " + what + " is required");
        List<YamlNode> items = n.asList();
        if (items.isEmpty()) {
            throw n.error("at least one " + what + " is required, got an empty list");
        }
        return items;
    }

    static boolean isLoopback(HostPort address) {
        String host = address.host();
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
    }

    static String host(YamlNode n) throws ConfigException {
        String raw = n.asString().trim();
        String host = raw.toLowerCase(Locale.ROOT);
        if (host.equals("*")) {
            throw n.error("to match any host, leave host out; '*' only works as a prefix, as in *.example.com");
        }
        if (host.indexOf(':') >= 0) {
            throw n.error("'" + raw + "' has a port; a route host is a name only (the listener decides the port)");
        }
        String name = host.startsWith("*.") ? host.substring(2) : host;
        boolean valid = !name.isEmpty();
        for (String label : name.split("\\.", -1)) {
            valid &= HOST_LABEL.matcher(label).matches();
        }
        if (!valid) {
            throw n.error("expected a host name (letters, digits, '-' and '.') or a wildcard like *.example.com, got '"
                    + raw + "'");
        }
        return host;
    }
}
