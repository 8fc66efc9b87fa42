package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each broken config must be refused with the line, column and field an operator needs to fix it. */
class ConfigLoaderErrorsTest {
    /** Lines 1-7; tests append from line 8 on. */
    private static final String BASE = """
            listeners:
              - bind: 127.0.0.1:8080
            upstreams:
              app:
                servers: [127.0.0.1:9001]
            routes:
              - {path: /, upstream: app}
            """;

    @TempDir
    Path dir;

    private static ConfigException refused(String yaml) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "edge.yaml"));
    }

    private static void assertAt(ConfigException e, int line, int column, String field) {
        assertEquals("edge.yaml", e.file(), e.getMessage());
        assertEquals(line, e.line(), e.getMessage());
        assertEquals(column, e.column(), e.getMessage());
        assertEquals(field, e.field(), e.getMessage());
    }

    private static void assertMentions(ConfigException e, String... fragments) {
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), () -> "'" + fragment + "' not in: " + e.getMessage());
        }
    }

    @Test
    void messageNamesFileLineColumnAndField() {
        ConfigException e = refused("""
                listeners: [{bind: ":8080"}]
                upstreams:
                  app: {servers: [127.0.0.1:9001]}
                routes:
                  - path: /
                    upstream: ap
                """);
        assertEquals(
                "edge.yaml:6:15: routes[0].upstream: no upstream named 'ap' (did you mean 'app'?)", e.getMessage());
        assertAt(e, 6, 15, "routes[0].upstream");
    }

    @Test
    void unknownUpstreamWithoutACloseNameListsTheDefinedOnes() {
        ConfigException e = refused(BASE + "  - {path: /x/, upstream: billing}\n");
        assertAt(e, 8, 27, "routes[1].upstream");
        assertEquals("no upstream named 'billing'; defined: app", e.problem());
    }

    @Test
    void unknownKeySuggestsTheNearestAndListsValidKeys() {
        ConfigException e = refused("""
                listeners:
                  - bind: 127.0.0.1:8080
                    max_conections: 5
                """);
        assertAt(e, 3, 5, "listeners[0].max_conections");
        assertEquals(
                "unknown key 'max_conections' (did you mean 'max_connections'?); valid keys: bind, "
                        + "max_connections, proxy_protocol, trusted_proxies, tls, redirect_https, http2, h2c, http2_limits",
                e.problem());
    }

    @Test
    void unknownTopLevelSection() {
        ConfigException e = refused(BASE + "timeout: {keepalive: 5s}\n");
        assertAt(e, 8, 1, "timeout");
        assertMentions(e, "unknown key 'timeout' (did you mean 'timeouts'?)", "valid keys: node, listeners");
    }

    @Test
    void unknownKeyFarFromAnyGivesNoGuess() {
        ConfigException e = refused(BASE + "timeouts: {banana: 5s}\n");
        assertAt(e, 8, 12, "timeouts.banana");
        assertMentions(e, "unknown key 'banana'; valid keys: client_header, ");
    }

    @Test
    void badDurationSaysWhatWasExpected() {
        ConfigException e = refused(BASE + """
                timeouts:
                  keepalive: fast
                """);
        assertAt(e, 9, 14, "timeouts.keepalive");
        assertEquals("expected a duration like 2s or 500ms, got 'fast'", e.problem());
    }

    @Test
    void durationWithoutUnit() {
        ConfigException e = refused(BASE + "timeouts: {upstream_read: 60}\n");
        assertAt(e, 8, 27, "timeouts.upstream_read");
        assertMentions(e, "needs a unit");
    }

    @Test
    void zeroTimeoutIsRefused() {
        ConfigException e = refused(BASE + "timeouts: {client_header: 0}\n");
        assertAt(e, 8, 27, "timeouts.client_header");
        assertEquals("must be longer than 0", e.problem());
    }

    @Test
    void zeroPoolDurationIsRefused() {
        ConfigException e = refused("""
                listeners: [{bind: ":0"}]
                upstreams:
                  app:
                    servers: [127.0.0.1:9001]
                    pool: {idle_timeout: 0s}
                routes: [{upstream: app}]
                """);
        assertAt(e, 5, 26, "upstreams.app.pool.idle_timeout");
    }

    @Test
    void badSizeSaysWhatWasExpected() {
        ConfigException e = refused(BASE + """
                limits:
                  request_line: 8 kilobytes
                """);
        assertAt(e, 9, 17, "limits.request_line");
        assertMentions(e, "unknown size unit 'kilobytes'", "use k, m or g");
    }

    @Test
    void zeroLimitIsRefusedButZeroBodyMeansUnlimited() throws Exception {
        ConfigException e = refused(BASE + "limits: {header_line: 0}\n");
        assertAt(e, 8, 23, "limits.header_line");
        assertEquals("must be greater than 0", e.problem());

        assertEquals(
                0,
                ConfigLoader.parse(BASE + "limits: {body: 0}\n", "edge.yaml")
                        .limits()
                        .body());
    }

    @Test
    void limitThatDoesNotFitAnInt() {
        ConfigException e = refused(BASE + "limits: {headers_total: 2g}\n");
        assertAt(e, 8, 25, "limits.headers_total");
        assertMentions(e, "at most 2147483647 bytes");
    }

    @Test
    void missingListeners() {
        ConfigException e = refused("""
                # only routes
                routes:
                  - {path: /, static: /}
                """);
        assertAt(e, 2, 1, "listeners");
        assertEquals("at least one listener is required", e.problem());
    }

    @Test
    void emptyListenerList() {
        ConfigException e = refused("listeners: []\nroutes: [{static: /}]\n");
        assertAt(e, 1, 12, "listeners");
        assertMentions(e, "at least one listener is required, got an empty list");
    }

    @Test
    void missingBind() {
        ConfigException e = refused("listeners:\n  - max_connections: 5\nroutes: [{static: /}]\n");
        assertAt(e, 2, 5, "listeners[0].bind");
        assertEquals("required key is missing", e.problem());
    }

    @Test
    void badBindAddress() {
        ConfigException e = refused("listeners:\n  - bind: localhost\nroutes: [{static: /}]\n");
        assertAt(e, 2, 11, "listeners[0].bind");
        assertEquals("expected host:port, got 'localhost'", e.problem());

        e = refused("listeners:\n  - bind: 127.0.0.1:70000\nroutes: [{static: /}]\n");
        assertAt(e, 2, 11, "listeners[0].bind");
        assertMentions(e, "port out of range");
    }

    @Test
    void duplicateListenerBind() {
        ConfigException e = refused("""
                listeners:
                  - bind: 0.0.0.0:8080
                  - bind: 127.0.0.1:8080
                routes: [{static: /}]
                """);
        assertAt(e, 3, 11, "listeners[1].bind");
        assertEquals("127.0.0.1:8080 clashes with listeners[0].bind 0.0.0.0:8080 (line 2)", e.problem());
    }

    @Test
    void adminClashesWithAListener() {
        ConfigException e = refused("""
                node: {admin: "127.0.0.1:8080"}
                listeners:
                  - bind: 127.0.0.1:8080
                routes: [{static: /}]
                """);
        assertAt(e, 3, 11, "listeners[0].bind");
        assertMentions(e, "clashes with node.admin 127.0.0.1:8080 (line 1)");
    }

    @Test
    void clusterBindClashesWithAListener() {
        ConfigException e = refused(BASE + "cluster: {name: prod, bind: '[::]:8080', insecure: true}\n");
        assertAt(e, 8, 29, "cluster.bind");
        assertEquals("[::]:8080 clashes with listeners[0].bind 127.0.0.1:8080 (line 2)", e.problem());
    }

    @Test
    void sameHostOnDifferentPortsOrIpv6BesideIpv4WildcardDoNotClash() throws Exception {
        FlotillaConfig config = ConfigLoader.parse("""
                listeners:
                  - bind: 0.0.0.0:8080
                  - bind: 0.0.0.0:8081
                  - bind: "[::1]:8080"
                routes: [{static: /}]
                """, "edge.yaml");
        assertEquals(3, config.listeners().size(), "all three listeners accepted");
        assertEquals(8081, config.listeners().get(1).bind().port());
        assertEquals(8080, config.listeners().get(2).bind().port());
        assertTrue(
                config.listeners().get(2).bind().host().contains("::1"),
                config.listeners().get(2).bind().host());
    }

    @Test
    void maxConnectionsOutOfRange() {
        ConfigException e = refused("listeners:\n  - {bind: ':0', max_connections: 0}\nroutes: [{static: /}]\n");
        assertAt(e, 2, 35, "listeners[0].max_connections");
        assertEquals("must be at least 1, got 0", e.problem());
    }

    @Test
    void notANumber() {
        ConfigException e = refused(BASE + "node: {event_loops: many}\n");
        assertAt(e, 8, 21, "node.event_loops");
        assertEquals("expected a whole number, got 'many'", e.problem());
    }

    @Test
    void eventLoopsOutOfRange() {
        ConfigException e = refused(BASE + "node: {event_loops: -1}\n");
        assertEquals("must be between 0 and 1024, got -1", e.problem());
    }

    @Test
    void badNodeName() {
        ConfigException e = refused(BASE + "node: {name: edge one}\n");
        assertAt(e, 8, 14, "node.name");
        assertMentions(e, "letters, digits", "got 'edge one'");
    }

    @Test
    void bothUpstreamAndStatic() {
        ConfigException e = refused(BASE + "  - {path: /s/, upstream: app, static: /}\n");
        assertAt(e, 8, 5, "routes[1]");
        assertEquals("has both upstream and static; a route goes to exactly one of them", e.problem());
    }

    @Test
    void neitherUpstreamNorStatic() {
        ConfigException e = refused(BASE + "  - path: /s/\n");
        assertAt(e, 8, 5, "routes[1]");
        assertMentions(e, "needs either upstream");
    }

    @Test
    void missingStaticDirectory() {
        Path missing = dir.resolve("nope");
        ConfigException e = refused(BASE + "  - {path: /s/, static: " + missing + "}\n");
        assertAt(e, 8, 25, "routes[1].static");
        assertEquals("directory '" + missing + "' does not exist", e.problem());
    }

    @Test
    void relativeMissingStaticDirectoryShowsWhereItLooked() throws Exception {
        Path file = dir.resolve("edge.yaml");
        Files.writeString(file, "listeners: [{bind: ':0'}]\nroutes:\n  - static: www\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(file.toString(), e.file());
        assertEquals(3, e.line());
        assertEquals(
                "directory 'www' (" + dir.toAbsolutePath().normalize().resolve("www") + ") does not exist",
                e.problem());
    }

    @Test
    void staticMustBeADirectory() throws Exception {
        Path file = Files.writeString(dir.resolve("index.html"), "hi");
        ConfigException e = refused(BASE + "  - {path: /s/, static: " + file + "}\n");
        assertAt(e, 8, 25, "routes[1].static");
        assertMentions(e, "is not a directory");
    }

    @Test
    void duplicateRoutesNameBothLines() {
        ConfigException e = refused(BASE + """
                  - {host: example.com, path: /api/, upstream: app}
                  - {host: EXAMPLE.com, path: /api/, upstream: app}
                """);
        assertAt(e, 9, 5, "routes[2]");
        assertEquals(
                "same host ('example.com') and path '/api/' as routes[1] at line 8; one would never match",
                e.problem());
    }

    @Test
    void duplicateCatchAllRoutes() {
        ConfigException e = refused(BASE + "  - {upstream: app}\n");
        assertAt(e, 8, 5, "routes[1]");
        assertMentions(e, "same host (any) and path '/' as routes[0] at line 7");
    }

    @Test
    void hostWithPortIsExplained() {
        ConfigException e = refused(BASE + "  - {host: example.com:8080, upstream: app}\n");
        assertAt(e, 8, 12, "routes[1].host");
        assertMentions(e, "has a port");
    }

    @Test
    void badHostPatterns() {
        for (String host : new String[] {
            "exa mple.com", "*example.com", "a.*.com", "example..com", "-a.com", "ex_ample.com", "*.", "example.com."
        }) {
            ConfigException e = refused(BASE + "  - {host: '" + host + "', upstream: app}\n");
            assertAt(e, 8, 12, "routes[1].host");
            assertMentions(e, "expected a host name", host);
        }
        ConfigException star = refused(BASE + "  - {host: '*', upstream: app}\n");
        assertMentions(star, "leave host out");
    }

    @Test
    void pathMustStartWithSlash() {
        ConfigException e = refused(BASE + "  - {path: api/, upstream: app}\n");
        assertAt(e, 8, 12, "routes[1].path");
        assertEquals("path must start with '/', got 'api/'", e.problem());
    }

    @Test
    void pathWithQueryIsRefused() {
        ConfigException e = refused(BASE + "  - {path: '/a?b=1', upstream: app}\n");
        assertAt(e, 8, 12, "routes[1].path");
        assertMentions(e, "'?'");
    }

    @Test
    void stripPrefixAndRewriteAreExclusive() {
        ConfigException e = refused(BASE + "  - {path: /a/, upstream: app, strip_prefix: true, rewrite: /b/}\n");
        assertAt(e, 8, 61, "routes[1].rewrite");
        assertMentions(e, "strip_prefix");
    }

    @Test
    void rewriteMustStartWithSlash() {
        ConfigException e = refused(BASE + "  - {path: /a/, upstream: app, rewrite: b/}\n");
        assertAt(e, 8, 41, "routes[1].rewrite");
        assertEquals("rewrite must start with '/', got 'b/'", e.problem());
    }

    @Test
    void stripPrefixIsABoolean() {
        ConfigException e = refused(BASE + "  - {path: /a/, upstream: app, strip_prefix: yes}\n");
        assertAt(e, 8, 46, "routes[1].strip_prefix");
        assertEquals("expected true or false, got 'yes'", e.problem());
    }

    @Test
    void upstreamWithoutServers() {
        ConfigException e = refused("""
                listeners: [{bind: ":0"}]
                upstreams:
                  app:
                    balance: round_robin
                routes: [{upstream: app}]
                """);
        assertAt(e, 4, 5, "upstreams.app.servers");
        assertEquals("at least one server is required", e.problem());
    }

    @Test
    void upstreamWithEmptyServerList() {
        ConfigException e = refused("""
                listeners: [{bind: ":0"}]
                upstreams:
                  app:
                    servers: []
                routes: [{upstream: app}]
                """);
        assertAt(e, 4, 14, "upstreams.app.servers");
    }

    @Test
    void negativeWeight() {
        ConfigException e = refused("""
                listeners: [{bind: ":0"}]
                upstreams:
                  app:
                    servers:
                      - {address: 127.0.0.1:1, weight: -2}
                routes: [{upstream: app}]
                """);
        assertAt(e, 5, 40, "upstreams.app.servers[0].weight");
        assertEquals("must be between 0 and 1000, got -2", e.problem());
    }

    @Test
    void serverOnPortZero() {
        ConfigException e = refused("""
                listeners: [{bind: ":0"}]
                upstreams: {app: {servers: [127.0.0.1:0]}}
                routes: [{upstream: app}]
                """);
        assertAt(e, 2, 29, "upstreams.app.servers[0]");
        assertMentions(e, "real port");
    }

    @Test
    void duplicateServer() {
        ConfigException e = refused("""
                listeners: [{bind: ":0"}]
                upstreams:
                  app:
                    servers:
                      - 127.0.0.1:9001
                      - {address: 127.0.0.1:9001, weight: 2}
                routes: [{upstream: app}]
                """);
        assertAt(e, 6, 19, "upstreams.app.servers[1].address");
        assertMentions(e, "listed twice (first at line 5)");
    }

    @Test
    void unknownBalance() {
        ConfigException e = refused("""
                listeners: [{bind: ":0"}]
                upstreams:
                  app:
                    balance: round-robin
                    servers: [127.0.0.1:1]
                routes: [{upstream: app}]
                """);
        assertAt(e, 4, 14, "upstreams.app.balance");
        assertEquals(
                "unknown balance 'round-robin' (did you mean 'round_robin'?); accepted: round_robin, least_conn, random, ring_hash, maglev",
                e.problem());
    }

    @Test
    void badUpstreamName() {
        ConfigException e = refused("""
                listeners: [{bind: ":0"}]
                upstreams:
                  my app:
                    servers: [127.0.0.1:1]
                routes: [{upstream: my app}]
                """);
        assertAt(e, 3, 3, "upstreams.my app");
        assertMentions(e, "upstream name may use only");
    }

    @Test
    void listWhereAMappingIsExpected() {
        ConfigException e = refused(BASE + """
                timeouts:
                  - keepalive: 5s
                """);
        assertAt(e, 9, 3, "timeouts");
        assertEquals("expected a mapping (key: value lines or {key: value}), got a list", e.problem());
    }

    @Test
    void mappingWhereAListIsExpected() {
        ConfigException e = refused("""
                listeners:
                  bind: 127.0.0.1:8080
                routes: [{static: /}]
                """);
        assertAt(e, 2, 3, "listeners");
        assertMentions(e, "expected a list", "got a mapping");
    }

    @Test
    void listWhereAValueIsExpected() {
        ConfigException e = refused(BASE + "headers: {via: [true]}\n");
        assertAt(e, 8, 16, "headers.via");
        assertEquals("expected a single value, got a list", e.problem());
    }

    @Test
    void nullForARequiredValue() {
        ConfigException e = refused("listeners:\n  - bind:\nroutes: [{static: /}]\n");
        assertEquals(2, e.line());
        assertEquals("listeners[0].bind", e.field());
        assertEquals("needs a value", e.problem());
    }

    @Test
    void duplicateKey() {
        ConfigException e = refused(BASE + "limits: {body: 1m}\nlimits: {body: 2m}\n");
        assertAt(e, 9, 1, "limits");
        assertEquals("duplicate key 'limits' (first at line 8)", e.problem());
    }

    @Test
    void requestIdMustBeAHeaderName() {
        ConfigException e = refused(BASE + "headers: {request_id: X Request Id}\n");
        assertAt(e, 8, 23, "headers.request_id");
        assertMentions(e, "expected a header name");
        assertMentions(refused(BASE + "headers: {request_id: true}\n"), "false to disable");
    }

    @Test
    void literalHostHeaderWithSpaces() {
        ConfigException e = refused(BASE + "headers: {host: 'a b'}\n");
        assertAt(e, 8, 17, "headers.host");
    }

    @Test
    void clusterNeedsNameAndBind() {
        ConfigException e = refused(BASE + "cluster:\n  bind: 10.0.0.1:5701\n");
        assertAt(e, 9, 3, "cluster.name");
        e = refused(BASE + "cluster: {name: prod, peers: [10.0.0.1:5701, 10.0.0.1:5701]}\n");
        assertAt(e, 8, 10, "cluster.bind");
    }

    @Test
    void aFleetBeyondLoopbackNeedsItsSecret() throws Exception {
        ConfigException e = refused(BASE + "cluster: {name: prod, bind: 10.0.0.1:5701}\n");
        assertAt(e, 8, 29, "cluster.bind");
        assertMentions(e, "needs its secret", "flotilla fleet-key", "insecure: true");
        e = refused(BASE + "cluster: {name: prod, bind: 10.0.0.1:5701, keys: [c2hvcnQ=]}\n");
        assertAt(e, 8, 50, "cluster.keys");
        assertMentions(e, "fleet key 1 has 5 bytes, not 32");
        Path file = Files.writeString(dir.resolve("fleet.key"), "# comment\nnot base64!\n");
        e = refused(BASE + "cluster: {name: prod, bind: 10.0.0.1:5701, key_file: '" + file + "'}\n");
        assertAt(e, 8, 54, "cluster.key_file");
        assertMentions(e, "fleet key 1 is not base64");
        Files.writeString(file, io.flotilla.cluster.security.FleetKeys.generate() + "\n");
        e = refused(BASE + "cluster: {name: prod, bind: 10.0.0.1:5701, key_file: '" + file + "', keys: [x]}\n");
        assertMentions(e, "not both");
        FlotillaConfig ok = ConfigLoader.parse(
                BASE + "cluster: {name: prod, bind: 10.0.0.1:5701, key_file: '" + file + "'}\n", "edge.yaml");
        assertEquals(1, ok.cluster().orElseThrow().keysNow().size());
        assertTrue(
                ConfigLoader.parse(BASE + "cluster: {name: prod, bind: 10.0.0.1:5701, insecure: true}\n", "edge.yaml")
                        .cluster()
                        .orElseThrow()
                        .insecure());
        assertTrue(
                ConfigLoader.parse(BASE + "cluster: {name: prod, bind: 127.0.0.1:5701}\n", "edge.yaml")
                        .cluster()
                        .orElseThrow()
                        .keysNow()
                        .isEmpty(),
                "loopback needs no secret");
    }

    @Test
    void clusterPeerListedTwice() {
        ConfigException e =
                refused(BASE + "cluster: {name: prod, bind: ':5701', peers: [10.0.0.1:5701, 10.0.0.1:5701]}\n");
        assertAt(e, 8, 61, "cluster.peers[1]");
        assertMentions(e, "listed twice");
    }

    @Test
    void topLevelMustBeAMapping() {
        ConfigException e = refused("- listeners\n- routes\n");
        assertAt(e, 1, 1, "");
        assertMentions(e, "the top level must be a mapping");
    }

    @Test
    void emptyFile() {
        for (String text : new String[] {"", "\n\n", "# nothing yet\n", "~\n"}) {
            ConfigException e = refused(text);
            assertEquals("edge.yaml: empty config", e.getMessage(), text);
            assertEquals(0, e.line());
        }
    }

    @Test
    void yamlSyntaxErrorCarriesItsLine() {
        ConfigException e = refused("""
                listeners:
                  - bind: 127.0.0.1:8080
                routes:
                  - path: /
                   upstream: app
                """);
        assertEquals(5, e.line(), e.getMessage());
        assertTrue(e.column() > 0, e.getMessage());
        assertNull(e.field());
        assertMentions(e, "edge.yaml:5:", "YAML syntax error");
    }

    @Test
    void yamlSyntaxErrorInFlowStyle() {
        ConfigException e = refused("listeners: [{bind: ':0'}\nroutes: [{static: /}]\n\n");
        assertEquals(2, e.line(), e.getMessage());
        assertMentions(e, "YAML syntax error");
    }

    @Test
    void tabIndentationIsASyntaxError() {
        ConfigException e = refused("listeners:\n\t- bind: ':0'\n");
        assertEquals(2, e.line(), e.getMessage());
    }

    @Test
    void controlCharacterIsPinnedToItsLine() {
        ConfigException e = refused("listeners:\n  - bind: a\u0007b\n");
        assertAt(e, 2, 12, null);
        assertEquals("character U+0007 is not allowed in YAML", e.problem());
    }

    @Test
    void missingFileHasNoLine() {
        Path missing = dir.resolve("absent.yaml");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing));
        assertEquals(missing + ": no such file", e.getMessage());
        assertEquals(0, e.line());
    }

    @Test
    void directoryIsNotAConfigFile() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir));
        assertEquals(0, e.line());
        assertMentions(e, "is a directory");
    }

    @Test
    void fileThatIsNotUtf8() throws Exception {
        Path file = Files.write(dir.resolve("latin1.yaml"), new byte[] {'a', ':', ' ', (byte) 0xE9, '\n'});
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(0, e.line());
        assertMentions(e, "UTF-8");
    }
}
