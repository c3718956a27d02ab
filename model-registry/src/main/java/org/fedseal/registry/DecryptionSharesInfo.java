package org.fedseal.registry;

/**
 * One threshold key holder's decryption shares of an aggregate, as logged by the registry.
 *
 * @param recordHash CanonicalHash of the DecryptionSharesPublished record (its blob address)
 * @param modelId the model
 * @param round the round whose aggregate the shares decrypt
 * @param ceremonyId the key ceremony whose secret share made them
 * @param holderId the key holder
 * @param aggregateHash CanonicalHash of the aggregate
 */
public record DecryptionSharesInfo(
        String recordHash, String modelId, int round, String ceremonyId, String holderId, String aggregateHash) {}
