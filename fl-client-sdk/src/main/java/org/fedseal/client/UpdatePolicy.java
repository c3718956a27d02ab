package org.fedseal.client;

import java.util.Optional;
import java.util.Random;
import org.fedseal.client.internal.DiscreteGaussian;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * What a client does to its plaintext delta before encryption: clip to an L2 bound, optionally add
 * Gaussian noise, and multiply by its FedAvg weight, within the bounds the round was opened with.
 *
 * <h2>Weighting</h2>
 * The client sends {@code w·Δ} (w = number of local samples), so the aggregate is
 * {@code Σ wᵢ·Δᵢ}; the key holder divides by {@code Σ wᵢ} (the aggregate's {@code totalWeight})
 * to get the FedAvg mean. The multiplication happens in plaintext, before encryption.
 *
 * <h2>Headroom</h2>
 * A CKKS sum decrypts correctly only while it fits the parameter set's headroom; past it, it
 * wraps and decrypts to garbage with no error. The round's {@link RoundBounds} (carried in
 * {@code RoundOpened}: clip norm C, largest weight per update and per round, the set's
 * headroom) keep every honest round inside it: the client clips to C (or to its own smaller
 * {@link #clipBound()}), refuses a weight above {@code maxUpdateWeight} and refuses to add noise
 * the headroom has no room for ({@link RoundBounds#fitsNoise}), each with
 * {@link SubmissionException.Reason#HEADROOM_EXCEEDED}; the aggregator refuses updates past
 * {@code maxTotalWeight}.
 *
 * <h2>Distributed differential privacy (the round's noise multiplier)</h2>
 * A round opened with {@code RoundOpened.noiseMultiplier = z > 0} asks that the decrypted
 * <em>sum</em> carry Gaussian noise of standard deviation {@code z·C} per coordinate (C = the
 * round's clip norm), the DP-FedAvg mechanism of McMahan, Ramage, Talwar and Zhang, "Learning
 * Differentially Private Recurrent Language Models", ICLR 2018. No single party adds it: each
 * client adds an equal share of the variance, {@code z²C²/quorum}, so that any round that completes
 * &mdash; the aggregator only completes a round with at least {@code quorum} accepted updates &mdash;
 * carries at least {@code z²C²}; the variances of independent noises add. What this means:
 * <ul>
 *   <li><b>Dropouts</b> cannot lower the noise below the target: a round that closes with fewer
 *       than quorum updates fails and releases nothing; one that closes with more (at the deadline,
 *       or with {@code round.close.at.quorum=false}) carries more noise than needed,
 *       {@code (n/quorum)·z²C²} for n updates, which costs accuracy, not privacy.</li>
 *   <li><b>Colluding clients</b> know their own noise: if k of the quorum collude with whoever
 *       decrypts, the noise that protects the others is {@code (quorum−k)/quorum·z²C²}. Choose the
 *       quorum with that in mind (Kairouz, Liu, Steinke, ICML 2021, discuss the same trade-off).</li>
 *   <li><b>Fixed weights.</b> The sensitivity of the sum to one client must be bounded, so with
 *       {@code z > 0} every client sends weight 1 ({@link #weightFor}) and the key holder's
 *       {@code sum / totalWeight} is the unweighted mean of the clipped deltas plus noise of
 *       standard deviation {@code z·C/n}: DP-FedAvg with fixed (equal) weights. The aggregator and
 *       the registry accept weight 1 as any other weight in {@code [1, maxUpdateWeight]}.</li>
 * </ul>
 * The configured local {@code noise.multiplier} σ ({@link #noiseMultiplier()}) stays available as
 * extra noise this client adds on its own, independent of the round: the client's noise has
 * standard deviation {@code C·√(σ² + z²/quorum)} ({@link #clientNoiseMultiplier}); without a
 * round multiplier it is the local Gaussian mechanism of the previous versions, scaled by the
 * client's weight along with the delta, and no accountant covers it.
 *
 * <h2>Sampling the noise soundly</h2>
 * Noise is never {@code Random.nextGaussian}: floating-point Gaussian samples leak the input
 * through their low-order bits (Mironov, CCS 2012). The clipped delta is snapped to a grid of
 * granularity γ ({@link #granularity}, a power of two), each coordinate gets γ times a discrete
 * Gaussian {@code N_Z(0, ⌈(s·C/γ)²⌉)} sampled exactly (Canonne, Kamath, Steinke, NeurIPS 2020;
 * the SDK's {@code DiscreteGaussian}), and the result, an exact multiple of γ, is converted to
 * float32 (exactly, while it is below 2^24·γ). Distance to the continuous mechanism:
 * <ul>
 *   <li>snapping moves the delta by at most {@code γ·√d/2} in L2 (d = parameters); the client clips
 *       to {@code C − γ·√d/2} first, so the snapped delta's norm is still at most C and the
 *       sensitivity the accountant assumes holds exactly. γ ≤ {@code C/(512·√d)} keeps that
 *       margin at most C/1024 (0.1 % of the clip norm);</li>
 *   <li>the grid variance is rounded <em>up</em> to an integer, so each client adds at least its
 *       share;</li>
 *   <li>one discrete Gaussian of variance σ² has the concentrated-DP bound of the continuous one
 *       (CKS20); the sum of n independent ones is not exactly a discrete Gaussian, and Kairouz, Liu
 *       and Steinke, "The Distributed Discrete Gaussian Mechanism for Federated Learning with Secure
 *       Aggregation", ICML 2021 (main theorem), bound it by ½ε²-concentrated DP with
 *       {@code ε = √(Δ²/(nσ²) + τ·d/2)}, {@code τ = 10·Σ_{k=1}^{n−1} exp(−2π²·σ²·k/(k+1))} (σ², Δ in
 *       grid units): the continuous figure plus a term in τ. γ ≤ σ/16 keeps σ² ≥ 256 in grid
 *       units, so {@code τ ≤ 10·n·exp(−2526)}, zero in double precision: the accountant's
 *       continuous bound is the guarantee.</li>
 * </ul>
 * The CKKS encoding then adds its approximation error (about 2^-40 relative), as it does to every
 * update. Randomness: a {@link java.security.SecureRandom} unless {@code noise.seed} is set (for
 * reproducible simulations only).
 *
 * @param clipBound this client's own L2 bound, {@code > 0}; {@link Double#POSITIVE_INFINITY}
 *     (the default) clips to the round's clip norm alone
 * @param noiseMultiplier σ, local noise on top of the round's share, {@code >= 0} and finite;
 *     local noise std = σ·C
 */
public record UpdatePolicy(double clipBound, double noiseMultiplier) {
    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException naming the config key of the bad value
     */
    public UpdatePolicy {
        if (!(clipBound > 0)) {
            throw new IllegalArgumentException(ClientConfig.CLIP_L2_BOUND + " must be positive, got " + clipBound);
        }
        if (!(noiseMultiplier >= 0) || Double.isInfinite(noiseMultiplier)) {
            throw new IllegalArgumentException(
                    ClientConfig.NOISE_MULTIPLIER + " must be >= 0 and finite, got " + noiseMultiplier);
        }
    }

    /** Clip to the round's clip norm, no noise. */
    public static UpdatePolicy roundDefaults() {
        return new UpdatePolicy(Double.POSITIVE_INFINITY, 0.0);
    }

    /** Clip to at most {@code clipBound} (and the round's clip norm), no noise. */
    public static UpdatePolicy of(double clipBound) {
        return new UpdatePolicy(clipBound, 0.0);
    }

    /** The clip bound in force in a round of {@code bounds}: the smaller of this policy's and the round's. */
    public double clipFor(RoundBounds bounds) {
        return Math.min(clipBound, bounds.clipNorm());
    }

    /** Euclidean norm (computed in double). */
    public static double l2Norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    /**
     * A copy of {@code delta} scaled by {@code min(1, c / ‖delta‖₂)}, so its norm is at most c.
     *
     * @throws IllegalArgumentException if a value is not finite or c is not positive and finite
     */
    public static float[] clip(float[] delta, double c) {
        if (!(c > 0) || Double.isInfinite(c)) {
            throw new IllegalArgumentException("clip bound must be positive and finite, got " + c);
        }
        ModelWeights.requireFinite(delta, "delta");
        double norm = l2Norm(delta);
        float[] out = delta.clone();
        if (norm > c) {
            double f = c / norm;
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) (out[i] * f);
            }
            // float rounding may leave the norm a hair above c; shrink until it is not
            while (l2Norm(out) > c) {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Math.nextAfter(out[i], 0.0);
                }
            }
        }
        return out;
    }

    /**
     * Clip to c, then (if this policy's local σ &gt; 0) add discrete Gaussian noise of standard
     * deviation at least σ·c per coordinate ({@link #privatize(float[], double, double, Random)}).
     */
    public float[] privatize(float[] delta, double c, Random rnd) {
        return privatize(delta, c, noiseMultiplier, rnd);
    }

    /**
     * The sound noisy clip: with {@code s = 0} just {@link #clip}; else clip to
     * {@code c − γ·√d/2}, snap to multiples of γ = {@link #granularity}(c, s, d), and add γ times
     * a discrete Gaussian of variance {@code ⌈(s·c/γ)²⌉} to every coordinate, so each coordinate's
     * noise has standard deviation at least {@code s·c} and the snapped delta's L2 norm is at most c.
     *
     * @param delta the unweighted delta (not modified)
     * @param c the clip bound, positive and finite
     * @param s the noise multiplier of this client's own noise, {@code >= 0}
     * @param rnd the source of random bits (a SecureRandom outside simulations)
     * @return multiples of γ, as float32
     * @throws IllegalArgumentException on non-finite values, a bad c or s, or a noise scale the
     *     sampler cannot represent (more than 2^26 grid steps per standard deviation)
     */
    public static float[] privatize(float[] delta, double c, double s, Random rnd) {
        if (!(s >= 0) || Double.isInfinite(s)) {
            throw new IllegalArgumentException("noise multiplier must be >= 0 and finite, got " + s);
        }
        if (s == 0) {
            return clip(delta, c);
        }
        double gamma = granularity(c, s, delta.length);
        float[] out = clip(delta, c - gamma * Math.sqrt(delta.length) / 2);
        double grid = s * c / gamma;
        long variance = (long) Math.ceil(grid * grid);
        DiscreteGaussian noise = new DiscreteGaussian(rnd);
        for (int i = 0; i < out.length; i++) {
            long k = (long) Math.rint(out[i] / gamma) + noise.sample(variance);
            out[i] = (float) (k * gamma);
        }
        return out;
    }

    /**
     * The grid step γ of the noisy clip: the largest power of two at most
     * {@code min(c/(512·√d), s·c/16)}, so snapping costs at most {@code c/1024} of the clip norm and
     * the per-coordinate noise spans at least 16 grid steps (see the class comment for the bound
     * this gives).
     *
     * @param c the clip bound
     * @param s the noise multiplier, {@code > 0}
     * @param d the number of coordinates, {@code >= 1}
     */
    public static double granularity(double c, double s, int d) {
        if (!(c > 0) || Double.isInfinite(c) || !(s > 0) || Double.isInfinite(s) || d < 1) {
            throw new IllegalArgumentException(
                    "need c > 0, s > 0 finite and d >= 1, got c=" + c + ", s=" + s + ", d=" + d);
        }
        double target = Math.min(c / (512 * Math.sqrt(d)), s * c / 16);
        return Math.scalb(1.0, Math.getExponent(target));
    }

    /**
     * The weight a client declares in {@code round}: its own (number of local samples) without
     * distributed DP, 1 when the round asks for noise ({@code noiseMultiplier > 0}), so that one
     * client's influence on the sum is bounded by the clip norm (DP-FedAvg with fixed weights).
     */
    public static long weightFor(long weight, RoundOpened round) {
        return round.getNoiseMultiplier() > 0 ? 1 : weight;
    }

    /**
     * The noise multiplier of the noise this client adds in {@code round}:
     * {@code √(σ² + z²/quorum)} with σ this policy's local multiplier, z the round's and quorum the
     * round's quorum (at least 1), so that quorum clients together add at least {@code z²C²}.
     *
     * @throws IllegalArgumentException if the round's noise multiplier is negative or not finite
     */
    public double clientNoiseMultiplier(RoundOpened round) {
        double z = round.getNoiseMultiplier();
        if (!(z >= 0) || Double.isInfinite(z)) {
            throw new IllegalArgumentException(
                    "round " + round.getModelId() + "/" + round.getRound() + " has an invalid noise multiplier " + z);
        }
        if (z == 0) {
            return noiseMultiplier;
        }
        int quorum = Math.max(1, round.getQuorum());
        return Math.sqrt(noiseMultiplier * noiseMultiplier + z * z / quorum);
    }

    /**
     * The values a client encrypts in {@code round}: {@code weightFor(weight) · privatize(delta)}, each
     * value first clamped to the round's {@code clipValue} when it sets one,
     * with this client's share of the round's noise plus its local noise
     * ({@link #clientNoiseMultiplier}). Declare {@link #weightFor}{@code (weight, round)} in the
     * commit.
     *
     * @throws SubmissionException {@link SubmissionException.Reason#HEADROOM_EXCEEDED} if the round
     *     carries no valid bounds or noise multiplier, the weight exceeds its {@code maxUpdateWeight},
     *     the noise does not fit its headroom, or a noise outlier passes
     *     {@value RoundBounds#NOISE_TAIL_SIGMAS} standard deviations;
     *     {@link SubmissionException.Reason#INVALID_UPDATE} for a weight below 1 or non-finite values
     */
    public float[] prepare(float[] delta, long weight, RoundOpened round, Random rnd) throws SubmissionException {
        RoundBounds bounds;
        double s;
        try {
            bounds = RoundBounds.of(round);
            s = clientNoiseMultiplier(round);
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(SubmissionException.Reason.HEADROOM_EXCEEDED, e.getMessage(), e);
        }
        if (weight < 1) {
            throw new SubmissionException(
                    SubmissionException.Reason.INVALID_UPDATE, "weight must be >= 1, got " + weight);
        }
        weight = weightFor(weight, round);
        Optional<String> weightProblem = bounds.weightProblem(weight);
        if (weightProblem.isPresent()) {
            throw new SubmissionException(SubmissionException.Reason.HEADROOM_EXCEEDED, weightProblem.get());
        }
        if (!bounds.fitsNoise(s)) {
            throw new SubmissionException(
                    SubmissionException.Reason.HEADROOM_EXCEEDED,
                    "noise multiplier "
                            + s + " (local " + noiseMultiplier + ", round " + round.getNoiseMultiplier()
                            + " over quorum "
                            + round.getQuorum() + ") does not fit the round's headroom: clipNorm " + bounds.clipNorm()
                            + " x (1 + "
                            + RoundBounds.NOISE_TAIL_SIGMAS + " sigma) x maxTotalWeight " + bounds.maxTotalWeight()
                            + " > sumNormBound "
                            + bounds.sumNormBound());
        }
        double c = clipFor(bounds);
        float[] v;
        try {
            v = privatize(delta, c, s, rnd);
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(SubmissionException.Reason.INVALID_UPDATE, e.getMessage(), e);
        }
        double limit = c * (1 + RoundBounds.NOISE_TAIL_SIGMAS * s) * weight;
        double clipValue = round.getClipValue();
        if (clipValue > 0) {
            // the round bounds every single value too (a compact round's modulus is sized on it)
            float bound = (float) clipValue;
            for (int i = 0; i < v.length; i++) {
                v[i] = Math.max(-bound, Math.min(bound, v[i]));
            }
            limit = Math.min(limit, clipValue * weight);
        }
        for (int i = 0; i < v.length; i++) {
            double x = (double) v[i] * weight;
            if (Math.abs(x) > limit) {
                throw new SubmissionException(
                        SubmissionException.Reason.HEADROOM_EXCEEDED,
                        "weighted value " + x
                                + " at index " + i + " is beyond " + limit + " (noise outlier beyond "
                                + RoundBounds.NOISE_TAIL_SIGMAS + " sigma)");
            }
            v[i] = (float) x;
        }
        return v;
    }
}
