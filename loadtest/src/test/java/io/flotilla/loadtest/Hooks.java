package io.flotilla.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Shell commands a simulation runs at given times into the run ({@code -Dhooks="20s=CMD;40s=CMD"}),
 * such as draining or killing a node. Each runs with {@code sh -c} from the working directory, gets
 * {@link #TIMEOUT} to finish, and its exit code and output are kept for the summary and the verdict.
 */
final class Hooks {
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    record Hook(Duration at, String command) {}

    record Result(Hook hook, int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    private final List<Hook> hooks;
    private final ConcurrentLinkedQueue<Result> results = new ConcurrentLinkedQueue<>();
    private ScheduledExecutorService timer;

    Hooks(List<Hook> hooks) {
        this.hooks = List.copyOf(hooks);
    }

    /** {@code "20s=cmd one;40s=cmd two"}; empty or absent: none. */
    static Hooks parse(String spec) {
        List<Hook> hooks = new ArrayList<>();
        if (spec != null && !spec.isBlank()) {
            for (String part : spec.split(";")) {
                int eq = part.indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("-Dhooks: '" + part + "' is not TIME=COMMAND");
                }
                hooks.add(new Hook(
                        Knobs.parseDuration(part.substring(0, eq)),
                        part.substring(eq + 1).trim()));
            }
        }
        return new Hooks(hooks);
    }

    List<Hook> hooks() {
        return hooks;
    }

    /** Schedules every hook relative to now (call from {@code before()}). */
    void start() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hooks");
            t.setDaemon(true);
            return t;
        });
        for (Hook hook : hooks) {
            timer.schedule(() -> results.add(run(hook)), hook.at().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    void stop() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    List<Result> results() {
        return List.copyOf(results);
    }

    /** Null when every hook ran and exited 0, else what went wrong. */
    String failures() {
        List<String> failed = new ArrayList<>();
        for (Hook hook : hooks) {
            Result r =
                    results.stream().filter(x -> x.hook() == hook).findFirst().orElse(null);
            if (r == null) {
                failed.add("'" + hook.command() + "' did not run");
            } else if (!r.ok()) {
                failed.add("'" + hook.command() + "' exited " + r.exit() + ": " + r.output());
            }
        }
        return failed.isEmpty() ? null : String.join("; ", failed);
    }

    static Result run(Hook hook) {
        long started = System.nanoTime();
        try {
            Process p = new ProcessBuilder("sh", "-c", hook.command())
                    .redirectErrorStream(true)
                    .start();
            p.getOutputStream().close();
            if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new Result(hook, -1, "timed out after " + TIMEOUT.toSeconds() + " s");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            System.out.println("hook at " + hook.at().toMillis() / 1000.0 + " s: '" + hook.command() + "' exited "
                    + p.exitValue() + " in " + ms + " ms" + (out.isEmpty() ? "" : ": " + out));
            return new Result(hook, p.exitValue(), out.length() > 500 ? out.substring(0, 500) + "..." : out);
        } catch (IOException e) {
            return new Result(hook, -1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(hook, -1, "interrupted");
        }
    }
}
