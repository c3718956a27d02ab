package org.fedseal.it;

import java.util.Map;
import org.fedseal.client.LocalTrainer;
import org.fedseal.client.LocalUpdate;

/**
 * A trainer whose update is given: for the fault tests, where the expected sum must be known
 * exactly and training itself is not under test (the DJL path is covered by the FedAvg and
 * accuracy tests).
 */
final class FixedDeltaTrainer implements LocalTrainer {
    private final float[] delta;
    private final long weight;

    FixedDeltaTrainer(float[] delta, long weight) {
        this.delta = delta.clone();
        this.weight = weight;
    }

    @Override
    public int parameterCount() {
        return delta.length;
    }

    @Override
    public long sampleCount() {
        return weight;
    }

    @Override
    public LocalUpdate fit(float[] base, int epochs) {
        return new LocalUpdate(delta.clone(), weight, Map.of());
    }
}
