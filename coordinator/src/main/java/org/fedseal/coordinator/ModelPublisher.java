package org.fedseal.coordinator;

import org.fedseal.client.BaseModel;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.wire.AggregatePublished;

/**
 * Receives the new model version a {@link KeyHolder} computed from an aggregate; the registry client
 * will implement it (publishing a signed {@code ModelVersionPublished}).
 */
@FunctionalInterface
public interface ModelPublisher {
    /**
     * Publishes a new version.
     *
     * @param base the version the round trained from
     * @param aggregate the decrypted aggregate
     * @param newParameters base + weighted mean delta
     */
    void publish(BaseModel base, AggregatePublished aggregate, float[] newParameters);

    /**
     * Publishes a version a server {@link Strategy} made: its weights, the strategy (the record's
     * {@code strategy}) and its state after the step ({@code optimizerStateHash}, the state stored
     * with the version). The default handles plain FedAvg only, by {@link #publish(BaseModel,
     * AggregatePublished, float[])}.
     *
     * @throws UnsupportedOperationException in the default, for any strategy but plain FedAvg
     */
    default void publish(BaseModel base, AggregatePublished aggregate, Strategy strategy, Strategy.Step step) {
        if (strategy.toRecordSpec() != null || !step.state().isEmpty()) {
            throw new UnsupportedOperationException(
                    getClass().getName() + " publishes plain FedAvg versions only, not " + strategy);
        }
        publish(base, aggregate, step.weights());
    }
}
