package org.fedseal.client;

import java.nio.ByteBuffer;
import java.util.Objects;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.NonFiniteValueException;
import org.fedseal.protocol.wire.ModelVersionPublished;

/**
 * A model version as a client receives it: the signed-or-not {@link ModelVersionPublished} record and
 * the flat parameters it describes. {@link #verify(Hash)} checks that the record's version hash is
 * the one expected, that it is the record's true {@link CanonicalHash#versionHash version hash}, and
 * that the parameters hash to its {@code weightsHash} (via {@link ModelWeights}) and are finite.
 *
 * @param version the version record
 * @param parameters flat parameters
 */
public record BaseModel(ModelVersionPublished version, float[] parameters) {
    /** Checks for nulls. */
    public BaseModel {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(parameters, "parameters");
    }

    /** The version hash the record claims. */
    public Hash versionHash() {
        return Hash.of(version.getVersionHash());
    }

    /** The model id. */
    public String modelId() {
        return version.getModelId();
    }

    /**
     * Checks this model against the version hash a round names.
     *
     * @throws SubmissionException with {@link SubmissionException.Reason#WRONG_BASE_MODEL} on any mismatch
     */
    public void verify(Hash expectedVersionHash) throws SubmissionException {
        Objects.requireNonNull(expectedVersionHash, "expectedVersionHash");
        Hash claimed;
        try {
            claimed = versionHash();
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_BASE_MODEL, "base model record has no valid versionHash", e);
        }
        if (!claimed.equals(expectedVersionHash)) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_BASE_MODEL,
                    "base model is version " + claimed + " but the round trains from " + expectedVersionHash);
        }
        Hash actual = CanonicalHash.versionHash(version);
        if (!actual.equals(claimed)) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_BASE_MODEL,
                    "base model record hashes to " + actual + ", not to its claimed version hash " + claimed);
        }
        Hash weights = ModelWeights.hash(parameters);
        if (!weights.matches(version.getWeightsHash())) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_BASE_MODEL,
                    "base model parameters hash to " + weights + ", not to the version's weightsHash");
        }
        try {
            ModelWeights.requireFinite(parameters, "base model");
        } catch (NonFiniteValueException e) {
            throw new SubmissionException(SubmissionException.Reason.WRONG_BASE_MODEL, e.getMessage(), e);
        }
    }

    /**
     * Builds a version record for {@code parameters} with its version hash filled in (signature empty).
     *
     * @param parentHash version hash of the parent, or {@code null} for a first version
     * @param aggregateHash canonical hash of the aggregate, or {@code null} for a first version
     * @param acceptedUpdateRoot Merkle root of accepted updates, or {@code null} for a first version
     */
    public static BaseModel create(
            String modelId,
            int round,
            float[] parameters,
            Hash parentHash,
            Hash aggregateHash,
            Hash acceptedUpdateRoot,
            long publishedAtEpochMillis) {
        ModelVersionPublished v = ModelVersionPublished.newBuilder()
                .setModelId(modelId)
                .setVersionHash(ByteBuffer.allocate(0))
                .setParentHash(bytesOrEmpty(parentHash))
                .setAggregateHash(bytesOrEmpty(aggregateHash))
                .setAcceptedUpdateRoot(bytesOrEmpty(acceptedUpdateRoot))
                .setRound(round)
                .setWeightsHash(ModelWeights.hash(parameters).toByteBuffer())
                .setPublishedAtEpochMillis(publishedAtEpochMillis)
                .setSignature(ByteBuffer.allocate(0))
                .build();
        v.setVersionHash(CanonicalHash.versionHash(v).toByteBuffer());
        return new BaseModel(v, parameters.clone());
    }

    /** A first version (no parent, aggregate or updates). */
    public static BaseModel initial(String modelId, float[] parameters, long publishedAtEpochMillis) {
        return create(modelId, 0, parameters, null, null, null, publishedAtEpochMillis);
    }

    private static ByteBuffer bytesOrEmpty(Hash h) {
        return h == null ? ByteBuffer.allocate(0) : h.toByteBuffer();
    }

    @Override
    public String toString() {
        return "BaseModel[" + version.getModelId() + "@" + versionHash() + ", " + parameters.length + " values]";
    }
}
