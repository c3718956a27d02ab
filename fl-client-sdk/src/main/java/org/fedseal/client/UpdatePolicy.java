package org.fedseal.client;

import java.util.Optional;
import java.util.Random;
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
 * <h2>Noise (local differential privacy) &mdash; caveat</h2>
 * With {@code noiseMultiplier = σ > 0}, each coordinate of the clipped delta gets independent
 * Gaussian noise of standard deviation {@code σ·C} (C = the clip bound in force), before
 * weighting. This is the Gaussian mechanism with L2 sensitivity C applied to one client's delta
 * for one round. It is <em>not</em> a complete privacy guarantee: there is no privacy accounting
 * across rounds (the budget composes with every round a client joins), the guarantee is per
 * update, not per sample, a meaningful local ε needs σ around 1 or more which, for a single
 * client, usually swamps the signal, and the noise is scaled by the client's weight along with
 * the delta. Encryption already hides individual updates from the aggregator; noise protects
 * against what the decrypted <em>aggregate</em> (and the model) may reveal.
 *
 * @param clipBound this client's own L2 bound, {@code > 0}; {@link Double#POSITIVE_INFINITY}
 *     (the default) clips to the round's clip norm alone
 * @param noiseMultiplier σ, {@code >= 0} and finite; noise std = σ·C
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
            throw new IllegalArgumentException(ClientConfig.NOISE_MULTIPLIER + " must be >= 0 and finite, got "
                    + noiseMultiplier);
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

    /** Clip to c, then (if σ &gt; 0) add N(0, (σc)²) noise per coordinate using {@code rnd}. */
    public float[] privatize(float[] delta, double c, Random rnd) {
        float[] out = clip(delta, c);
        if (noiseMultiplier > 0) {
            double std = noiseMultiplier * c;
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) (out[i] + rnd.nextGaussian() * std);
            }
        }
        return out;
    }

    /**
     * The values a client encrypts in {@code round}: {@code weight · privatize(delta)}.
     *
     * @throws SubmissionException {@link SubmissionException.Reason#HEADROOM_EXCEEDED} if the round
     *     carries no valid bounds, the weight exceeds its {@code maxUpdateWeight}, the noise does not
     *     fit its headroom, or a noise outlier passes {@value RoundBounds#NOISE_TAIL_SIGMAS} standard
     *     deviations; {@link SubmissionException.Reason#INVALID_UPDATE} for a weight below 1 or
     *     non-finite values
     */
    public float[] prepare(float[] delta, long weight, RoundOpened round, Random rnd) throws SubmissionException {
        RoundBounds bounds;
        try {
            bounds = RoundBounds.of(round);
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(SubmissionException.Reason.HEADROOM_EXCEEDED, e.getMessage(), e);
        }
        if (weight < 1) {
            throw new SubmissionException(SubmissionException.Reason.INVALID_UPDATE, "weight must be >= 1, got " + weight);
        }
        Optional<String> weightProblem = bounds.weightProblem(weight);
        if (weightProblem.isPresent()) {
            throw new SubmissionException(SubmissionException.Reason.HEADROOM_EXCEEDED, weightProblem.get());
        }
        if (!bounds.fitsNoise(noiseMultiplier)) {
            throw new SubmissionException(SubmissionException.Reason.HEADROOM_EXCEEDED, "noise multiplier "
                    + noiseMultiplier + " does not fit the round's headroom: clipNorm " + bounds.clipNorm() + " x (1 + "
                    + RoundBounds.NOISE_TAIL_SIGMAS + " sigma) x maxTotalWeight " + bounds.maxTotalWeight() + " > sumNormBound "
                    + bounds.sumNormBound());
        }
        double c = clipFor(bounds);
        float[] v;
        try {
            v = privatize(delta, c, rnd);
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(SubmissionException.Reason.INVALID_UPDATE, e.getMessage(), e);
        }
        double limit = c * (1 + RoundBounds.NOISE_TAIL_SIGMAS * noiseMultiplier) * weight;
        for (int i = 0; i < v.length; i++) {
            double x = (double) v[i] * weight;
            if (Math.abs(x) > limit) {
                throw new SubmissionException(SubmissionException.Reason.HEADROOM_EXCEEDED, "weighted value " + x
                        + " at index " + i + " is beyond " + limit + " (noise outlier beyond "
                        + RoundBounds.NOISE_TAIL_SIGMAS + " sigma)");
            }
            v[i] = (float) x;
        }
        return v;
    }
}
