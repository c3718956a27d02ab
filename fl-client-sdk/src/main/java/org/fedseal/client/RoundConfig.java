package org.fedseal.client;

import org.fedseal.protocol.wire.RoundOpened;

/**
 * What a round asks of local training, as the coordinator set it in the round's
 * {@link RoundOpened} (Flower's {@code configure_fit} config): the number of local epochs and,
 * where non-zero, the learning rate, the minibatch size and the FedProx proximal coefficient.
 * A zero learning rate or batch size means "the trainer's own".
 *
 * @param localEpochs local epochs, {@code >= 1}
 * @param learningRate the client learning rate for this round, or 0 for the trainer's own; {@code >= 0}, finite
 * @param batchSize the minibatch size for this round, or 0 for the trainer's own; {@code >= 0}
 * @param proximalMu FedProx's μ (Li et al., "Federated Optimization in Heterogeneous Networks",
 *     MLSys 2020): the client minimises {@code loss(w) + μ/2·‖w − w_base‖²}; 0 is plain local
 *     training (FedAvg); {@code >= 0}, finite
 */
public record RoundConfig(int localEpochs, double learningRate, int batchSize, double proximalMu) {
    /**
     * Checks the ranges.
     *
     * @throws IllegalArgumentException naming the value out of range
     */
    public RoundConfig {
        if (localEpochs < 1) {
            throw new IllegalArgumentException("localEpochs must be >= 1, got " + localEpochs);
        }
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
    }

    /** {@code localEpochs} epochs with the trainer's own learning rate and batch size, no proximal term. */
    public static RoundConfig epochs(int localEpochs) {
        return new RoundConfig(localEpochs, 0, 0, 0);
    }

    /**
     * The configuration a round asks for: its {@code localEpochs} (at least 1; records written before
     * the field existed read as 1), {@code learningRate}, {@code batchSize} and {@code proximalMu}.
     *
     * @throws IllegalArgumentException if the round's values are out of range (negative, NaN, infinite)
     */
    public static RoundConfig of(RoundOpened round) {
        return new RoundConfig(
                Math.max(1, round.getLocalEpochs()),
                round.getLearningRate(),
                round.getBatchSize(),
                round.getProximalMu());
    }

    /** This configuration with another proximal coefficient (e.g. to compare FedProx with FedAvg locally). */
    public RoundConfig withProximalMu(double mu) {
        return new RoundConfig(localEpochs, learningRate, batchSize, mu);
    }

    /** {@code learningRate} if set (> 0), else {@code own}. */
    public double learningRateOr(double own) {
        return learningRate > 0 ? learningRate : own;
    }

    /** {@code batchSize} if set (> 0), else {@code own}. */
    public int batchSizeOr(int own) {
        return batchSize > 0 ? batchSize : own;
    }
}
