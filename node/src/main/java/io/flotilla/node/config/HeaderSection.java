package io.flotilla.node.config;

import static io.flotilla.node.config.ConfigValues.*;

import java.util.Optional;

/** The {@code headers} section: forwarding fields, Server, Via, request ids, Host. */
final class HeaderSection {
    private HeaderSection() {}

    /** Parses the section; errors name the file, line and field. */
    static HeaderPolicy parse(Optional<YamlNode> section) throws ConfigException {
        HeaderPolicy defaults = HeaderPolicy.defaults();
        if (section.isEmpty()) {
            return defaults;
        }
        YamlMap m = section.get().asMap().allowOnly("host", "x_forwarded", "forwarded", "via", "server", "request_id");
        String host = defaults.host();
        Optional<YamlNode> hostNode = m.get("host");
        if (hostNode.isPresent()) {
            host = keywordOrLiteral(hostNode.get(), HeaderPolicy.HOST_PASS, HeaderPolicy.HOST_UPSTREAM);
            if (!host.equals(HeaderPolicy.HOST_PASS)
                    && !host.equals(HeaderPolicy.HOST_UPSTREAM)
                    && !VISIBLE_ASCII.matcher(host).matches()) {
                throw hostNode.get()
                        .error("expected pass, upstream or a literal Host value such as "
                                + "example.com:8080 (no spaces), got '" + host + "'");
            }
        }
        String server = defaults.server();
        Optional<YamlNode> serverNode = m.get("server");
        if (serverNode.isPresent()) {
            server = keywordOrLiteral(serverNode.get(), HeaderPolicy.SERVER_PASS, HeaderPolicy.SERVER_HIDE);
            if (!PRINTABLE_ASCII.matcher(server).matches()) {
                throw serverNode
                        .get()
                        .error("expected pass, hide or a literal Server value in printable ASCII, got '" + server
                                + "'");
            }
        }
        Optional<String> requestId = defaults.requestId();
        Optional<YamlNode> requestIdNode = m.get("request_id");
        if (requestIdNode.isPresent()) {
            String value = requestIdNode.get().asString().trim();
            if (value.isEmpty() || value.equalsIgnoreCase("false")) {
                requestId = Optional.empty();
            } else if (value.equalsIgnoreCase("true") || !TOKEN.matcher(value).matches()) {
                throw requestIdNode
                        .get()
                        .error("expected a header name such as " + HeaderPolicy.DEFAULT_REQUEST_ID
                                + ", or false to disable, got '" + value + "'");
            } else {
                requestId = Optional.of(value);
            }
        }
        return new HeaderPolicy(
                host,
                m.bool("x_forwarded", defaults.xForwarded()),
                m.bool("forwarded", defaults.forwarded()),
                m.bool("via", defaults.via()),
                server,
                requestId);
    }
}
