package io.flotilla.node.admin;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.ExternalTool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The alerting rules in {@code prometheus/}: valid by {@code promtool check rules}, each alert's unit
 * test passing under {@code promtool test rules}, and each alert with a unit test and a runbook entry.
 * About 1 s; promtool comes with Debian's prometheus package, which {@code .ci/run} installs.
 */
class AlertRulesTest {
    private static final Duration PROMTOOL_TIMEOUT = Duration.ofSeconds(60);

    static Path repository() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("prometheus"))) {
                return p;
            }
        }
        throw new AssertionError("no prometheus/ above " + Path.of("").toAbsolutePath());
    }

    @Test
    void promtoolChecksAndTestsTheRules() throws Exception {
        Path promtool = ExternalTool.require("/usr/bin/promtool", "prometheus");
        Path dir = repository().resolve("prometheus");
        String check = ExternalTool.run(
                PROMTOOL_TIMEOUT,
                "",
                List.of(
                        promtool.toString(),
                        "check",
                        "rules",
                        dir.resolve("flotilla-alerts.yml").toString()));
        assertTrue(check.contains("SUCCESS") && !check.contains("FAILED"), check);
        List<String> command = new ArrayList<>(List.of(promtool.toString(), "test", "rules"));
        try (var files = Files.list(dir.resolve("tests"))) {
            files.filter(f -> f.toString().endsWith(".yml")).sorted().forEach(f -> command.add(f.toString()));
        }
        assertTrue(command.size() > 3, "no rule tests in prometheus/tests");
        String test = ExternalTool.run(PROMTOOL_TIMEOUT, "", command);
        assertTrue(test.contains("SUCCESS") && !test.contains("FAILED"), test);
    }

    @Test
    void everyAlertHasAUnitTestAndARunbookEntry() throws Exception {
        Path root = repository();
        String tests;
        try (var files = Files.list(root.resolve("prometheus/tests"))) {
            StringBuilder all = new StringBuilder();
            for (Path f : files.toList()) {
                all.append(Files.readString(f));
            }
            tests = all.toString();
        }
        String runbook = Files.readString(root.resolve("docs/runbook.md"));
        List<String> alerts = alerts(root.resolve("prometheus/flotilla-alerts.yml"));
        assertFalse(alerts.isEmpty());
        for (Map<String, Object> rule : rules(root.resolve("prometheus/flotilla-alerts.yml"))) {
            Object name = rule.get("alert");
            if (name == null) {
                continue;
            }
            assertTrue(tests.contains("alertname: " + name + "\n"), name + " has no promtool test");
            assertTrue(runbook.contains("\n## " + name + "\n"), name + " has no section in docs/runbook.md");
            Map<?, ?> annotations = (Map<?, ?>) rule.get("annotations");
            assertTrue(
                    annotations != null
                            && ("docs/runbook.md#" + ((String) name).toLowerCase(Locale.ROOT))
                                    .equals(annotations.get("runbook")),
                    name + ": runbook annotation " + annotations);
        }
    }

    private static List<String> alerts(Path file) throws Exception {
        return rules(file).stream()
                .map(r -> (String) r.get("alert"))
                .filter(a -> a != null)
                .toList();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rules(Path file) throws Exception {
        Map<String, Object> doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) doc.get("groups")) {
            out.addAll((List<Map<String, Object>>) group.get("rules"));
        }
        return out;
    }
}
