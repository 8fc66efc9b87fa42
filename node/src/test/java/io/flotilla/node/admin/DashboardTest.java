package io.flotilla.node.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.flotilla.node.testing.RawClient;
import io.flotilla.node.testing.TestNode;
import io.flotilla.node.testing.TestOrigin;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The Grafana dashboards in {@code grafana/}: that Grafana's file provisioning can load them, and that
 * every query of every panel returns data from a real Prometheus scraping a fleet of three real nodes,
 * which also evaluates the alert rules of {@code prometheus/}.
 */
class DashboardTest {
    private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
    private static final Set<String> PANEL_TYPES =
            Set.of("row", "stat", "timeseries", "gauge", "bargauge", "table", "text");
    /** Grafana's variable syntaxes: $name, ${name} and [[name]]. */
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)}|\\$(\\w+)|\\[\\[(\\w+)]]");

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private Process prometheus;

    @TempDir
    Path dir;

    /** One panel query, as written in a dashboard. */
    private record PanelQuery(String dashboard, String panel, String refId, String expr) {
        @Override
        public String toString() {
            return dashboard + " / " + panel + " / " + refId + ": " + expr;
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T c) {
        closeables.add(c);
        return c;
    }

    // ---- what provisioning needs --------------------------------------------------------------------

    @Test
    void dashboardsHaveWhatGrafanaProvisioningNeeds() throws Exception {
        String datasource = provisionedDatasourceUid();
        Map<String, Object> provider = only(yaml("provisioning/dashboards/flotilla.yaml"), "providers");
        assertEquals("file", provider.get("type"), "dashboards are provisioned from files");
        Object options = provider.get("options");
        assertTrue(
                options instanceof Map<?, ?> m && m.get("path") instanceof String p && !p.isBlank(),
                "the dashboards provider needs options.path: " + provider);

        Map<String, JsonNode> dashboards = dashboards();
        assertEquals(Set.of("fleet-overview.json", "node.json"), dashboards.keySet());
        Set<String> uids = new HashSet<>();
        Set<String> titles = new HashSet<>();
        for (Map.Entry<String, JsonNode> entry : dashboards.entrySet()) {
            String file = entry.getKey();
            JsonNode d = entry.getValue();
            String uid = text(d, "uid", file);
            assertTrue(
                    uid.matches("[A-Za-z0-9_-]{1,40}"),
                    file + ": Grafana uids are at most 40 of [A-Za-z0-9_-]: " + uid);
            assertTrue(uids.add(uid), file + ": uid " + uid + " is used twice");
            assertTrue(
                    titles.add(text(d, "title", file)), file + ": two dashboards in one folder need distinct titles");
            assertTrue(
                    d.path("schemaVersion").isInt()
                            && d.path("schemaVersion").asInt() >= 36
                            && d.path("schemaVersion").asInt() <= 41,
                    file + ": schemaVersion " + d.path("schemaVersion"));
            assertTrue(
                    d.path("id").isNull() || d.path("id").isMissingNode(),
                    file + ": a provisioned dashboard must not carry a database id");

            Map<String, JsonNode> variables = variables(d, datasource, file);
            assertEquals("label_values(up{job=\"flotilla\"}, instance)", variableQuery(variables.get("node"), file));
            assertEquals("label_values(flotilla_requests_total, route)", variableQuery(variables.get("route"), file));

            Set<String> used = new TreeSet<>();
            Set<Integer> ids = new HashSet<>();
            List<JsonNode> placed = new ArrayList<>();
            List<JsonNode> panels = panels(d);
            assertFalse(panels.isEmpty(), file + ": no panels");
            for (JsonNode panel : panels) {
                String where = file + " panel " + panel.path("id") + " '"
                        + panel.path("title").asText() + "'";
                assertTrue(
                        panel.path("id").isInt() && ids.add(panel.path("id").asInt()),
                        where + ": ids must be unique ints");
                assertTrue(PANEL_TYPES.contains(panel.path("type").asText()), where + ": type " + panel.path("type"));
                text(panel, "title", where);
                checkGridPos(panel, placed, where);
                if (panel.path("type").asText().equals("row")) {
                    continue;
                }
                assertEquals(datasource, panel.path("datasource").path("uid").asText(), where + ": datasource uid");
                JsonNode targets = panel.path("targets");
                assertTrue(targets.isArray() && !targets.isEmpty(), where + ": no targets");
                Set<String> refIds = new HashSet<>();
                for (JsonNode target : targets) {
                    assertTrue(refIds.add(text(target, "refId", where)), where + ": refId repeated");
                    String expr = text(target, "expr", where);
                    if (target.has("datasource")) {
                        assertEquals(
                                datasource,
                                target.path("datasource").path("uid").asText(),
                                where + ": target datasource");
                    }
                    for (String name : variablesIn(expr)) {
                        assertTrue(
                                variables.containsKey(name),
                                where + ": $" + name + " is not a dashboard variable: " + expr);
                        used.add(name);
                    }
                }
            }
            assertEquals(
                    new TreeSet<>(variables.keySet()), used, file + ": every variable is used by some panel query");
        }
    }

    private static void checkGridPos(JsonNode panel, List<JsonNode> placed, String where) {
        JsonNode g = panel.path("gridPos");
        for (String field : List.of("h", "w", "x", "y")) {
            assertTrue(g.path(field).isInt() && g.path(field).asInt() >= 0, where + ": gridPos." + field + " " + g);
        }
        int x = g.get("x").asInt();
        int y = g.get("y").asInt();
        int w = g.get("w").asInt();
        int h = g.get("h").asInt();
        assertTrue(w >= 1 && h >= 1 && x + w <= 24, where + ": gridPos outside the 24 columns: " + g);
        for (JsonNode other : placed) {
            JsonNode o = other.path("gridPos");
            boolean overlap = x < o.get("x").asInt() + o.get("w").asInt()
                    && o.get("x").asInt() < x + w
                    && y < o.get("y").asInt() + o.get("h").asInt()
                    && o.get("y").asInt() < y + h;
            assertFalse(overlap, where + " overlaps panel " + other.path("id") + " (Grafana would move one)");
        }
        placed.add(panel);
    }

    // ---- every query against a real Prometheus -------------------------------------------------------

    /**
     * Three nodes joined into one fleet (in this JVM: JGroups gossip and Hazelcast members on loopback,
     * with a fleet key), traffic that exercises the shared cache (remote hits, fills, purges), a rate
     * limit, a dead backend and a health-checked server that fails, a real Prometheus scraping them
     * every second with the alert rules of {@code prometheus/} loaded. Every panel query of every
     * dashboard must return data from all three nodes; then the node running as a process of its own
     * is stopped (SIGTERM) and its FlotillaNodeDown alert must go pending and then firing. About 40 s.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS) // a backstop: every wait below has its own, shorter bound
    void everyPanelQueryReturnsDataFromARealPrometheus() throws Exception {
        if (!Files.isExecutable(PROMETHEUS)) {
            if ("true".equals(System.getenv("CI"))) {
                fail(PROMETHEUS + " is missing: .ci/run should have installed Debian's prometheus package");
            }
            Assumptions.abort(
                    PROMETHEUS + " is missing (apt-get install prometheus); skipping the live dashboard check");
        }
        List<PanelQuery> queries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> d : dashboards().entrySet()) {
            for (JsonNode panel : panels(d.getValue())) {
                for (JsonNode target : panel.path("targets")) {
                    queries.add(new PanelQuery(
                            d.getKey(),
                            panel.path("title").asText(),
                            target.path("refId").asText(),
                            target.path("expr").asText()));
                }
            }
        }
        assertTrue(queries.size() > 80, "found only " + queries.size() + " queries");
        List<PanelQuery> annotations = new ArrayList<>();
        for (Map.Entry<String, JsonNode> d : dashboards().entrySet()) {
            for (JsonNode a : d.getValue().path("annotations").path("list")) {
                if (a.has("expr")) {
                    annotations.add(new PanelQuery(
                            d.getKey(),
                            "annotation " + a.path("name").asText(),
                            "-",
                            a.path("expr").asText()));
                }
            }
        }
        assertTrue(annotations.size() >= 6, "config, members and drains as annotations on both dashboards");

        int refused = unusedPort();
        TestOrigin origin = track(TestOrigin.start(DashboardTest::origin));
        List<Member> nodes = startFleet(origin, refused);
        for (int i = 0; i < nodes.size(); i++) {
            driveTraffic(nodes, i);
        }
        List<String> instances =
                nodes.stream().map(n -> "127.0.0.1:" + n.adminPort()).toList();
        String api = startPrometheus(instances);

        AtomicReference<Throwable> trafficFailure = new AtomicReference<>();
        Thread ticks = new Thread(() -> keepTrafficGoing(nodes, trafficFailure), "dashboard-test-traffic");
        ticks.setDaemon(true);
        ticks.start();
        try {
            awaitTargetsUp(api, instances);
            // rate() needs two samples of a counter inside its window: wait for three scrapes of each node
            // inside the window the panels are given below (10 s), while the background traffic runs.
            awaitQuery(api, "count(count_over_time(up{job=\"flotilla\"}[10s]) >= 3)", 3.0);
            Map<String, String> values = Map.of(
                    "node",
                            "127.0.0.1:("
                                    + nodes.stream()
                                            .map(n -> String.valueOf(n.adminPort()))
                                            .collect(Collectors.joining("|"))
                                    + ")",
                    "route", ".*",
                    "__rate_interval", "10s",
                    "__interval", "1s");
            // A query has data when it returns a finite sample and, where its series keep the instance
            // label, series from every node. Asked again for a bounded time, as scrapes land 1 s apart.
            Set<String> all = new TreeSet<>(instances);
            List<PanelQuery> pending = new ArrayList<>(queries);
            Map<PanelQuery, String> last = new LinkedHashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(25);
            while (!pending.isEmpty() && System.nanoTime() < deadline) {
                for (PanelQuery q : List.copyOf(pending)) {
                    JsonNode result = query(api, substitute(q.expr(), values), q);
                    last.put(q, result.toString());
                    Set<String> from = instancesIn(result);
                    if (hasFiniteSample(result) && (from.isEmpty() || from.equals(all))) {
                        pending.remove(q);
                    }
                }
                if (!pending.isEmpty()) {
                    Thread.sleep(500);
                }
            }
            assertTrue(
                    pending.isEmpty(),
                    () -> "panel queries without data from every node after 25 s (traffic "
                            + "failure: " + trafficFailure.get() + "):\n"
                            + pending.stream()
                                    .map(q -> q + "\n    -> " + last.get(q))
                                    .collect(Collectors.joining("\n")) + "\nPrometheus log:\n" + prometheusLog());
            for (PanelQuery a : annotations) {
                query(api, substitute(a.expr(), values), a); // Prometheus accepts it (it has data only on a change)
            }
            perInstance(api, "sum by (instance) (rate(flotilla_requests_total[10s]))", all)
                    .forEach((node, rate) ->
                            assertTrue(rate > 0, "the background traffic shows as a request rate on " + node));

            // The variables' label_values() queries, as Grafana sends them.
            assertEquals(new TreeSet<>(instances), labelValues(api, "instance", "up{job=\"flotilla\"}"));
            assertTrue(
                    labelValues(api, "route", "flotilla_requests_total").containsAll(Set.of("app", "dead", "none")),
                    "routes: the upstream names, and none for 404s");
            assertEquals(
                    3.0, sample(query(api, "sum(up{job=\"flotilla\"})", null).get(0)), "all members up");
            // What the traffic did shows where it should: the fleet's numbers, not just some number.
            perInstance(api, "sum by (instance) (flotilla_requests_total)", all)
                    .forEach(
                            (node, requests) -> assertTrue(requests >= 100, requests + " requests counted on " + node));
            perInstance(api, "flotilla_fleet_members{view=\"shared\"}", all)
                    .forEach((node, members) -> assertEquals(3.0, members, node + " sees three shared-state members"));
            perInstance(api, "flotilla_fleet_view_agrees", all)
                    .forEach((node, agrees) -> assertEquals(1.0, agrees, node + ": JGroups and Hazelcast agree"));
            perInstance(api, "sum by (instance) (flotilla_fleet_near_cache_total{result=\"hit\"})", all)
                    .forEach((node, hits) -> assertTrue(hits > 0, node + " answered from its near cache"));
            perInstance(api, "flotilla_fleet_operation_seconds_count{kind=\"remote_get\"}", all)
                    .forEach((node, gets) -> assertTrue(gets > 0, node + " read entries another node stored"));
            assertTrue(
                    sample(query(api, "sum(flotilla_fleet_operation_seconds_count{kind=\"purge\"})", null)
                                    .get(0))
                            > 0,
                    "purges went to the fleet");
            assertTrue(
                    sample(query(api, "sum(flotilla_rate_limited_total)", null).get(0)) > 0, "429s by route");
            assertTrue(sample(query(api, "sum(flotilla_cache_events_total{event=\"hit\"})", null)
                            .get(0))
                    > 0);
            assertEquals(
                    0.0,
                    sample(query(
                                    api,
                                    "max(flotilla_upstream_server_available{server=\"127_0_0_1_" + refused
                                            + "\", upstream=\"pair\"})",
                                    null)
                            .get(0)),
                    "the failed server is out on every node");
            // The fleet p99 from summed buckets: a real number of seconds, below the upstream_read timeout.
            double p99 = sample(query(
                            api,
                            "histogram_quantile(0.99, sum by (le) "
                                    + "(rate(flotilla_request_duration_seconds_bucket{route=\"app\"}[30s])))",
                            null)
                    .get(0));
            assertTrue(p99 > 0 && p99 < 2, "fleet p99 of the app route: " + p99);
            assertNull(trafficFailure.get(), "the background traffic failed");

            // A real condition fires a shipped alert: the node process gets SIGTERM, drains and exits;
            // Prometheus finds it down.
            Member stopped = nodes.get(2);
            String instance = instances.get(2);
            ticks.interrupt();
            ticks.join(5000);
            stopped.stop().close();
            String firing = awaitAlert(api, "FlotillaNodeDown", instance);
            assertTrue(firing.contains("\"pending\""), "seen pending before firing: " + firing);
            assertTrue(firing.contains("\"firing\""), firing);
        } finally {
            ticks.interrupt();
            ticks.join(5000);
        }
    }

    /** A fleet member the test talks to: its listener and admin ports, and how to stop it. */
    private record Member(int port, int adminPort, AutoCloseable stop) {
        RawClient client() throws IOException {
            return new RawClient(port);
        }
    }

    private static final Pattern STARTED =
            Pattern.compile("serving on \\[/127\\.0\\.0\\.1:(\\d+)].*admin on 127\\.0\\.0\\.1:(\\d+), fleet");

    /**
     * Three fleet members: the first alone, the others joining it by its gossip address; two in this
     * JVM, the third a process of its own (the one the alert check stops, as an operator would).
     */
    private List<Member> startFleet(TestOrigin origin, int refused) throws Exception {
        String fleet = "dash" + Long.toHexString(System.nanoTime());
        String key = io.flotilla.cluster.security.FleetKeys.generate();
        List<TestNode> inProcess = new ArrayList<>();
        List<Member> members = new ArrayList<>();
        String seed = null;
        for (int i = 0; i < 2; i++) {
            TestNode node = track(TestNode.startWith(nodeConfig(i, origin, refused, fleet, key, seed)));
            inProcess.add(node);
            members.add(new Member(node.port(), node.adminPort(), node));
            if (seed == null) {
                seed = node.node().fleet().membership().gossipAddress();
            }
        }
        members.add(startProcess(nodeConfig(2, origin, refused, fleet, key, seed)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (TestNode node : inProcess) {
            while (node.node().fleet().membership().members().size() != 3
                    || node.node().fleet().statistics().sharedMembers() != 3) {
                assertTrue(System.nanoTime() < deadline, "three members within 60 s");
                Thread.sleep(100);
            }
        }
        return members;
    }

    /** A node as a process of its own (this test's class path), its ports read back from its log. */
    private Member startProcess(String config) throws Exception {
        Path file = Files.writeString(dir.resolve("dash-process.yaml"), config);
        Path log = dir.resolve("dash-process.log");
        String java = ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process process = new ProcessBuilder(
                        java,
                        "-Xmx256m",
                        "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1",
                        "-Dhazelcast.phone.home.enabled=false",
                        "-cp",
                        System.getProperty("java.class.path"),
                        "io.flotilla.node.cli.Main",
                        "node",
                        "--config",
                        file.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        AutoCloseable stop = track(() -> {
            process.destroy(); // SIGTERM: the node drains and exits
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail("the node process exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            Matcher m = STARTED.matcher(Files.readString(log));
            if (m.find()) {
                return new Member(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), stop);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the node process did not start within 60 s:\n" + Files.readString(log));
    }

    /** Cacheable answers, a slow path (past upstream_read, 2 s) and one that cuts its response short. */
    private static boolean origin(TestOrigin.Received request, OutputStream out) throws IOException {
        switch (request.target()) {
            case "/app/slow" -> {
                try {
                    Thread.sleep(3000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return TestOrigin.ok("late").respond(request, out);
            }
            case "/app/cut" -> {
                out.write(
                        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                return false;
            }
            default -> {
                TestOrigin.writeResponse(
                        out,
                        200,
                        Map.of("Cache-Control", "max-age=300", "Surrogate-Key", "dash"),
                        ("origin:" + request.target()).getBytes(StandardCharsets.US_ASCII),
                        !request.method().equals("HEAD"));
                return true;
            }
        }
    }

    private String nodeConfig(int i, TestOrigin origin, int refused, String fleet, String key, String seed) {
        return "node: {name: dash-" + i + ", event_loops: 1, admin: \"127.0.0.1:0\", drain_grace: 0s, "
                + "access_log: {path: " + dir.resolve("access-" + i + ".log") + ", format: json}}\n"
                + "listeners:\n  - {bind: \"127.0.0.1:0\"}\n"
                + "upstreams:\n  app: {servers: [" + origin.address() + "]}\n"
                + "  dead: {servers: [127.0.0.1:" + refused + "]}\n"
                + "  pair:\n    servers: [" + origin.address() + ", 127.0.0.1:" + refused + "]\n"
                + "    health: {path: /health, interval: 300ms, timeout: 200ms, fall: 1, rise: 1}\n"
                + "routes:\n  - {path: /app/, upstream: app, cache: true}\n  - {path: /dead/, upstream: dead}\n"
                + "  - {path: /pair/, upstream: pair}\n"
                + "  - {path: /limited/, upstream: app, rate_limit: {requests: 20, per: 10s, key: route}}\n"
                + "timeouts: {keepalive: 1s, upstream_read: 2s}\n"
                + "cluster:\n  name: " + fleet + "\n  bind: '127.0.0.1:0'\n  gossip_port: 0\n  expected_size: 3\n"
                + "  keys: ['" + key + "']\n"
                + (seed == null ? "" : "  peers: ['" + seed + "']\n");
    }

    /**
     * A bounded burst on node {@code i}: 100 requests on a keep-alive connection (cache fills of its
     * own, remote hits on what the node before it stored, 404s with no route, 502s from a refused
     * upstream, 429s past the fleet's rate limit), then one request each that times out upstream (504)
     * and that the origin cuts short, a purge, and one connection left idle past the keep-alive timeout.
     */
    private void driveTraffic(List<Member> nodes, int i) throws Exception {
        Member node = nodes.get(i);
        try (RawClient client = node.client()) {
            for (int k = 0; k < 100; k++) {
                String target =
                        switch (k % 10) {
                            case 0 -> "/missing";
                            case 1 -> "/dead/x";
                            case 2, 3 -> "/limited/" + k;
                            case 4 -> "/pair/" + k;
                            case 5, 6 ->
                                "/app/from-" + ((i + nodes.size() - 1) % nodes.size()) + "-" + k; // the previous node's
                            default -> "/app/from-" + i + "-" + k;
                        };
                int status = client.get(target, "dash").status();
                int expected = k % 10 == 0 ? 404 : k % 10 == 1 ? 502 : 200;
                if (k % 10 == 2 || k % 10 == 3) {
                    assertTrue(status == 200 || status == 429, target + ": " + status);
                } else if (k % 10 != 4) {
                    assertEquals(expected, status, target);
                }
            }
        }
        try (RawClient client = node.client()) {
            assertEquals(504, client.get("/app/slow", "dash").status());
        }
        try (RawClient client = node.client()) {
            String cut =
                    client.send("GET /app/cut HTTP/1.1\r\nHost: dash\r\n\r\n").readAll();
            assertTrue(cut.startsWith("HTTP/1.1 200") && cut.endsWith("partial"), "a truncated response: " + cut);
        }
        purge(node, "/app/from-" + i + "-9");
        RawClient idle = track(node.client());
        assertEquals(200, idle.get("/app/idle", "dash").status());
    }

    private static void purge(Member node, String path) throws IOException {
        try (RawClient admin = new RawClient(node.adminPort())) {
            String url = URLEncoder.encode("http://dash" + path, StandardCharsets.UTF_8);
            RawClient.Response r = admin.send("POST /cache/purge?url=" + url + " HTTP/1.1\r\nHost: admin\r\n"
                            + "Content-Length: 0\r\n\r\n")
                    .read();
            assertEquals(200, r.status(), r.bodyText());
        }
    }

    /**
     * Every 200 ms on each node: a new URL filled, the entry the previous node filled a tick ago read
     * (a remote hit), a hit, a purge, a rate-limited request, and now and then a 404 and a 502.
     */
    private static void keepTrafficGoing(List<Member> nodes, AtomicReference<Throwable> failure) {
        for (int tick = 0; !Thread.currentThread().isInterrupted(); tick++) {
            try {
                for (int i = 0; i < nodes.size(); i++) {
                    Member node = nodes.get(i);
                    try (RawClient client = node.client()) {
                        client.get("/app/tick-" + i + "-" + tick, "dash");
                        if (tick > 0) {
                            client.get(
                                    "/app/tick-" + ((i + nodes.size() - 1) % nodes.size()) + "-" + (tick - 1), "dash");
                        }
                        client.get("/app/hot", "dash");
                        client.get("/limited/tick", "dash");
                        client.get("/pair/tick", "dash");
                        if (tick % 5 == 0) {
                            client.get("/missing", "dash");
                            client.get("/dead/tick", "dash");
                        }
                    }
                    purge(node, "/app/tick-" + i + "-" + tick);
                }
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                if (!Thread.currentThread().isInterrupted()) {
                    failure.compareAndSet(null, t);
                }
                return;
            }
        }
    }

    /**
     * Waits for {@code alert} on {@code instance} to fire, noting each state Prometheus reports on the
     * way; returns those states.
     */
    private String awaitAlert(String api, String alert, String instance) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        Set<String> states = new TreeSet<>();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = get(api + "/api/v1/alerts").path("data").path("alerts");
            for (JsonNode a : last) {
                if (a.path("labels").path("alertname").asText().equals(alert)
                        && a.path("labels").path("instance").asText().equals(instance)) {
                    states.add("\"" + a.path("state").asText() + "\"");
                }
            }
            if (states.contains("\"firing\"")) {
                return states.toString();
            }
            Thread.sleep(250);
        }
        fail(alert + " for " + instance + " did not fire within 40 s; states seen " + states + ", alerts " + last
                + "\nPrometheus log:\n" + prometheusLog());
        return null;
    }

    /**
     * A port nothing listens on, found by binding port 0 and closing: the refused upstream's address, and
     * Prometheus's listen address (a program told where to listen cannot report a port 0 back to us).
     */
    private static int unusedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private String startPrometheus(List<String> instances) throws IOException {
        Path config = dir.resolve("prometheus.yml");
        // The shipped rules, their `for` cut to 3 s: the same expressions, pending and firing in seconds.
        Path rules = dir.resolve("flotilla-alerts.yml");
        Files.writeString(
                rules,
                Files.readString(AlertRulesTest.repository().resolve("prometheus/flotilla-alerts.yml"))
                        .replaceAll("(?m)^(?<indent>\\s+for: )\\d+[smh]$", "${indent}3s"));
        Files.writeString(
                config,
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                        + "rule_files: ['" + rules + "']\n"
                        + "scrape_configs:\n  - job_name: flotilla\n    static_configs:\n      - targets: ["
                        + instances.stream().map(i -> "'" + i + "'").collect(Collectors.joining(", ")) + "]\n");
        int port = unusedPort();
        prometheus = new ProcessBuilder(
                        PROMETHEUS.toString(),
                        "--config.file=" + config,
                        "--storage.tsdb.path=" + dir.resolve("data"),
                        "--web.listen-address=127.0.0.1:" + port,
                        "--log.level=warn")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("prometheus.log").toFile())
                .start();
        return "http://127.0.0.1:" + port;
    }

    private String prometheusLog() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("prometheus.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private void awaitTargetsUp(String api, List<String> instances) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!prometheus.isAlive()) {
                fail("Prometheus exited (" + prometheus.exitValue() + "):\n" + prometheusLog());
            }
            try {
                JsonNode targets =
                        get(api + "/api/v1/targets?state=active").path("data").path("activeTargets");
                last = targets.toString();
                Set<String> up = new TreeSet<>();
                for (JsonNode t : targets) {
                    if (t.path("health").asText().equals("up")) {
                        up.add(t.path("labels").path("instance").asText());
                    }
                }
                if (up.equals(new TreeSet<>(instances))) {
                    return;
                }
            } catch (IOException e) {
                last = e.toString(); // not listening yet
            }
            Thread.sleep(200);
        }
        fail("targets not up within 30 s: " + last + "\nPrometheus log:\n" + prometheusLog());
    }

    private void awaitQuery(String api, String promql, double expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode result = null;
        while (System.nanoTime() < deadline) {
            result = query(api, promql, null);
            if (!result.isEmpty() && sample(result.get(0)) == expected) {
                return;
            }
            Thread.sleep(200);
        }
        fail(promql + " is not " + expected + " after 30 s: " + result + "\nPrometheus log:\n" + prometheusLog());
    }

    /** The result of an instant query; a query Prometheus refuses fails the test at once. */
    private static JsonNode query(String api, String promql, PanelQuery from) throws Exception {
        JsonNode answer = get(api + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        if (!answer.path("status").asText().equals("success")) {
            fail("Prometheus refused " + (from == null ? promql : from + "\n    as sent: " + promql) + "\n    "
                    + answer);
        }
        return answer.path("data").path("result");
    }

    private static boolean hasFiniteSample(JsonNode result) {
        for (JsonNode series : result) {
            if (Double.isFinite(sample(series))) {
                return true;
            }
        }
        return false;
    }

    /** One value per node, for a query that keeps the instance label; both nodes must answer. */
    private static Map<String, Double> perInstance(String api, String promql, Set<String> both) throws Exception {
        Map<String, Double> values = new TreeMap<>();
        for (JsonNode series : query(api, promql, null)) {
            values.put(series.path("metric").path("instance").asText(), sample(series));
        }
        assertEquals(both, values.keySet(), promql);
        return values;
    }

    private static Set<String> instancesIn(JsonNode result) {
        Set<String> instances = new TreeSet<>();
        for (JsonNode series : result) {
            if (series.path("metric").has("instance")) {
                instances.add(series.path("metric").path("instance").asText());
            }
        }
        return instances;
    }

    /** The value of one instant-vector sample: {"metric": {...}, "value": [time, "value"]}. */
    private static double sample(JsonNode series) {
        return Double.parseDouble(series.path("value").path(1).asText("NaN"));
    }

    private static Set<String> labelValues(String api, String label, String match) throws Exception {
        JsonNode answer = get(
                api + "/api/v1/label/" + label + "/values?match[]=" + URLEncoder.encode(match, StandardCharsets.UTF_8));
        Set<String> values = new TreeSet<>();
        answer.path("data").forEach(v -> values.add(v.asText()));
        return values;
    }

    private static JsonNode get(String url) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(response.body());
    }

    private static String substitute(String expr, Map<String, String> values) {
        Matcher m = VARIABLE.matcher(expr);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String name = variableName(m);
            m.appendReplacement(b, Matcher.quoteReplacement(values.getOrDefault(name, m.group())));
        }
        return m.appendTail(b).toString();
    }

    // ---- reading the files ---------------------------------------------------------------------------

    /** grafana/ at the repository root, found upwards from the working directory (node/ under Maven). */
    private static Path grafana() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("grafana/dashboards"))) {
                return p.resolve("grafana");
            }
        }
        throw new AssertionError("no grafana/dashboards above " + Path.of("").toAbsolutePath());
    }

    private static Map<String, JsonNode> dashboards() throws IOException {
        Map<String, JsonNode> dashboards = new TreeMap<>();
        try (Stream<Path> files = Files.list(grafana().resolve("dashboards"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                try {
                    dashboards.put(file.getFileName().toString(), JSON.readTree(file.toFile()));
                } catch (IOException e) {
                    throw new AssertionError(file + " is not valid JSON: " + e.getMessage(), e);
                }
            }
        }
        return dashboards;
    }

    /** Every panel, with those inside rows (a collapsed row holds its panels). */
    private static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            all.add(panel);
            panel.path("panels").forEach(all::add);
        }
        return all;
    }

    private static Map<String, JsonNode> variables(JsonNode dashboard, String datasource, String file) {
        Map<String, JsonNode> variables = new LinkedHashMap<>();
        for (JsonNode v : dashboard.path("templating").path("list")) {
            String name = text(v, "name", file + " templating");
            assertTrue(variables.put(name, v) == null, file + ": variable " + name + " defined twice");
            if (v.path("type").asText().equals("query")) {
                assertEquals(datasource, v.path("datasource").path("uid").asText(), file + ": datasource of $" + name);
            }
        }
        return variables;
    }

    private static String variableQuery(JsonNode variable, String file) {
        assertNotNull(variable, file + ": the node and route variables are required");
        JsonNode query = variable.path("query");
        return query.isTextual() ? query.asText() : query.path("query").asText();
    }

    private static Set<String> variablesIn(String expr) {
        Set<String> names = new TreeSet<>();
        Matcher m = VARIABLE.matcher(expr);
        while (m.find()) {
            String name = variableName(m);
            // $__interval and friends are Grafana's own; $1 is a label_replace() capture group.
            if (!name.startsWith("__") && !name.matches("\\d+")) {
                names.add(name);
            }
        }
        return names;
    }

    private static String variableName(Matcher m) {
        return m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
    }

    private static String text(JsonNode node, String field, String where) {
        JsonNode value = node.path(field);
        assertTrue(value.isTextual() && !value.asText().isBlank(), where + ": " + field + " is required");
        return value.asText();
    }

    private static String provisionedDatasourceUid() throws IOException {
        Map<String, Object> ds = only(yaml("provisioning/datasources/prometheus.yaml"), "datasources");
        assertEquals("prometheus", ds.get("type"));
        assertTrue(ds.get("uid") instanceof String uid && !uid.isBlank(), "the datasource needs a fixed uid: " + ds);
        return (String) ds.get("uid");
    }

    private static Map<String, Object> yaml(String file) throws IOException {
        Map<String, Object> doc = new Yaml(new SafeConstructor(new LoaderOptions()))
                .load(Files.readString(grafana().resolve(file)));
        assertEquals(1, doc.get("apiVersion"), file + ": apiVersion");
        return doc;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> only(Map<String, Object> doc, String list) {
        Object items = doc.get(list);
        assertTrue(
                items instanceof List<?> l && l.size() == 1 && l.get(0) instanceof Map, list + ": one entry expected");
        return (Map<String, Object>) ((List<?>) items).get(0);
    }
}
