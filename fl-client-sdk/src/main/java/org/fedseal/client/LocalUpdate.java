package org.fedseal.client;

import java.util.Map;
import java.util.Objects;
import org.fedseal.protocol.Hash;

/**
 * The result of local training, Flower's {@code (parameters, num_examples, metrics)}: the plaintext
 * delta {@code new - base}, the FedAvg weight (number of local samples) and training metrics.
 *
 * <p>{@link #baseModelHash()} names the model version the delta was computed from; a
 * {@link LocalTrainer} leaves it {@code null} and {@link FederatedClient#trainOnce} binds it, so
 * that {@link FederatedClient#submit} can refuse an update trained on the wrong base.
 *
 * <p>The delta is plaintext: it never leaves the device unencrypted.
 *
 * @param delta new parameters minus base parameters, flat, in the trainer's parameter order
 * @param weight number of local training samples, {@code >= 1}
 * @param metrics training metrics, e.g. {@code loss}, {@code accuracy}
 * @param baseModelHash version hash of the base model, or {@code null} if not yet bound
 */
public record LocalUpdate(float[] delta, long weight, Map<String, Double> metrics, Hash baseModelHash) {
    /** Standard metric name: mean training loss of the last epoch. */
    public static final String METRIC_LOSS = "loss";
    /** Standard metric name: training accuracy of the last epoch. */
    public static final String METRIC_ACCURACY = "accuracy";

    /** Checks the fields. */
    public LocalUpdate {
        Objects.requireNonNull(delta, "delta");
        metrics = Map.copyOf(Objects.requireNonNull(metrics, "metrics"));
        if (weight < 1) {
            throw new IllegalArgumentException("weight must be >= 1 (number of local samples), got " + weight);
        }
    }

    /** An update not yet bound to a base model. */
    public LocalUpdate(float[] delta, long weight, Map<String, Double> metrics) {
        this(delta, weight, metrics, null);
    }

    /** This update bound to the base model {@code hash}. */
    public LocalUpdate withBaseModelHash(Hash hash) {
        return new LocalUpdate(delta, weight, metrics, Objects.requireNonNull(hash, "hash"));
    }

    @Override
    public String toString() {
        return "LocalUpdate[values=" + delta.length + ", weight=" + weight + ", metrics=" + metrics + ", base="
                + baseModelHash + "]";
    }
}
