package org.fedseal.aggregator.internal;

import org.apache.flink.api.java.functions.KeySelector;

/** Keys the stateful stage by model id ("" for records whose model is unknown). */
public final class ModelKeySelector implements KeySelector<Inbound, String> {
    private static final long serialVersionUID = 1L;

    @Override
    public String getKey(Inbound value) {
        return value.modelId == null ? "" : value.modelId;
    }
}
