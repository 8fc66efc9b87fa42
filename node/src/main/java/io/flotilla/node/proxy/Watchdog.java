package io.flotilla.node.proxy;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A timeout that is cheap to push back: progress only records a timestamp, and the scheduled check
 * re-arms itself for the time left when it fires early (as Netty's IdleStateHandler does). Busy
 * connections thus cost no scheduling per read. A connection's watches share one scheduled check
 * ({@link #pair}): a connection that lives for one request schedules one task and cancels one, not
 * one per watch (issue 16: the timers were 3-6% of the event loop with a connection per request).
 * Used on its event loop only.
 */
final class Watchdog {
    private final Clock clock;
    private Phase phase;
    private long timeoutNanos;
    private long lastProgress;

    private Watchdog(Clock clock) {
        this.clock = clock;
    }

    /** Two watches of one connection on one scheduled check; {@code onExpiry} gets the phase that ran out. */
    static Watchdog[] pair(EventLoop loop, Consumer<Phase> onExpiry) {
        Clock clock = new Clock(loop, onExpiry);
        clock.first = new Watchdog(clock);
        clock.second = new Watchdog(clock);
        return new Watchdog[] {clock.first, clock.second};
    }

    /** Starts timing {@code phase} from now. */
    void arm(Phase phase, long timeoutNanos) {
        this.phase = phase;
        this.timeoutNanos = timeoutNanos;
        this.lastProgress = System.nanoTime();
        clock.checkBy(lastProgress + timeoutNanos);
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

    /** Stops timing, and drops the scheduled check once no watch of the connection times anything. */
    void cancel() {
        phase = null;
        clock.cancelIfIdle();
    }

    Phase phase() {
        return phase;
    }

    private long deadline() {
        return lastProgress + timeoutNanos;
    }

    /** Expires the phase if its time is up. */
    private void check(long now) {
        if (phase != null && deadline() - now <= 0) {
            Phase expired = phase;
            phase = null;
            clock.onExpiry.accept(expired);
        }
    }

    /** The one scheduled check of a connection's watches. */
    private static final class Clock implements Runnable {
        private final EventLoop loop;
        private final Consumer<Phase> onExpiry;
        private Watchdog first;
        private Watchdog second;
        private ScheduledFuture<?> task;
        private long taskDeadline;

        Clock(EventLoop loop, Consumer<Phase> onExpiry) {
            this.loop = loop;
            this.onExpiry = onExpiry;
        }

        void checkBy(long deadline) {
            if (task != null && taskDeadline - deadline > 0) {
                task.cancel(false); // the pending check would come too late for this shorter phase
                task = null;
            }
            if (task == null) {
                schedule(deadline);
            }
        }

        void cancelIfIdle() {
            if (task != null && first.phase == null && second.phase == null) {
                task.cancel(false);
                task = null;
            }
        }

        private void schedule(long deadline) {
            taskDeadline = deadline;
            task = loop.schedule(this, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }

        @Override
        public void run() {
            task = null;
            long now = System.nanoTime();
            first.check(now);
            second.check(now);
            // Read again after the checks: an expiry may have closed the connection (both watches
            // cancelled) or armed a watch anew (a retry), which may have scheduled a later check.
            if (first.phase != null && (second.phase == null || first.deadline() - second.deadline() < 0)) {
                checkBy(first.deadline());
            } else if (second.phase != null) {
                checkBy(second.deadline());
            }
        }
    }
}
