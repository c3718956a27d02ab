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
 */
public record RoundOptions(
        double learningRate,
        int batchSize,
        double proximalMu,
        double samplingFraction,
        int minSampledClients,
        double noiseMultiplier) {
    /** No round configuration (trainers' own settings, plain local training), no sampling, no noise. */
    public static final RoundOptions DEFAULT = new RoundOptions(0, 0, 0, 1.0, 0, 0);

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
    }

    /** Options without distributed-DP noise. */
    public RoundOptions(
            double learningRate, int batchSize, double proximalMu, double samplingFraction, int minSampledClients) {
        this(learningRate, batchSize, proximalMu, samplingFraction, minSampledClients, 0);
    }

    /** With this client learning rate (0 = the trainer's own). */
    public RoundOptions withLearningRate(double lr) {
        return new RoundOptions(lr, batchSize, proximalMu, samplingFraction, minSampledClients, noiseMultiplier);
    }

    /** With this client batch size (0 = the trainer's own). */
    public RoundOptions withBatchSize(int size) {
        return new RoundOptions(learningRate, size, proximalMu, samplingFraction, minSampledClients, noiseMultiplier);
    }

    /** With FedProx's μ (0 = off). */
    public RoundOptions withProximalMu(double mu) {
        return new RoundOptions(learningRate, batchSize, mu, samplingFraction, minSampledClients, noiseMultiplier);
    }

    /** Sampling {@code fraction} of the enrolled clients, at least {@code minimum} of them. */
    public RoundOptions withSampling(double fraction, int minimum) {
        return new RoundOptions(learningRate, batchSize, proximalMu, fraction, minimum, noiseMultiplier);
    }

    /** With distributed-DP noise multiplier z (0 = no noise). */
    public RoundOptions withNoiseMultiplier(double z) {
        return new RoundOptions(learningRate, batchSize, proximalMu, samplingFraction, minSampledClients, z);
    }

    /** True if the round samples its clients (fraction below 1). */
    public boolean samples() {
        return samplingFraction < 1.0;
    }
}
