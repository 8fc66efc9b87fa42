package io.flotilla.loadtest;

import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.Locale;

/**
 * What every simulation here does around its run: a {@link Summary} of its own figures, and the CPU
 * the load generator (this JVM) used, since on a small machine it shares the cores with what it loads.
 */
abstract class FlotillaSimulation extends Simulation {
    protected final Summary summary;
    private long cpuAtStart;
    private long startedNanos;

    FlotillaSimulation(String name) {
        summary = new Summary(name);
    }

    @Override
    public final void before() {
        startedNanos = System.nanoTime();
        cpuAtStart = cpuNanos();
        started();
    }

    @Override
    public final void after() {
        finished();
        double cpu = (cpuNanos() - cpuAtStart) / 1e9;
        double wall = (System.nanoTime() - startedNanos) / 1e9;
        summary.line(String.format(
                Locale.ROOT,
                "generator (Gatling JVM) used %.1f CPU-s in %.1f s: %.2f cores",
                cpu,
                wall,
                wall > 0 ? cpu / wall : 0));
    }

    /** Called as the load starts. */
    protected void started() {}

    /** Called once the load (and the verdicts) are over. */
    protected void finished() {}

    private static long cpuNanos() {
        return ProcessHandle.current()
                .info()
                .totalCpuDuration()
                .map(Duration::toNanos)
                .orElse(0L);
    }
}
