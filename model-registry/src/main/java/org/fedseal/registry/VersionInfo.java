package org.fedseal.registry;

/**
 * One model version with its lineage links. Hashes are lower-case hex; empty links are null.
 *
 * @param versionHash the version hash (commits to everything below)
 * @param modelId the model
 * @param sequence 0 for the registered version, then 1, 2, ...
 * @param parentHash parent version, null for version 0
 * @param round the round whose aggregate produced it (0 for version 0)
 * @param aggregateHash canonical hash of that round's AggregatePublished, null for version 0
 * @param acceptedUpdateRoot Merkle root of the accepted update hashes, null for version 0
 * @param weightsHash SHA-256 of the weights bytes
 * @param publisherId client id of the key holder that published it ("registry" for version 0)
 * @param accuracy accuracy reported by the key holder, or null
 * @param publishedAtEpochMillis publication time
 */
public record VersionInfo(String versionHash, String modelId, int sequence, String parentHash, int round,
        String aggregateHash, String acceptedUpdateRoot, String weightsHash, String publisherId, Double accuracy,
        long publishedAtEpochMillis) {
    /** Publisher id of version 0, which the registry signs with its log key. */
    public static final String REGISTRY_PUBLISHER = "registry";
}
