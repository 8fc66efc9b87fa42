package io.flotilla.node.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class if Netty's leak detector reported a leaked buffer while it ran. Registered for
 * every test through service loading; installs its counting detector before any buffer class loads.
 */
public final class LeakDetectionExtension implements AfterAllCallback {
    private static final AtomicInteger LEAKS = new AtomicInteger();

    static {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(
                    Class<T> resource, int samplingInterval, long maxActive) {
                return new CountingDetector<>(resource, samplingInterval);
            }
        });
    }

    /** Leaks reported so far in this JVM. */
    public static int leaks() {
        return LEAKS.get();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        int before = LEAKS.get();
        // Reports happen when a later allocation finds a collected, unreleased buffer: make both happen.
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(50);
            for (int i = 0; i < 64; i++) {
                ByteBuf probe = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                probe.release();
            }
        }
        assertEquals(
                0,
                LEAKS.get(),
                "Netty reported leaked buffers (" + (LEAKS.get() - before) + " found after " + context.getDisplayName()
                        + "); see the test output for the LEAK records");
    }

    private static final class CountingDetector<T> extends ResourceLeakDetector<T> {
        CountingDetector(Class<T> resource, int samplingInterval) {
            super(resource, samplingInterval);
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            LEAKS.incrementAndGet();
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            LEAKS.incrementAndGet();
            super.reportUntracedLeak(resourceType);
        }
    }
}
