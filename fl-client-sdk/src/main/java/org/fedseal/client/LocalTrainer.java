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

    /** Releases resources; the default does nothing. */
    @Override
    default void close() {}
}
