package org.fedseal.protocol;

import java.util.Optional;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * The numbers that keep a round's encrypted sum from wrapping, published in its
 * {@link RoundOpened} record: the registry derives and checks them when it opens the round,
 * clients check them before encrypting, the aggregator enforces them where the sum is formed.
 *
 * <h2>Why these numbers</h2>
 * Each client sends {@code wᵢ·Δᵢ} with {@code ‖Δᵢ‖₂ ≤ C} (clipping), so the values of the sum in
 * any one ciphertext have L2 norm at most {@code C·Σwᵢ ≤ C·maxTotalWeight}. A CKKS sum decrypts
 * correctly while that norm is at most the parameter set's headroom (he-native's
 * {@code HeParameters.maxSumNorm()}, published here as {@link #sumNormBound()}, with its
 * derivation). Hence the invariant every instance holds:
 * {@code clipNorm × maxTotalWeight ≤ sumNormBound}. With local Gaussian noise of multiplier σ the
 * sum's coefficients gain noise of at most {@value #NOISE_TAIL_SIGMAS} standard deviations, which
 * the client checks with {@link #fitsNoise(double)}.
 *
 * <h2>What this cannot stop</h2>
 * Ciphertexts hide the values: nobody but the client can check that it really clipped. A client
 * that lies about its clipping (or encrypts anything it likes) can still poison the sum, or make
 * it wrap. The bounds protect honest rounds from overflow and bound what a client may
 * <em>declare</em> (its weight); robust aggregation against malicious clients is out of reach of
 * additive HE alone.
 *
 * @param clipNorm C, the L2 bound of every client's unweighted delta; positive and finite
 * @param maxUpdateWeight largest weight one update may declare; in [1, maxTotalWeight]
 * @param maxTotalWeight largest sum of the weights of a round's accepted updates; at least 1
 * @param sumNormBound the parameter set's headroom (largest L2 norm of one ciphertext's values
 *     whose sum still decrypts correctly); positive and finite
 */
public record RoundBounds(double clipNorm, long maxUpdateWeight, long maxTotalWeight, double sumNormBound) {
    /** Standard deviations of client noise the headroom allows for ({@link #fitsNoise}). */
    public static final double NOISE_TAIL_SIGMAS = 6.0;

    /** The clip bound a round gets when the coordinator names none. */
    public static final double DEFAULT_CLIP_NORM = 1.0;

