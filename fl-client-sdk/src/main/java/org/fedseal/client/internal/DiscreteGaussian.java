package org.fedseal.client.internal;

import java.math.BigInteger;
import java.util.Objects;
import java.util.Random;

/**
 * Exact samplers for the discrete Gaussian {@code N_Z(0, σ²)} (P[X = x] ∝ exp(−x²/(2σ²)) on the
 * integers) and the discrete Laplace distribution, after Canonne, Kamath and Steinke, "The Discrete
 * Gaussian for Differential Privacy", NeurIPS 2020 (arXiv:2004.00010), Algorithms 1, 2 and 3.
 *
 * <p>Every acceptance test is a Bernoulli trial with an exact rational probability decided by
 * comparing a uniform random integer with the numerator ({@link #bernoulli}); {@code exp(−x)} is
 * never evaluated in floating point, so the output distribution is exactly the stated one (given
 * uniform bits), unlike {@code Random.nextGaussian} plus rounding, whose low-order bits leak the
 * input (Mironov, "On Significance of the Least Significant Bits for Differential Privacy", CCS
 * 2012). The variance parameter is an integer here (callers round it up, which only adds noise),
 * so the only big-integer arithmetic is the final acceptance test.
 *
 * <p>Randomness comes from the {@link Random} given: a {@link java.security.SecureRandom} in
 * production, a seeded {@code Random} only for reproducible simulations and tests. Pure Java (runs
 * on Android). Not thread-safe; each call consumes bits of the shared generator.
 */
public final class DiscreteGaussian {
    private static final BigInteger TWO = BigInteger.valueOf(2);
    private final Random random;

    /** A sampler drawing its bits from {@code random}. */
    public DiscreteGaussian(Random random) {
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * One draw of {@code N_Z(0, sigma2)} (Algorithm 3: discrete Laplace proposals of scale
     * {@code t = ⌊σ⌋ + 1}, accepted with probability {@code exp(−(|y| − σ²/t)²/(2σ²))}).
     *
     * @param sigma2 the variance parameter σ², at least 1 (the variance of {@code N_Z(0, σ²)} is
     *     below σ² by a relative {@code 1e-15} or less for σ² ≥ 1; CKS20, Section 2)
     * @throws IllegalArgumentException if {@code sigma2 < 1} or so large that {@code |y|·t} could overflow
     */
    public long sample(long sigma2) {
        if (sigma2 < 1 || sigma2 > (1L << 52)) {
            throw new IllegalArgumentException("sigma^2 must be in [1, 2^52], got " + sigma2);
        }
        long t = isqrt(sigma2) + 1;
        BigInteger s2 = BigInteger.valueOf(sigma2);
        BigInteger bt = BigInteger.valueOf(t);
        BigInteger den = TWO.multiply(s2).multiply(bt).multiply(bt); // 2σ²t²
        while (true) {
            long y = discreteLaplace(t);
            // (|y| − σ²/t)² / (2σ²) = (|y|·t − σ²)² / (2σ²t²)
            BigInteger d = BigInteger.valueOf(Math.abs(y)).multiply(bt).subtract(s2);
            if (bernoulliExpMinus(d.multiply(d), den)) {
                return y;
            }
        }
    }

    /**
     * One draw of the discrete Laplace distribution of scale {@code t}, P[X = x] ∝ exp(−|x|/t)
     * (Algorithm 2 with s = 1).
     *
     * @throws IllegalArgumentException if {@code t < 1}
     */
    public long discreteLaplace(long t) {
        if (t < 1) {
            throw new IllegalArgumentException("scale must be >= 1, got " + t);
        }
        BigInteger bt = BigInteger.valueOf(t);
        while (true) {
            long u = uniform(t);
            if (!bernoulliExpMinus(BigInteger.valueOf(u), bt)) {
                continue;
            }
            long v = 0;
            while (bernoulliExpMinus(BigInteger.ONE, BigInteger.ONE)) {
                v++;
            }
            long x = Math.addExact(u, Math.multiplyExact(t, v));
            boolean negative = random.nextBoolean();
            if (negative && x == 0) {
                continue;
            }
            return negative ? -x : x;
        }
    }

    /**
     * A Bernoulli trial with success probability {@code exp(−num/den)} (Algorithm 1): for
     * γ = num/den ≤ 1, count K until a Bernoulli(γ/K) fails and succeed iff K is odd; for γ &gt; 1,
     * ⌊γ⌋ independent trials of exp(−1) and one of exp(−(γ − ⌊γ⌋)), all of which must succeed.
     *
     * @throws IllegalArgumentException unless {@code num >= 0} and {@code den > 0}
     */
    public boolean bernoulliExpMinus(BigInteger num, BigInteger den) {
        if (num.signum() < 0 || den.signum() <= 0) {
            throw new IllegalArgumentException("need num >= 0 and den > 0, got " + num + "/" + den);
        }
        BigInteger[] qr = num.divideAndRemainder(den);
        for (BigInteger i = BigInteger.ZERO; i.compareTo(qr[0]) < 0; i = i.add(BigInteger.ONE)) {
            if (!bernoulliExpMinusAtMostOne(BigInteger.ONE, BigInteger.ONE)) {
                return false;
            }
        }
        return bernoulliExpMinusAtMostOne(qr[1], den);
    }

    private boolean bernoulliExpMinusAtMostOne(BigInteger num, BigInteger den) {
        long k = 1;
        while (bernoulli(num, den.multiply(BigInteger.valueOf(k)))) {
            k++;
        }
        return (k & 1) == 1;
    }

    /**
     * A Bernoulli trial with success probability {@code num/den}: a uniform integer in
     * {@code [0, den)} is below {@code num}.
     *
     * @throws IllegalArgumentException unless {@code 0 <= num <= den} and {@code den > 0}
     */
    public boolean bernoulli(BigInteger num, BigInteger den) {
        if (num.signum() < 0 || den.signum() <= 0 || num.compareTo(den) > 0) {
            throw new IllegalArgumentException("need 0 <= num <= den, den > 0, got " + num + "/" + den);
        }
        if (num.signum() == 0) {
            return false;
        }
        if (den.bitLength() < 63) {
            return uniform(den.longValueExact()) < num.longValueExact();
        }
        return uniform(den).compareTo(num) < 0;
    }

    /** A uniform integer in {@code [0, n)}, by rejection of random bit strings (no modulo bias). */
    long uniform(long n) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1, got " + n);
        }
        int bits = 64 - Long.numberOfLeadingZeros(n - 1);
        if (bits == 0) {
            return 0;
        }
        while (true) {
            long r = random.nextLong() >>> (64 - bits);
            if (r < n) {
                return r;
            }
        }
    }

    private BigInteger uniform(BigInteger n) {
        int bits = n.subtract(BigInteger.ONE).bitLength();
        while (true) {
            BigInteger r = new BigInteger(bits, random);
            if (r.compareTo(n) < 0) {
                return r;
            }
        }
    }

    /** ⌊√n⌋ for 0 ≤ n ≤ 2^62, exactly (the double square root corrected by at most a step either way). */
    static long isqrt(long n) {
        if (n < 0 || n > (1L << 62)) {
            throw new IllegalArgumentException("isqrt needs 0 <= n <= 2^62, got " + n);
        }
        long r = (long) Math.sqrt((double) n);
        while (r * r > n) {
            r--;
        }
        while ((r + 1) * (r + 1) <= n) {
            r++;
        }
        return r;
    }
}
