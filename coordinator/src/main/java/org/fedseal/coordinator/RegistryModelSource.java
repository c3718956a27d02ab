package org.fedseal.coordinator;

import org.fedseal.client.BaseModel;
import org.fedseal.client.ModelSource;
import org.fedseal.client.SubmissionException;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.registry.RegistryClient;

/**
 * The SDK's {@link ModelSource} over the registry's HTTP API. Untrusted by design: the client
 * checks every hash the round names against what this returns.
 */
public final class RegistryModelSource implements ModelSource {
    private final RegistryClient registry;

    /** @param registry a (read-only is enough) registry client */
    public RegistryModelSource(RegistryClient registry) {
        this.registry = registry;
    }

    @Override
    public BaseModel baseModel(String modelId, Hash versionHash) throws SubmissionException {
        try {
            float[] weights = ModelWeights.decode(registry.weights(versionHash));
            return new BaseModel(registry.versionRecord(versionHash), weights);
        } catch (RuntimeException e) {
            throw new SubmissionException(
                    SubmissionException.Reason.SOURCE_UNAVAILABLE,
                    "cannot fetch version " + versionHash + " of " + modelId + " from " + registry.baseUri() + ": "
                            + e.getMessage(),
                    e);
        }
    }

    @Override
    public byte[] publicKey(String heParamsId, Hash publicKeyHash) throws SubmissionException {
        try {
            return registry.hePublicKey(publicKeyHash);
        } catch (RuntimeException e) {
            throw new SubmissionException(
                    SubmissionException.Reason.SOURCE_UNAVAILABLE,
                    "cannot fetch HE public key " + publicKeyHash + " from " + registry.baseUri() + ": "
                            + e.getMessage(),
                    e);
        }
    }
}
