package org.fedseal.client;

/**
 * Local training on the device's own data, in the shape of Flower's client {@code fit}: given the
 * base model's flat parameters, train for some epochs and return the delta, the sample count and
 * metrics.
 *
 * <p>An interface so that a trainer without native code (e.g. pure Java on Android) can replace
 * {@link DjlTrainer}. Implementations need not be thread-safe; a {@link FederatedClient} calls one
 * trainer from one thread at a time.
 */
public interface LocalTrainer extends AutoCloseable {
    /** Number of model parameters; the length of the vectors {@link #fit} takes and returns. */
    int parameterCount();

    /** Number of local training samples (the FedAvg weight). */
    long sampleCount();

    /**
     * Trains from {@code baseParameters} for {@code epochs} epochs over the local data.
     *
     * @param baseParameters flat base parameters, length {@link #parameterCount()}; not modified
     * @param epochs number of local epochs, {@code >= 1}
     * @return the delta (trained minus base), weight {@link #sampleCount()}, and metrics
     */
    LocalUpdate fit(float[] baseParameters, int epochs);

    /**
     * Trains from {@code baseParameters} as a round asks ({@link RoundConfig}: local epochs and,
     * when non-zero, learning rate, batch size and the FedProx proximal coefficient μ). This is
     * what {@link FederatedClient} and {@link HttpParticipant} call.
     *
     * <p>The default delegates to {@link #fit(float[], int)} with {@code config.localEpochs()} and
     * ignores the rest, so trainers written before round configuration existed keep working;
     * {@link DjlTrainer} and {@link JavaMlpTrainer} override it and honour every field.
     *
     * @param baseParameters flat base parameters, length {@link #parameterCount()}; not modified
     * @param config the round's configuration
     * @return the delta (trained minus base), weight {@link #sampleCount()}, and metrics
     */
    default LocalUpdate fit(float[] baseParameters, RoundConfig config) {
        return fit(baseParameters, config.localEpochs());
    }

    /**
     * Evaluates {@code parameters} on the local data, for a federated evaluation round (Flower's
     * client {@code evaluate}): the number of examples, how many were predicted correctly and the
     * summed loss.
     *
     * @param parameters flat model parameters, length {@link #parameterCount()}; not modified
     * @return the local sums
     * @throws UnsupportedOperationException if this trainer cannot evaluate (the default)
     */
    default LocalEvaluation evaluate(float[] parameters) {
        throw new UnsupportedOperationException(getClass().getName() + " does not implement LocalTrainer.evaluate: "
                + "it cannot take part in federated evaluation rounds");
    }

    /** Releases resources; the default does nothing. */
    @Override
    default void close() {}
}
