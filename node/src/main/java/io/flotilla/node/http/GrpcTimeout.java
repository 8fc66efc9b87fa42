package io.flotilla.node.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC call's deadline as its client states it: {@code grpc-timeout}, at most 8 digits and a unit
 * ({@code H M S m u n}), per gRPC's "HTTP/2 protocol" document. The node waits for the origin's answer
 * no longer than what is left of it.
 */
public final class GrpcTimeout {
    private static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");

    private GrpcTimeout() {}

    /** The timeout {@code headers} carry, in nanoseconds, or -1 without one (or a malformed one: ignored). */
    public static long nanos(HttpHeaders headers) {
        String value = headers.get(GRPC_TIMEOUT);
        if (value == null || value.length() < 2 || value.length() > 9) {
            return -1;
        }
        long amount = 0;
        for (int i = 0; i < value.length() - 1; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            amount = amount * 10 + (c - '0');
        }
        TimeUnit unit =
                switch (value.charAt(value.length() - 1)) {
                    case 'H' -> TimeUnit.HOURS;
                    case 'M' -> TimeUnit.MINUTES;
                    case 'S' -> TimeUnit.SECONDS;
                    case 'm' -> TimeUnit.MILLISECONDS;
                    case 'u' -> TimeUnit.MICROSECONDS;
                    case 'n' -> TimeUnit.NANOSECONDS;
                    default -> null;
                };
        return unit == null ? -1 : unit.toNanos(amount);
    }

    /**
     * {@code timeoutNanos}, or what is left at {@code nowNanos} of the call's timeout counted from
     * {@code startNanos} (when the request arrived) when that is shorter; never below zero.
     */
    public static long cap(HttpHeaders headers, long startNanos, long nowNanos, long timeoutNanos) {
        long grpc = nanos(headers);
        return grpc < 0 ? timeoutNanos : Math.max(0, Math.min(timeoutNanos, startNanos + grpc - nowNanos));
    }
}
