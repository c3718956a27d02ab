package org.fedseal.client;

import org.fedseal.protocol.Hash;

/**
 * Where a client gets the material a round names: the base model version and the HE public key.
 * The model registry's client will implement it; {@link InMemoryModelSource} serves tests and the
 * coordinator's {@code Simulation}. The client verifies whatever it returns against the round's hashes, so an
 * implementation need not be trusted.
 */
public interface ModelSource {
    /**
     * The model version with this version hash.
     *
     * @throws SubmissionException {@link SubmissionException.Reason#SOURCE_UNAVAILABLE} if it cannot be fetched
     */
    BaseModel baseModel(String modelId, Hash versionHash) throws SubmissionException;

    /**
     * The serialized HE public key ({@code HePublicKey.toBytes()}) with this SHA-256.
     *
     * @throws SubmissionException {@link SubmissionException.Reason#SOURCE_UNAVAILABLE} if it cannot be fetched
     */
    byte[] publicKey(String heParamsId, Hash publicKeyHash) throws SubmissionException;

    /**
     * The public key {@code keyHash} names, fetched with {@link #publicKey} and checked against the
     * hash, so that no client ever encrypts under a key the round did not announce.
     *
     * @throws SubmissionException {@link SubmissionException.Reason#WRONG_PUBLIC_KEY} if the bytes served do not hash to it
     */
    default byte[] verifiedPublicKey(String heParamsId, Hash keyHash) throws SubmissionException {
        byte[] pk = publicKey(heParamsId, keyHash);
        Hash actual = Hash.sha256(pk);
        if (!actual.equals(keyHash)) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_PUBLIC_KEY,
                    "the public key served hashes to " + actual + ", the round names " + keyHash);
        }
        return pk;
    }
}
