package io.flotilla.cluster.hazelcast;

import com.hazelcast.config.Config;
import com.hazelcast.internal.util.ConcurrencyUtil;
import com.hazelcast.spi.properties.ClusterProperty;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Hazelcast's threads, sized for the machine the member runs on. Edge nodes are often small, and
 * Hazelcast's defaults assume a server: three input and three output I/O threads, five event
 * threads, two response threads, whatever the core count. On a 2-core node these only contend
 * with the event loops that serve requests.
 *
 * <p>One default is worse than large: Hazelcast runs future callbacks that were given no executor
 * on {@code ForkJoinPool.commonPool()}, but where the common pool has a parallelism of 1 (any
 * 2-core machine) it falls back to starting a new thread for every callback, which made every
 * remote get and every fill claim pay for a thread's creation (most of a cold remote hit's CPU,
 * measured: see docs/benchmarks.md). Such a member gets a small pool instead.
 */
final class MemberThreads {

    private static final Object LOCK = new Object();
    private static volatile boolean asyncPoolInstalled;

    private MemberThreads() {}

    /** Thread counts for {@code cores} cores, unless a system property already sets them. */
    static void size(Config c, int cores) {
        int half = Math.max(1, cores / 2);
        setIfUnset(c, ClusterProperty.IO_THREAD_COUNT.getName(), Math.min(3, half));
        setIfUnset(c, ClusterProperty.EVENT_THREAD_COUNT.getName(), Math.min(5, half));
        setIfUnset(c, ClusterProperty.RESPONSE_THREAD_COUNT.getName(), cores <= 4 ? 1 : 2);
        installAsyncPool(cores);
    }

    private static void setIfUnset(Config c, String property, int value) {
        if (System.getProperty(property) == null) {
            c.setProperty(property, Integer.toString(value));
        }
    }

    /** Once per JVM (the executor is Hazelcast's static default, shared by every member in it). */
    private static void installAsyncPool(int cores) {
        if (asyncPoolInstalled || ForkJoinPool.getCommonPoolParallelism() > 1) {
            return;
        }
        synchronized (LOCK) {
            if (!asyncPoolInstalled) {
                ForkJoinPool pool = new ForkJoinPool(
                        Math.max(2, cores),
                        p -> {
                            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                            t.setName("flotilla-fleet-async-" + t.getPoolIndex());
                            t.setDaemon(true);
                            return t;
                        },
                        null,
                        true);
                ConcurrencyUtil.setDefaultAsyncExecutor(pool);
                asyncPoolInstalled = true;
            }
        }
    }
}