    /**
     * Checks every value and the invariant {@code clipNorm × maxTotalWeight ≤ sumNormBound}.
     *
     * @throws IllegalArgumentException naming the bound that is violated and by how much
     */
    public RoundBounds {
        if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("clipNorm must be positive and finite, got " + clipNorm);
        }
        if (!(sumNormBound > 0) || Double.isInfinite(sumNormBound)) {
            throw new IllegalArgumentException("sumNormBound must be positive and finite, got " + sumNormBound);
        }
        if (maxTotalWeight < 1) {
            throw new IllegalArgumentException("maxTotalWeight must be >= 1, got " + maxTotalWeight);
        }
        if (maxUpdateWeight < 1 || maxUpdateWeight > maxTotalWeight) {
            throw new IllegalArgumentException(
                    "maxUpdateWeight must be in [1, maxTotalWeight = " + maxTotalWeight + "], got " + maxUpdateWeight);
        }
        double worst = clipNorm * maxTotalWeight;
        if (worst > sumNormBound) {
            throw new IllegalArgumentException(String.format(
                    "a full round could wrap: clipNorm (%s) x maxTotalWeight (%d) = %s exceeds the parameter set's headroom "
                            + "sumNormBound = %.6g; lower maxTotalWeight to at most %d or the clip norm to at most %s",
                    clipNorm,
                    maxTotalWeight,
                    worst,
                    sumNormBound,
                    largestTotalWeight(sumNormBound, clipNorm),
                    largestClipNorm(sumNormBound, maxTotalWeight)));
        }
    }

    /**
     * Bounds with defaults for what the coordinator leaves out: {@code maxTotalWeight} the largest
     * the headroom allows at {@code clipNorm}, {@code maxUpdateWeight} an equal share of it per
     * quorum member (so a full quorum of maximal updates always fits). A quorum larger than the
     * total weight could ever be is refused.
     *
     * @param sumNormBound the parameter set's headroom
     * @param clipNorm C, or null for {@link #DEFAULT_CLIP_NORM}
     * @param maxTotalWeight or null to derive
     * @param maxUpdateWeight or null to derive
     * @param quorum the round's quorum, at least 1
     * @throws IllegalArgumentException as the constructor
     */
    public static RoundBounds withDefaults(
            double sumNormBound, Double clipNorm, Long maxTotalWeight, Long maxUpdateWeight, int quorum) {
        if (quorum < 1) {
            throw new IllegalArgumentException("quorum must be >= 1, got " + quorum);
        }
        double c = clipNorm == null ? DEFAULT_CLIP_NORM : clipNorm;
        if (maxTotalWeight == null && c > 0 && Double.isFinite(c) && largestTotalWeight(sumNormBound, c) < 1) {
            throw new IllegalArgumentException(
                    "clipNorm " + c + " alone exceeds the parameter set's headroom sumNormBound = "
                            + String.format("%.6g", sumNormBound) + ": not even one update of weight 1 fits");
        }
        long total = maxTotalWeight != null
                ? maxTotalWeight
                : (c > 0 && Double.isFinite(c) ? largestTotalWeight(sumNormBound, c) : 1);
        if (quorum > total) {
            throw new IllegalArgumentException("quorum " + quorum
                    + " can never be reached: every update weighs at least 1 and " + "maxTotalWeight is " + total);
        }
        long perUpdate = maxUpdateWeight != null ? maxUpdateWeight : total / quorum;
        return new RoundBounds(c, perUpdate, total, sumNormBound);
    }

    /**
     * The loosest bounds at clip norm {@code c}: the largest total weight the headroom allows, and
     * any one update may bring all of it (simulations, tests, trusted single-client rounds).
     *
     * @throws IllegalArgumentException as the constructor (e.g. if not even weight 1 fits)
     */
    public static RoundBounds loosest(double sumNormBound, double c) {
        long total = largestTotalWeight(sumNormBound, c);
        return new RoundBounds(c, total, total, sumNormBound);
    }

    /** The largest clip norm at total weight {@code w}, rounded down to 6 significant digits (so that it fits). */
    public static String largestClipNorm(double sumNormBound, long w) {
        java.math.BigDecimal c = new java.math.BigDecimal(sumNormBound / w)
                .round(new java.math.MathContext(6, java.math.RoundingMode.FLOOR));
        while (c.signum() > 0 && c.doubleValue() * w > sumNormBound) { // the product is computed in double
            c = c.subtract(c.ulp());
        }
        return c.stripTrailingZeros().toPlainString();
    }

    /** The largest total weight the headroom allows at clip norm {@code c} (at least 0). */
    public static long largestTotalWeight(double sumNormBound, double c) {
        double w = Math.floor(sumNormBound / c);
        return w >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) Math.max(0, w);
    }

    /**
     * The bounds a round was opened with.
     *
     * @throws IllegalArgumentException if the record carries none (written by a registry before
     *     0.2) or they are inconsistent
     */
    public static RoundBounds of(RoundOpened round) {
        if (round.getClipNorm() == 0 && round.getMaxTotalWeight() == 0) {
            throw new IllegalArgumentException("round " + round.getModelId() + "/" + round.getRound()
                    + " carries no headroom bounds (opened by a registry before 0.2): refusing it");
        }
        return new RoundBounds(
                round.getClipNorm(), round.getMaxUpdateWeight(), round.getMaxTotalWeight(), round.getSumNormBound());
    }

    /** Sets these bounds on a RoundOpened builder. */
    public RoundOpened.Builder applyTo(RoundOpened.Builder b) {
        return b.setClipNorm(clipNorm)
                .setMaxUpdateWeight(maxUpdateWeight)
                .setMaxTotalWeight(maxTotalWeight)
                .setSumNormBound(sumNormBound);
    }

    /** Why one update may not declare {@code weight}, or empty if it may. */
    public Optional<String> weightProblem(long weight) {
        if (weight < 1) {
            return Optional.of("weight " + weight + " is not positive");
        }
        if (weight > maxUpdateWeight) {
            return Optional.of("weight " + weight + " exceeds the round's maxUpdateWeight " + maxUpdateWeight);
        }
        return Optional.empty();
    }

    /**
     * The round's total weight after accepting an update of {@code weight} on top of
     * {@code total}, or empty if that would pass {@link #maxTotalWeight()} (or overflow a long).
     */
    public Optional<Long> addWeight(long total, long weight) {
        long next;
        try {
            next = Math.addExact(total, weight);
        } catch (ArithmeticException e) {
            return Optional.empty();
        }
        return next <= maxTotalWeight ? Optional.of(next) : Optional.empty();
    }

    /**
     * True if a round of these bounds whose every client adds Gaussian noise of multiplier σ (std
     * σ·C per value) keeps {@value #NOISE_TAIL_SIGMAS} standard deviations of that noise inside
     * the headroom: {@code C·(1 + 6σ)·maxTotalWeight ≤ sumNormBound}.
     */
    public boolean fitsNoise(double noiseMultiplier) {
        return clipNorm * (1 + NOISE_TAIL_SIGMAS * noiseMultiplier) * maxTotalWeight <= sumNormBound;
    }
}
