package io.flotilla.node.cli;

import com.beust.jcommander.Parameter;
import com.beust.jcommander.Parameters;
import io.flotilla.node.config.ConfigException;
import io.flotilla.node.config.ConfigLoader;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code flotilla config push FILE --to ADMIN}, {@code config show}, {@code config history} and
 * {@code config rollback}: a config is checked here first (so a bad one never leaves the operator's
 * machine), then sent to a node's admin API, which validates it again, stores it and applies it (in a
 * fleet, every node applies it).
 */
@Parameters(
        commandDescription = "Push, show, list or roll back the live config through a node's admin API: "
                + "config push FILE [--dry-run] --to HOST:PORT | config diff FILE --to HOST:PORT | "
                + "config show|history|rollback --to HOST:PORT")
final class ConfigCommand {
    @Parameter(description = "push FILE | diff FILE | show | history | rollback", required = true)
    private List<String> words;

    @Parameter(names = "--to", required = true, description = "The admin API address of any node, host:port")
    private String to;

    @Parameter(names = "--token", description = "Bearer token of the admin API (default: $FLOTILLA_ADMIN_TOKEN)")
    private String token = System.getenv("FLOTILLA_ADMIN_TOKEN");

    @Parameter(
            names = "--dry-run",
            description = "push: have the node check the config as a push would, without applying it")
    private boolean dryRun;

    @Parameter(names = "--json", description = "history: the node's JSON (GET /config/versions) instead of a table")
    private boolean json;

    @Parameter(names = "--timeout", description = "How long to wait for the node, e.g. 10s")
    private String timeout = "10s";

    private String diffAgainst; // diff: the file's text, compared with the node's

    int run(PrintStream out, PrintStream err) {
        String action = words.get(0);
        HttpRequest.Builder request;
        URI base;
        try {
            base = URI.create("http://" + to);
            if (base.getHost() == null || base.getPort() < 0) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            err.println("flotilla: --to needs an admin address as host:port, got '" + to + "'");
            return Main.USAGE;
        }
        switch (action) {
            case "push", "diff" -> {
                if (words.size() != 2) {
                    err.println("flotilla: config " + action + " needs exactly one FILE");
                    return Main.USAGE;
                }
                Path file = Path.of(words.get(1));
                String text;
                try {
                    text = ConfigLoader.loadWithText(file).text();
                } catch (ConfigException e) {
                    err.println(e.getMessage());
                    return Main.BAD_CONFIG;
                }
                if (action.equals("diff")) {
                    diffAgainst = text;
                    request = HttpRequest.newBuilder(base.resolve("/config")).GET();
                } else {
                    request = HttpRequest.newBuilder(base.resolve(dryRun ? "/config?dry_run=true" : "/config"))
                            .header("Content-Type", "application/yaml; charset=utf-8")
                            .header(io.flotilla.node.admin.AdminServer.CLIENT_HEADER, "cli")
                            .POST(HttpRequest.BodyPublishers.ofString(text, StandardCharsets.UTF_8));
                }
            }
            case "show" ->
                request = HttpRequest.newBuilder(base.resolve("/config")).GET();
            case "history" ->
                request =
                        HttpRequest.newBuilder(base.resolve("/config/versions")).GET();
            case "rollback" ->
                request = HttpRequest.newBuilder(base.resolve("/config/rollback"))
                        .POST(HttpRequest.BodyPublishers.noBody());
            default -> {
                err.println(
                        "flotilla: unknown config action '" + action + "'; use push, diff, show, history or rollback");
                return Main.USAGE;
            }
        }
        if (words.size() > 1 && !action.equals("push") && !action.equals("diff")) {
            err.println("flotilla: config " + action + " takes no FILE");
            return Main.USAGE;
        }
        Duration wait;
        try {
            wait = io.flotilla.node.config.Durations.parse(timeout);
        } catch (IllegalArgumentException e) {
            err.println("flotilla: --timeout: " + e.getMessage());
            return Main.USAGE;
        }
        if (token != null && !token.isEmpty()) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<String> response = HttpClient.newBuilder()
                    .connectTimeout(wait)
                    .build()
                    .send(request.timeout(wait).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            int status = response.statusCode();
            if (diffAgainst != null && status == 200) {
                out.print(ConfigDiff.compare(response.body(), diffAgainst));
                return Main.OK;
            }
            if (action.equals("history") && !json && status == 200) {
                out.print(historyTable(response.body()));
                return Main.OK;
            }
            (status / 100 == 2 ? out : err).print(response.body());
            if (status / 100 == 2) {
                return Main.OK;
            }
            return status == 400 ? Main.BAD_CONFIG : Main.FAILED;
        } catch (IOException e) {
            err.println("flotilla: cannot reach the admin API at " + to + ": " + e);
            return Main.FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.FAILED;
        }
    }

    private static final String TEXT = "\"((?:[^\"\\\\]|\\\\.)*)\"";
    private static final java.util.regex.Pattern VERSION = java.util.regex.Pattern.compile("\\{\"version\":(\\d+),"
            + "\"published_at\":" + TEXT + ",\"source\":" + TEXT + ",\"publisher\":" + TEXT + ",\"digest\":" + TEXT
            + ",\"bytes\":(\\d+)}");

    /** The versions as a table, newest first; the one this node runs is marked with '*'. */
    static String historyTable(String versionsJson) {
        java.util.regex.Matcher running =
                java.util.regex.Pattern.compile("\"running\":(\\d+)").matcher(versionsJson);
        String runs = running.find() ? running.group(1) : "?";
        StringBuilder b = new StringBuilder(String.format(
                "%-8s %-25s %-16s %-13s %7s  %s%n",
                "version", "published_at", "source", "digest", "bytes", "publisher"));
        java.util.regex.Matcher v = VERSION.matcher(versionsJson);
        while (v.find()) {
            b.append(String.format(
                    "%-8s %-25s %-16s %-13s %7s  %s%n",
                    (v.group(1).equals(runs) ? "*" : " ") + v.group(1),
                    v.group(2),
                    unquote(v.group(3)),
                    v.group(5),
                    v.group(6),
                    unquote(v.group(4))));
        }
        return b.append("* the version this node runs (")
                .append(runs)
                .append(")\n")
                .toString();
    }

    private static String unquote(String json) {
        return json.replace("\\\"", "\"").replace("\\\\", "\\");
    }
}
