package io.flotilla.node.proxy;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A timeout that is cheap to push back: progress only records a timestamp, and the one scheduled task
 * re-arms itself for the time left when it fires early (as Netty's IdleStateHandler does). Busy
 * connections thus cost no scheduling per read. Used on its event loop only.
 */
final class Watchdog implements Runnable {
    private final EventLoop loop;
    private final Consumer<Phase> onExpiry;
    private Phase phase;
    private long timeoutNanos;
    private long lastProgress;
    private ScheduledFuture<?> task;
    private long taskDeadline;

    Watchdog(EventLoop loop, Consumer<Phase> onExpiry) {
        this.loop = loop;
        this.onExpiry = onExpiry;
    }

    /** Starts timing {@code phase} from now. */
    void arm(Phase phase, long timeoutNanos) {
        this.phase = phase;
        this.timeoutNanos = timeoutNanos;
        this.lastProgress = System.nanoTime();
        long deadline = lastProgress + timeoutNanos;
        if (task != null && taskDeadline - deadline > 0) {
            task.cancel(false); // the pending check would come too late for this shorter phase
            task = null;
        }
        if (task == null) {
            schedule(timeoutNanos);
        }
    }

    /** Keeps the phase, restarts its clock. */
    void progress() {
        lastProgress = System.nanoTime();
    }

    /**
     * Stops timing. The scheduled check is left in place: between requests the next arm() usually
     * needs no earlier deadline than it, so a keep-alive connection schedules nothing per request.
     */
    void disarm() {
        phase = null;
    }

    /** Stops timing and drops the scheduled check; for a closed connection. */
    void cancel() {
        phase = null;
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    Phase phase() {
        return phase;
    }

    private void schedule(long delayNanos) {
        taskDeadline = System.nanoTime() + delayNanos;
        task = loop.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        task = null;
        if (phase == null) {
            return;
        }
        long left = lastProgress + timeoutNanos - System.nanoTime();
        if (left > 0) {
            schedule(left);
            return;
        }
        Phase expired = phase;
        phase = null;
        onExpiry.accept(expired);
    }
}
