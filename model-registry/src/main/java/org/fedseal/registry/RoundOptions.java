package org.fedseal.registry;

/**
 * What a coordinator configures when it opens a round, beyond quorum, deadline, epochs and bounds:
 * the clients' training configuration (Flower's {@code configure_fit}) and client sampling. The
 * registry writes it into the round's {@code RoundOpened}; 0 means "the trainer's own" for the
 * learning rate and batch size.
 *
 * <p>Build from {@link #DEFAULT} with the {@code with…} methods, e.g.
 * {@code RoundOptions.DEFAULT.withLearningRate(0.05).withProximalMu(0.01).withSampling(0.25, 5)}.
 *
 * @param learningRate client learning rate, or 0 for the trainer's own; {@code >= 0}, finite
 * @param batchSize client minibatch size, or 0 for the trainer's own; {@code >= 0}
 * @param proximalMu FedProx's μ (Li et al., MLSys 2020): clients minimise
 *     {@code loss + μ/2·‖w − w_base‖²}; 0 = plain local training; {@code >= 0}, finite
 * @param samplingFraction the fraction of the model's enrolled clients sampled for the round, in
 *     (0, 1]; 1 = no sampling (every enrolled client may submit). See fl-protocol
 *     {@code ClientSampling} for how the sample is derived.
 * @param minSampledClients the smallest sample (capped at the number of enrolled clients); {@code >= 0}
 * @param noiseMultiplier distributed differential privacy: z, so that the decrypted sum carries
 *     Gaussian noise of standard deviation {@code z × clipNorm} per value (each client adds an equal
 *     share, clients send weight 1; see the SDK's {@code UpdatePolicy}); 0 = no noise; {@code >= 0},
 *     finite. The registry charges the round to the model's privacy budget (fl-protocol
 *     {@code PrivacyAccountant}) and refuses it if the budget would be exceeded.
 * @param clipValue bound on every single value of a client's unweighted delta (clients clamp to
 *     {@code [−clipValue, clipValue]}); 0 = none; {@code >= 0}, finite. It sizes a compact round's
 *     modulus tighter than the clip norm alone.
 * @param maskScaleBits compact updates (fl-protocol {@code CompactRounds}): clients send each value
 *     as {@code round(2^maskScaleBits × value)} under one-polynomial RLWE masking, about 4–5 bytes
 *     per parameter instead of 16; 0 = every value CKKS-encrypted; otherwise in [1, 50]. The
 *     registry sizes the round's modulus from the bounds ({@code CompactRounds.modulusFor}).
 */
