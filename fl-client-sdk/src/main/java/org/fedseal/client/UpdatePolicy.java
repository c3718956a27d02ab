package org.fedseal.client;

import java.util.Random;

/**
 * What a client does to its plaintext delta before encryption: clip to an L2 bound, optionally add
 * Gaussian noise, and multiply by its FedAvg weight.
 *
 * <h2>Weighting</h2>
 * The client sends {@code w·Δ} (w = number of local samples), so the aggregate is
 * {@code Σ wᵢ·Δᵢ}; the key holder divides by {@code Σ wᵢ} (the aggregate's {@code totalWeight})
 * to get the FedAvg mean. The multiplication happens in plaintext, before encryption.
 *
 * <h2>Headroom</h2>
 * CKKS values are encoded at scale 2<sup>40</sup> in a 60-bit prime, so every coordinate of the
 * encrypted sum must stay below {@link #HEADROOM} = 2<sup>19</sup> in magnitude or it wraps around
 * and decrypts to garbage. After clipping, {@code |wᵢ·Δᵢ[j]| ≤ wᵢ·C}, so
 * {@code |Σ wᵢΔᵢ[j]| ≤ C·Σwᵢ}; with noise the bound becomes {@code C·(1 + 6σ)·Σwᵢ} (six standard
 * deviations). The policy therefore requires {@code C·(1 + 6σ)·maxTotalWeight ≤ 2^19}, where
 * {@code maxTotalWeight} is the largest total weight (samples over all clients of a round) the
 * deployment expects; a client whose own weight exceeds it is refused.
 *
 * <h2>Noise (local differential privacy) &mdash; caveat</h2>
 * With {@code noiseMultiplier = σ > 0}, each coordinate of the clipped delta gets independent
 * Gaussian noise of standard deviation {@code σ·C} (C = clip bound), before weighting. This is the
 * Gaussian mechanism with L2 sensitivity C applied to one client's delta for one round. It is
 * <em>not</em> a complete privacy guarantee: there is no privacy accounting across rounds (the
 * budget composes with every round a client joins), the guarantee is per update, not per sample,
 * a meaningful local ε needs σ around 1 or more which, for a single client, usually swamps the
 * signal, and the noise is scaled by the client's weight along with the delta. Encryption already
 * hides individual updates from the aggregator; noise protects against what the decrypted
 * <em>aggregate</em> (and the model) may reveal.
 *
 * @param clipBound L2 bound C, {@code > 0}
 * @param noiseMultiplier σ, {@code >= 0}; noise std = σ·C
 * @param maxTotalWeight largest expected total weight of a round, {@code >= 1}
 */
public record UpdatePolicy(double clipBound, double noiseMultiplier, long maxTotalWeight) {
    /** Magnitude every coordinate of an encrypted sum must stay below: 2<sup>19</sup>. */
    public static final double HEADROOM = 0x1p19;
    /** Standard deviations of noise the headroom check allows for. */
    public static final double NOISE_TAIL_SIGMAS = 6.0;

    /**
     * Checks the values and the headroom.
     *
     * @throws IllegalArgumentException naming the config key of the bad value
     */
    public UpdatePolicy {
        if (!(clipBound > 0) || Double.isInfinite(clipBound)) {
            throw new IllegalArgumentException(ClientConfig.CLIP_L2_BOUND + " must be positive and finite, got " + clipBound);
        }
        if (!(noiseMultiplier >= 0) || Double.isInfinite(noiseMultiplier)) {
            throw new IllegalArgumentException(ClientConfig.NOISE_MULTIPLIER + " must be >= 0 and finite, got "
                    + noiseMultiplier);
        }
        if (maxTotalWeight < 1) {
            throw new IllegalArgumentException(ClientConfig.MAX_TOTAL_WEIGHT + " must be >= 1, got " + maxTotalWeight);
        }
        double bound = worstCase(clipBound, noiseMultiplier, maxTotalWeight);
        if (bound > HEADROOM) {
            throw new IllegalArgumentException("CKKS headroom exceeded: " + ClientConfig.CLIP_L2_BOUND + " (" + clipBound
                    + ") x (1 + 6 x " + ClientConfig.NOISE_MULTIPLIER + " (" + noiseMultiplier + ")) x "
                    + ClientConfig.MAX_TOTAL_WEIGHT + " (" + maxTotalWeight + ") = " + bound
                    + " must be <= 2^19 = 524288; lower the clip bound or the expected total weight");
        }
    }

    /** No noise. */
    public static UpdatePolicy of(double clipBound, long maxTotalWeight) {
        return new UpdatePolicy(clipBound, 0.0, maxTotalWeight);
    }

    private static double worstCase(double c, double sigma, long w) {
        return c * (1 + NOISE_TAIL_SIGMAS * sigma) * w;
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
     * A copy of {@code delta} scaled by {@code min(1, C / ‖delta‖₂)}, so its norm is at most C.
     *
     * @throws IllegalArgumentException if a value is not finite
     */
    public float[] clip(float[] delta) {
        for (int i = 0; i < delta.length; i++) {
            if (!Float.isFinite(delta[i])) {
                throw new IllegalArgumentException("delta[" + i + "] is " + delta[i]);
            }
        }
        double norm = l2Norm(delta);
        float[] out = delta.clone();
        if (norm > clipBound) {
            double f = clipBound / norm;
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) (out[i] * f);
            }
            // float rounding may leave the norm a hair above C; shrink until it is not
            while (l2Norm(out) > clipBound) {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Math.nextAfter(out[i], 0.0);
                }
            }
        }
        return out;
    }

    /** Clip, then (if σ &gt; 0) add N(0, (σC)²) noise per coordinate using {@code rnd}. */
    public float[] privatize(float[] delta, Random rnd) {
        float[] out = clip(delta);
        if (noiseMultiplier > 0) {
            double std = noiseMultiplier * clipBound;
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) (out[i] + rnd.nextGaussian() * std);
            }
        }
        return out;
    }

    /**
     * The values a client encrypts: {@code weight · privatize(delta)}.
     *
     * @throws SubmissionException {@link SubmissionException.Reason#HEADROOM_EXCEEDED} if the weight
     *     exceeds {@link #maxTotalWeight()} or a weighted value reaches the per-client share of the headroom;
     *     {@link SubmissionException.Reason#INVALID_UPDATE} for non-finite values
     */
    public float[] prepare(float[] delta, long weight, Random rnd) throws SubmissionException {
        if (weight < 1) {
            throw new SubmissionException(SubmissionException.Reason.INVALID_UPDATE, "weight must be >= 1, got " + weight);
        }
        if (weight > maxTotalWeight) {
            throw new SubmissionException(SubmissionException.Reason.HEADROOM_EXCEEDED, "client weight " + weight
                    + " exceeds " + ClientConfig.MAX_TOTAL_WEIGHT + " = " + maxTotalWeight);
        }
        float[] v;
        try {
            v = privatize(delta, rnd);
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(SubmissionException.Reason.INVALID_UPDATE, e.getMessage(), e);
        }
        double limit = worstCase(clipBound, noiseMultiplier, weight);
        for (int i = 0; i < v.length; i++) {
            double x = (double) v[i] * weight;
            if (Math.abs(x) > limit) {
                throw new SubmissionException(SubmissionException.Reason.HEADROOM_EXCEEDED, "weighted value " + x
                        + " at index " + i + " is beyond " + limit + " (noise outlier beyond 6 sigma)");
            }
            v[i] = (float) x;
        }
        return v;
    }
}
