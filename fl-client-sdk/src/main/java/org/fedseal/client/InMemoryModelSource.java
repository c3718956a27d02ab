package org.fedseal.client;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.fedseal.protocol.Hash;

/**
 * A {@link ModelSource} backed by maps, for tests and the coordinator's {@code Simulation}. Models are found by
 * their claimed version hash and keys by their SHA-256 (or by the hash they were put under, which
 * lets tests serve a wrong key). Thread-safe.
 */
public final class InMemoryModelSource implements ModelSource {
    private final Map<String, BaseModel> models = new ConcurrentHashMap<>();
    private final Map<Hash, byte[]> keys = new ConcurrentHashMap<>();

    /** Creates an empty source. */
    public InMemoryModelSource() {}

    /** Adds a model version under its claimed version hash. */
    public InMemoryModelSource putModel(BaseModel model) {
        models.put(model.modelId() + "@" + model.versionHash(), model);
        return this;
    }

    /** Adds a model under an arbitrary hash (tests of a lying source). */
    public InMemoryModelSource putModel(Hash versionHash, BaseModel model) {
        models.put(model.modelId() + "@" + versionHash, model);
        return this;
    }

    /** Adds a public key under its SHA-256. */
    public InMemoryModelSource putPublicKey(byte[] publicKey) {
        return putPublicKey(Hash.sha256(publicKey), publicKey);
    }

    /** Adds a public key under an arbitrary hash (tests of a lying source). */
    public InMemoryModelSource putPublicKey(Hash hash, byte[] publicKey) {
        keys.put(Objects.requireNonNull(hash, "hash"), publicKey.clone());
        return this;
    }

    @Override
    public BaseModel baseModel(String modelId, Hash versionHash) throws SubmissionException {
        BaseModel m = models.get(modelId + "@" + versionHash);
        if (m == null) {
            throw new SubmissionException(
                    SubmissionException.Reason.SOURCE_UNAVAILABLE, "no model " + modelId + "@" + versionHash);
        }
        return m;
    }

    @Override
    public byte[] publicKey(String heParamsId, Hash publicKeyHash) throws SubmissionException {
        byte[] k = keys.get(publicKeyHash);
        if (k == null) {
            throw new SubmissionException(
                    SubmissionException.Reason.SOURCE_UNAVAILABLE, "no public key " + publicKeyHash);
        }
        return k.clone();
    }
}