public record RoundOptions(
        double learningRate,
        int batchSize,
        double proximalMu,
        double samplingFraction,
        int minSampledClients,
        double noiseMultiplier,
        double clipValue,
        int maskScaleBits) {
    /** No round configuration (trainers' own settings, plain local training), no sampling, no noise. */
    public static final RoundOptions DEFAULT = new RoundOptions(0, 0, 0, 1.0, 0, 0, 0, 0);

    /** The scale compact rounds get when the coordinator names none: values carry 22 fractional bits. */
    public static final int DEFAULT_MASK_SCALE_BITS = 22;

    /**
     * Checks the ranges.
     *
     * @throws IllegalArgumentException naming the value out of range
     */
    public RoundOptions {
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException(
                    "learningRate must be >= 0 and finite (0 = the trainer's own), got " + learningRate);
        }
        if (batchSize < 0) {
            throw new IllegalArgumentException("batchSize must be >= 0 (0 = the trainer's own), got " + batchSize);
        }
        if (!(proximalMu >= 0) || Double.isInfinite(proximalMu)) {
            throw new IllegalArgumentException("proximalMu must be >= 0 and finite, got " + proximalMu);
        }
        if (!(samplingFraction > 0) || samplingFraction > 1) {
            throw new IllegalArgumentException("samplingFraction must be in (0, 1], got " + samplingFraction);
        }
        if (minSampledClients < 0) {
            throw new IllegalArgumentException("minSampledClients must be >= 0, got " + minSampledClients);
        }
        if (!(noiseMultiplier >= 0) || Double.isInfinite(noiseMultiplier)) {
            throw new IllegalArgumentException(
                    "noiseMultiplier must be >= 0 and finite (0 = no noise), got " + noiseMultiplier);
        }
        if (!(clipValue >= 0) || Double.isInfinite(clipValue)) {
            throw new IllegalArgumentException("clipValue must be >= 0 and finite (0 = none), got " + clipValue);
        }
        if (maskScaleBits < 0 || maskScaleBits > 50) {
            throw new IllegalArgumentException(
                    "maskScaleBits must be in [1, 50] (0 = not compact), got " + maskScaleBits);
        }
    }

    /** Options without a value clip or compact updates. */
    public RoundOptions(
            double learningRate,
            int batchSize,
            double proximalMu,
            double samplingFraction,
            int minSampledClients,
            double noiseMultiplier) {
        this(learningRate, batchSize, proximalMu, samplingFraction, minSampledClients, noiseMultiplier, 0, 0);
    }

    /** Options without distributed-DP noise. */
    public RoundOptions(
            double learningRate, int batchSize, double proximalMu, double samplingFraction, int minSampledClients) {
        this(learningRate, batchSize, proximalMu, samplingFraction, minSampledClients, 0);
    }

    /** With this bound on every single value of a delta (0 = none). */
    public RoundOptions withClipValue(double bound) {
        return new RoundOptions(
                learningRate,
                batchSize,
                proximalMu,
                samplingFraction,
                minSampledClients,
                noiseMultiplier,
                bound,
                maskScaleBits);
    }

    /** With compact updates at scale {@code 2^scaleBits} (0 = every value CKKS-encrypted). */
    public RoundOptions withCompactUpdates(int scaleBits) {
        return new RoundOptions(
                learningRate,
                batchSize,
                proximalMu,
                samplingFraction,
                minSampledClients,
                noiseMultiplier,
                clipValue,
                scaleBits);
    }

    /** True if the round's clients send compact (masked) updates. */
    public boolean compact() {
        return maskScaleBits > 0;
    }

    /** With this client learning rate (0 = the trainer's own). */
    public RoundOptions withLearningRate(double lr) {
        return new RoundOptions(
                lr,
                batchSize,
                proximalMu,
                samplingFraction,
                minSampledClients,
                noiseMultiplier,
                clipValue,
                maskScaleBits);
    }

    /** With this client batch size (0 = the trainer's own). */
    public RoundOptions withBatchSize(int size) {
        return new RoundOptions(
                learningRate,
                size,
                proximalMu,
                samplingFraction,
                minSampledClients,
                noiseMultiplier,
                clipValue,
                maskScaleBits);
    }

    /** With FedProx's μ (0 = off). */
    public RoundOptions withProximalMu(double mu) {
        return new RoundOptions(
                learningRate,
                batchSize,
                mu,
                samplingFraction,
                minSampledClients,
                noiseMultiplier,
                clipValue,
                maskScaleBits);
    }

    /** Sampling {@code fraction} of the enrolled clients, at least {@code minimum} of them. */
    public RoundOptions withSampling(double fraction, int minimum) {
        return new RoundOptions(
                learningRate, batchSize, proximalMu, fraction, minimum, noiseMultiplier, clipValue, maskScaleBits);
    }

    /** With distributed-DP noise multiplier z (0 = no noise). */
    public RoundOptions withNoiseMultiplier(double z) {
        return new RoundOptions(
                learningRate, batchSize, proximalMu, samplingFraction, minSampledClients, z, clipValue, maskScaleBits);
    }

    /** True if the round samples its clients (fraction below 1). */
    public boolean samples() {
        return samplingFraction < 1.0;
    }
}
