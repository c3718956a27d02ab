package org.fedseal.protocol;

import java.util.Arrays;
import java.util.Objects;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.RoundTask;

/**
 * A Rényi-DP accountant for the sampled Gaussian mechanism, composed over rounds and converted to
 * (ε, δ): what a model's rounds of distributed differential privacy
 * ({@code RoundOpened.noiseMultiplier}) have spent. Used by the registry (budget, ε per version)
 * and by anyone re-deriving ε from the public round records.
 *
 * <h2>Mechanism</h2>
 * One round releases {@code Σᵢ clip(Δᵢ) + N(0, z²C²·I)} where each participant's clipped delta has
 * L2 norm at most C (sensitivity C under adding or removing one client) and z is the round's noise
 * multiplier; each client is included with probability q (Poisson sampling). Its Rényi divergence
 * of order α is bounded by Mironov, Talwar and Zhang, "Rényi Differential Privacy of the Sampled
 * Gaussian Mechanism" (arXiv:1908.10530, 2019): for integer α (their Section 3.3, the binomial
 * expansion)
 * <pre>  ε(α) = log( Σ_{k=0..α} C(α,k) (1−q)^{α−k} q^k exp((k² − k)/(2z²)) ) / (α − 1)</pre>
 * and for fractional α the two-sided series of their Section 3.3 with {@code erfc} (the method of
 * TensorFlow Privacy's {@code rdp_accountant}). q = 1 gives the plain Gaussian mechanism,
 * ε(α) = α/(2z²). Rényi DP composes by addition (Mironov, "Rényi Differential Privacy", CSF 2017,
 * Proposition 1), so rounds with different z and q simply add their curves.
 *
 * <h2>Conversion to (ε, δ)</h2>
 * {@link Conversion#IMPROVED} (the default) is Canonne, Kamath and Steinke, "The Discrete Gaussian
 * for Differential Privacy" (NeurIPS 2020), Proposition 12 (equivalently Balle et al., "Hypothesis
 * Testing Interpretations and Rényi Differential Privacy", AISTATS 2020, Theorem 21):
 * {@code ε = ε(α) + log((α−1)/α) − (log δ + log α)/(α − 1)}, with ε = 0 when
 * {@code δ² + expm1(−ε(α)) > 0}, minimized over the orders; this is what TensorFlow Privacy's and
 * Google's {@code dp_accounting} {@code RdpAccountant} and Opacus compute today.
 * {@link Conversion#CLASSIC} is Mironov 2017, Proposition 3, {@code ε = ε(α) + log(1/δ)/(α − 1)},
 * what TensorFlow Privacy used before 2020 (kept to reproduce numbers published then).
 *
 * <h2>Orders</h2>
 * {@link #DEFAULT_ORDERS}: 1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, 5..63, 128, 256, 512, the
 * list of TensorFlow Privacy's {@code compute_dp_sgd_privacy_lib}.
 *
 * <h2>What the number means in FedSeal</h2>
 * The unit is the client (user-level DP: one client's whole update is the difference between
 * neighbouring inputs), the adjacency is add/remove, and the accountant assumes the released sum
 * carries at least N(0, z²C²) (see the client SDK's {@code UpdatePolicy} for how clients share the
 * noise and what happens when they drop out). Amplification by sampling (q &lt; 1) assumes the
 * sample is secret and Poisson; a sample that is public (FedSeal's {@code sampledClients}) gives no
 * amplification against whoever reads it, which is why the registry charges such rounds at q = 1.
 *
 * <p>Immutable and thread-safe; {@link #compose} returns a new accountant.
 */
public final class PrivacyAccountant {
    /** TensorFlow Privacy's default order list ({@code compute_dp_sgd_privacy_lib}). */
    public static final double[] DEFAULT_ORDERS = defaultOrders();

    /** How a Rényi-DP curve becomes an (ε, δ) guarantee. */
    public enum Conversion {
        /** CKS20 Proposition 12 / Balle et al. 2020 Theorem 21 (tighter; the default). */
        IMPROVED,
        /** Mironov 2017 Proposition 3: {@code ε(α) + log(1/δ)/(α − 1)}. */
        CLASSIC
    }

    /**
     * An (ε, δ) guarantee and the Rényi order it came from.
     *
     * @param epsilon ε, at least 0 (or +∞ if no order gives a finite value)
     * @param delta δ
     * @param order the order α that minimized ε
     */
    public record Epsilon(double epsilon, double delta, double order) {}

    private final double[] orders;
    private final double[] rdp;

    private PrivacyAccountant(double[] orders, double[] rdp) {
        this.orders = orders;
        this.rdp = rdp;
    }

    /** An accountant over {@link #DEFAULT_ORDERS} that has spent nothing. */
    public static PrivacyAccountant create() {
        return create(DEFAULT_ORDERS);
    }

