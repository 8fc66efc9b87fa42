package io.flotilla.loadtest;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

/** Keys 1..n drawn with probability proportional to 1/k^skew (skew 0: uniform), by inverse CDF. */
final class Zipf {
    private final double[] cdf;

    Zipf(int n, double skew) {
        if (n < 1 || skew < 0) {
            throw new IllegalArgumentException("Zipf needs n >= 1 and skew >= 0, got " + n + ", " + skew);
        }
        cdf = new double[n];
        double sum = 0;
        for (int k = 1; k <= n; k++) {
            sum += 1 / Math.pow(k, skew);
            cdf[k - 1] = sum;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= sum;
        }
    }

    int next() {
        int i = Arrays.binarySearch(cdf, ThreadLocalRandom.current().nextDouble());
        return (i >= 0 ? i : -i - 1) + 1;
    }
}
