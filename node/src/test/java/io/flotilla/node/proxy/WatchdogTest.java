package io.flotilla.node.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A connection's two watches on one scheduled check: each phase still expires on its own time. */
class WatchdogTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private final EventLoop loop = new DefaultEventLoop();
    private final List<Phase> expired = new CopyOnWriteArrayList<>();
    private final List<Long> at = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }

    private Watchdog[] pair(long start) {
        return Watchdog.pair(loop, phase -> {
            expired.add(phase);
            at.add((System.nanoTime() - start) / MS);
        });
    }

    private void on(Runnable r) throws Exception {
        loop.submit(r).get(5, TimeUnit.SECONDS);
    }

    @Test
    void theShorterPhaseArmedLaterStillExpiresFirstAndTheLongerOneAfter() throws Exception {
        long start = System.nanoTime();
        Watchdog[] w = pair(start);
        on(() -> {
            w[0].arm(Phase.CLIENT_BODY, 400 * MS);
            w[1].arm(Phase.UPSTREAM_READ, 100 * MS);
        });
        Thread.sleep(700);
        assertEquals(List.of(Phase.UPSTREAM_READ, Phase.CLIENT_BODY), expired, "times " + at);
        assertTrue(at.get(0) >= 100 && at.get(0) < 350, "the short phase on its time: " + at);
        assertTrue(at.get(1) >= 400, "the long phase not before its time: " + at);
    }

    @Test
    void progressPushesOnlyItsOwnPhaseBack() throws Exception {
        long start = System.nanoTime();
        Watchdog[] w = pair(start);
        on(() -> {
            w[0].arm(Phase.CLIENT_HEADER, 200 * MS);
            w[1].arm(Phase.UPSTREAM_READ, 200 * MS);
        });
        for (int i = 0; i < 4; i++) {
            Thread.sleep(100);
            on(w[1]::progress);
        }
        assertEquals(List.of(Phase.CLIENT_HEADER), expired, "the watch that saw no progress expired alone");
        Thread.sleep(400);
        assertEquals(List.of(Phase.CLIENT_HEADER, Phase.UPSTREAM_READ), expired);
    }

    @Test
    void anExpiryThatArmsItsWatchAgainKeepsTheOtherOnTime() throws Exception {
        long start = System.nanoTime();
        Watchdog[] w = new Watchdog[2];
        Watchdog[] made = Watchdog.pair(loop, phase -> {
            expired.add(phase);
            at.add((System.nanoTime() - start) / MS);
            if (phase == Phase.UPSTREAM_READ && expired.size() == 1) {
                w[1].arm(Phase.UPSTREAM_READ, 2_000 * MS); // a retry on a slow origin
            }
        });
        w[0] = made[0];
        w[1] = made[1];
        on(() -> {
            w[1].arm(Phase.UPSTREAM_READ, 50 * MS);
            w[0].arm(Phase.CLIENT_BODY, 300 * MS);
        });
        Thread.sleep(600);
        assertEquals(List.of(Phase.UPSTREAM_READ, Phase.CLIENT_BODY), expired, "times " + at);
        assertTrue(at.get(1) < 550, "not held back to the retry's deadline: " + at);
    }

    @Test
    void disarmedAndCancelledWatchesNeverExpire() throws Exception {
        Watchdog[] w = pair(System.nanoTime());
        on(() -> {
            w[0].arm(Phase.KEEP_ALIVE, 50 * MS);
            w[1].arm(Phase.UPSTREAM_READ, 50 * MS);
            w[0].disarm();
            w[1].cancel();
        });
        Thread.sleep(200);
        assertEquals(List.of(), expired);
        assertNull(w[0].phase());
        on(() -> w[0].arm(Phase.KEEP_ALIVE, 50 * MS));
        Thread.sleep(300);
        assertEquals(List.of(Phase.KEEP_ALIVE), expired, "armed again after both were off");
    }
}