    /**
     * An accountant over {@code orders} that has spent nothing.
     *
     * @throws IllegalArgumentException if an order is not finite and above 1, or none is given
     */
    public static PrivacyAccountant create(double... orders) {
        Objects.requireNonNull(orders, "orders");
        if (orders.length == 0) {
            throw new IllegalArgumentException("at least one Renyi order is needed");
        }
        for (double a : orders) {
            if (!(a > 1) || Double.isInfinite(a)) {
                throw new IllegalArgumentException("Renyi orders must be finite and > 1, got " + a);
            }
        }
        return new PrivacyAccountant(orders.clone(), new double[orders.length]);
    }

    /**
     * This accountant after {@code steps} more releases of the sampled Gaussian mechanism.
     *
     * @param samplingRate q in [0, 1]: the probability that one client is in a round's sample
     * @param noiseMultiplier z &gt;= 0: noise standard deviation over the L2 sensitivity (0: no noise, ε = ∞ unless q = 0)
     * @param steps number of such rounds, at least 0
     * @throws IllegalArgumentException on a value outside those ranges
     */
    public PrivacyAccountant compose(double samplingRate, double noiseMultiplier, long steps) {
        if (!(samplingRate >= 0 && samplingRate <= 1)) {
            throw new IllegalArgumentException("sampling rate must be in [0, 1], got " + samplingRate);
        }
        if (!(noiseMultiplier >= 0) || Double.isInfinite(noiseMultiplier)) {
            throw new IllegalArgumentException("noise multiplier must be >= 0 and finite, got " + noiseMultiplier);
        }
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        }
        double[] next = rdp.clone();
        for (int i = 0; i < orders.length; i++) {
            next[i] += steps == 0 ? 0 : steps * rdp(samplingRate, noiseMultiplier, orders[i]);
        }
        return new PrivacyAccountant(orders, next);
    }

    /**
     * This accountant after one FedSeal round: a training round with {@code noiseMultiplier z > 0}
     * is one Gaussian mechanism of multiplier z, charged at sampling rate 1 &mdash; the round's sample
     * ({@code sampledClients}) is public, so sampling gives no amplification against whoever reads
     * the round records; a round without noise, or an evaluation round (its sums carry no noise),
     * spends an unbounded ε. The registry and an auditor charge rounds with this one rule.
     */
    public PrivacyAccountant charge(RoundOpened round) {
        Objects.requireNonNull(round, "round");
        double z = round.getNoiseMultiplier();
        if (round.getTask() != RoundTask.TRAIN || !(z > 0) || Double.isInfinite(z)) {
            return compose(1, 0, 1);
        }
        return compose(1, z, 1);
    }

    /** The orders this accountant tracks. */
    public double[] orders() {
        return orders.clone();
    }

    /** The Rényi DP spent so far at each of {@link #orders()}. */
    public double[] rdp() {
        return rdp.clone();
    }

    /** The smallest ε at {@code delta} over the orders, with {@link Conversion#IMPROVED}. */
    public Epsilon epsilon(double delta) {
        return epsilon(delta, Conversion.IMPROVED);
    }

    /**
     * The smallest ε at {@code delta} over the orders.
     *
     * @throws IllegalArgumentException unless {@code 0 < delta < 1}
     */
    public Epsilon epsilon(double delta, Conversion conversion) {
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
        }
        Objects.requireNonNull(conversion, "conversion");
        double best = Double.POSITIVE_INFINITY;
        double bestOrder = orders[0];
        for (int i = 0; i < orders.length; i++) {
            double a = orders[i];
            double r = rdp[i];
            double e;
            if (Double.isInfinite(r)) {
                e = Double.POSITIVE_INFINITY;
            } else if (conversion == Conversion.CLASSIC) {
                e = r - Math.log(delta) / (a - 1);
            } else if (delta * delta + Math.expm1(-r) > 0) {
                e = 0; // CKS20 Prop. 12: the divergence is so small that delta alone covers it
            } else if (a > 1.01) {
                e = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
            } else {
                e = Double.POSITIVE_INFINITY; // numerically unstable near 1 (as dp_accounting)
            }
            if (e < best) {
                best = e;
                bestOrder = a;
            }
        }
        return new Epsilon(Math.max(0, best), delta, bestOrder);
    }

    /**
     * The Rényi DP of order {@code order} of one release of the sampled Gaussian mechanism
     * (Mironov, Talwar, Zhang 2019).
     *
     * @param q sampling rate in [0, 1]
     * @param z noise multiplier &gt;= 0
     * @param order α &gt; 1
     */
    public static double rdp(double q, double z, double order) {
        if (q == 0) {
            return 0;
        }
        if (z == 0) {
            return Double.POSITIVE_INFINITY;
        }
        if (q == 1) {
            return order / (2 * z * z);
        }
        if (Double.isInfinite(order)) {
            return Double.POSITIVE_INFINITY;
        }
        double logA = order == Math.rint(order) ? logAInt(q, z, (long) order) : logAFrac(q, z, order);
        return logA / (order - 1);
    }

    /** log A_α for integer α: the binomial expansion, summed in log space. */
    private static double logAInt(double q, double z, long alpha) {
        double logA = Double.NEGATIVE_INFINITY;
        double logQ = Math.log(q);
        double log1mQ = Math.log1p(-q);
        double logBinom = 0; // log C(alpha, 0)
        for (long k = 0; k <= alpha; k++) {
            double s = logBinom + k * logQ + (alpha - k) * log1mQ + (k * (double) k - k) / (2 * z * z);
            logA = logAdd(logA, s);
            logBinom += Math.log(alpha - k) - Math.log(k + 1);
        }
        return logA;
    }

    /** log A_α for fractional α: MTZ19 Section 3.3, the two series split at z0, each summed until its terms drop below e^-30. */
    private static double logAFrac(double q, double z, double alpha) {
        double logA0 = Double.NEGATIVE_INFINITY;
        double logA1 = Double.NEGATIVE_INFINITY;
        double z0 = z * z * Math.log(1 / q - 1) + 0.5;
        double coef = 1; // C(alpha, i), generalized binomial coefficient
        for (int i = 0; ; i++) {
            if (i > 0) {
                coef *= (alpha - (i - 1)) / i;
            }
            double logCoef = Math.log(Math.abs(coef));
            double j = alpha - i;
            double logT0 = logCoef + i * Math.log(q) + j * Math.log1p(-q);
            double logT1 = logCoef + j * Math.log(q) + i * Math.log1p(-q);
            double logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.sqrt(2) * z));
            double logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.sqrt(2) * z));
            double logS0 = logT0 + (i * (double) i - i) / (2 * z * z) + logE0;
            double logS1 = logT1 + (j * j - j) / (2 * z * z) + logE1;
            if (coef > 0) {
                logA0 = logAdd(logA0, logS0);
                logA1 = logAdd(logA1, logS1);
            } else {
                logA0 = logSub(logA0, logS0);
                logA1 = logSub(logA1, logS1);
            }
            if (Math.max(logS0, logS1) < -30 || i > 100_000) {
                break;
            }
        }
        return logAdd(logA0, logA1);
    }

    private static double logAdd(double a, double b) {
        double hi = Math.max(a, b);
        double lo = Math.min(a, b);
        if (hi == Double.NEGATIVE_INFINITY) {
            return hi;
        }
        return hi + Math.log1p(Math.exp(lo - hi));
    }

    /** log(e^a − e^b) for a ≥ b. */
    private static double logSub(double a, double b) {
        if (b == Double.NEGATIVE_INFINITY) {
            return a;
        }
        if (a <= b) {
            throw new ArithmeticException("log of a non-positive number in the fractional-order series");
        }
        return a + Math.log(-Math.expm1(b - a));
    }

    /**
     * log(erfc(x)), accurate to ~1e-13 relative in erfc: a Taylor series of erf below 2, the
     * Laplace continued fraction of erfc (evaluated with Lentz's method) from 2 on, so it neither
     * cancels nor underflows for large x.
     */
    static double logErfc(double x) {
        if (x < 0) {
            return Math.log(2 - Math.exp(logErfc(-x)));
        }
        if (x < 2) {
            double sum = 0;
            double term = x; // (-1)^n x^(2n+1) / n!
            for (int n = 0; n < 200; n++) {
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.abs(t) < 1e-17 * Math.abs(sum)) {
                    break;
                }
                term *= -x * x / (n + 1);
            }
            return Math.log1p(-2 / Math.sqrt(Math.PI) * sum);
        }
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
        double tiny = 1e-300;
        double f = x;
        double c = x;
        double d = 0;
        for (int n = 1; n < 10_000; n++) {
            double an = n / 2.0;
            d = x + an * d;
            d = Math.abs(d) < tiny ? tiny : d;
            c = x + an / c;
            c = Math.abs(c) < tiny ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) {
                break;
            }
        }
        return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
    }

    private static double[] defaultOrders() {
        double[] head = {1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5};
        double[] out = Arrays.copyOf(head, head.length + 59 + 3);
        for (int a = 5; a < 64; a++) {
            out[head.length + a - 5] = a;
        }
        out[out.length - 3] = 128;
        out[out.length - 2] = 256;
        out[out.length - 1] = 512;
        return out;
    }

    @Override
    public String toString() {
        return "PrivacyAccountant" + Arrays.toString(rdp);
    }
}
