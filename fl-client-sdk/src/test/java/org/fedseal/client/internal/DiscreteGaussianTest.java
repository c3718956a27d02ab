package org.fedseal.client.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DiscreteGaussianTest {
    /** A Random whose nextLong returns the given values in turn (top bits are what uniform() keeps). */
    private static final class Scripted extends Random {
        private final long[] values;
        private int i;

        Scripted(long... values) {
            this.values = values;
        }

        @Override
        public long nextLong() {
            return values[i++];
        }
    }

    @Test
    void bernoulliComparesAUniformIntegerWithTheNumeratorExactly() {
        // den = 10: uniform() keeps the top 4 bits of nextLong and rejects 10..15
        long top = 60; // shift so the kept 4 bits are the value
        DiscreteGaussian g = new DiscreteGaussian(new Scripted(12L << top, 2L << top, 3L << top));
        // 12 is rejected (>= 10), then 2 < 3: success
        assertTrue(g.bernoulli(BigInteger.valueOf(3), BigInteger.TEN));
        // 3 < 3 is false: exactly num/den, no off-by-one
        assertFalse(g.bernoulli(BigInteger.valueOf(3), BigInteger.TEN));
        DiscreteGaussian any = new DiscreteGaussian(new Random(1));
        assertFalse(any.bernoulli(BigInteger.ZERO, BigInteger.ONE));
        assertTrue(any.bernoulli(BigInteger.ONE, BigInteger.ONE));
        assertThrows(IllegalArgumentException.class, () -> any.bernoulli(BigInteger.TWO, BigInteger.ONE));
        assertThrows(IllegalArgumentException.class, () -> any.bernoulliExpMinus(BigInteger.ONE, BigInteger.ZERO));
    }

    @Test
    void bernoulliExpMinusHasProbabilityExpMinusGamma() {
        DiscreteGaussian g = new DiscreteGaussian(new Random(42));
        BigInteger big = BigInteger.ONE.shiftLeft(100); // a denominator beyond 64 bits takes the BigInteger path
        Object[][] cases = {{1L, 3L}, {1L, 1L}, {5L, 2L}, {0L, 7L}};
        int n = 200_000;
        for (Object[] c : cases) {
            BigInteger num = BigInteger.valueOf((Long) c[0]);
            BigInteger den = BigInteger.valueOf((Long) c[1]);
            double p = Math.exp(-((Long) c[0]) / (double) (Long) c[1]);
            assertFrequency(p, n, () -> g.bernoulliExpMinus(num, den), num + "/" + den);
            assertFrequency(
                    p,
                    n,
                    () -> g.bernoulliExpMinus(num.multiply(big), den.multiply(big)),
                    num + "/" + den + " x 2^100");
        }
    }

    private static void assertFrequency(double p, int n, java.util.function.BooleanSupplier trial, String what) {
        int hits = 0;
        for (int i = 0; i < n; i++) {
            if (trial.getAsBoolean()) {
                hits++;
            }
        }
        double se = Math.sqrt(p * (1 - p) / n);
        assertEquals(p, hits / (double) n, 5 * se + 1e-12, what);
    }

    @Test
    void discreteLaplaceHasItsVariance() {
        DiscreteGaussian g = new DiscreteGaussian(new Random(7));
        for (long t : new long[] {1, 3, 20}) {
            double r = Math.exp(-1.0 / t);
            double variance = 2 * r / ((1 - r) * (1 - r));
            double[] m = moments(200_000, () -> g.discreteLaplace(t));
            assertEquals(0, m[0], 5 * Math.sqrt(variance / 200_000), "mean, t=" + t);
            assertEquals(variance, m[1], 0.03 * variance, "variance, t=" + t);
        }
    }

    @Test
    void discreteGaussianHasMeanZeroAndVarianceSigma2() {
        DiscreteGaussian g = new DiscreteGaussian(new Random(2026));
        int n = 200_000;
        for (long s2 : new long[] {1, 4, 100, 1_000_000, 1L << 40}) {
            double[] m = moments(n, () -> g.sample(s2));
            // mean within 5 standard errors; the sample variance's relative standard error is sqrt(2/n) = 0.32 %
            assertEquals(0, m[0], 5 * Math.sqrt(s2 / (double) n), "mean, sigma^2=" + s2);
            assertEquals(s2, m[1], 5 * Math.sqrt(2.0 / n) * s2, "variance, sigma^2=" + s2);
        }
    }

    @Test
    void discreteGaussianMatchesItsProbabilityMassFunction() {
        long s2 = 4;
        double norm = 0;
        for (int x = -60; x <= 60; x++) {
            norm += Math.exp(-x * x / (2.0 * s2));
        }
        int n = 400_000;
        int[] counts = new int[7];
        DiscreteGaussian g = new DiscreteGaussian(new Random(99));
        for (int i = 0; i < n; i++) {
            long x = g.sample(s2);
            if (Math.abs(x) <= 3) {
                counts[(int) x + 3]++;
            }
        }
        for (int x = -3; x <= 3; x++) {
            double p = Math.exp(-x * x / (2.0 * s2)) / norm;
            assertEquals(p, counts[x + 3] / (double) n, 5 * Math.sqrt(p * (1 - p) / n), "P[X=" + x + "]");
        }
    }

    @Test
    void aSeedDeterminesTheDraws() {
        long[] a = draws(new Random(5));
        long[] b = draws(new Random(5));
        long[] c = draws(new Random(6));
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(a, c));
    }

    @Test
    void refusesVariancesOutsideItsRange() {
        DiscreteGaussian g = new DiscreteGaussian(new Random(1));
        assertThrows(IllegalArgumentException.class, () -> g.sample(0));
        assertThrows(IllegalArgumentException.class, () -> g.sample((1L << 52) + 1));
        assertThrows(IllegalArgumentException.class, () -> g.discreteLaplace(0));
        assertEquals(3, DiscreteGaussian.isqrt(15));
        assertEquals(4, DiscreteGaussian.isqrt(16));
        assertEquals(1L << 31, DiscreteGaussian.isqrt(1L << 62));
        assertEquals((1L << 26) - 1, DiscreteGaussian.isqrt((1L << 52) - 1));
        assertThrows(IllegalArgumentException.class, () -> DiscreteGaussian.isqrt(Long.MAX_VALUE));
    }

    private static long[] draws(Random r) {
        DiscreteGaussian g = new DiscreteGaussian(r);
        long[] out = new long[100];
        for (int i = 0; i < out.length; i++) {
            out[i] = g.sample(1000);
        }
        return out;
    }

    private static double[] moments(int n, java.util.function.LongSupplier s) {
        double sum = 0;
        double sq = 0;
        for (int i = 0; i < n; i++) {
            double x = s.getAsLong();
            sum += x;
            sq += x * x;
        }
        double mean = sum / n;
        return new double[] {mean, sq / n - mean * mean};
    }
}
