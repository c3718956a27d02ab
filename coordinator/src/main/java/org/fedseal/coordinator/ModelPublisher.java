package org.fedseal.coordinator;

import org.fedseal.client.BaseModel;
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
}
