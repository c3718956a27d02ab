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
 * @param federated the newest federated evaluation of this version (an evaluation round's decrypted,
 *     example-weighted accuracy and loss over the clients' own data, with its participants), or null
 * @param epsilon the differential-privacy ε the model has spent up to and including this version (at
 *     the model's δ; fl-protocol {@code PrivacyAccountant} over its rounds), 0 for version 0 of a model
 *     with a privacy budget, null for a model without one
 * @param strategy the server strategy that made this version from its parent, with its
 *     hyperparameters (e.g. {@code FedAdam{beta1=0.9, ...}}; fl-protocol {@code Strategy}); null for
 *     version 0
 */
public record VersionInfo(
        String versionHash,
        String modelId,
        int sequence,
        String parentHash,
        int round,
        String aggregateHash,
        String acceptedUpdateRoot,
        String weightsHash,
        String publisherId,
        Double accuracy,
        long publishedAtEpochMillis,
        FederatedEvaluationInfo federated,
        Double epsilon,
        String strategy) {
    /** Publisher id of version 0, which the registry signs with its log key. */
    public static final String REGISTRY_PUBLISHER = "registry";

    /** A version without federated metrics. */
    public VersionInfo(
            String versionHash,
            String modelId,
            int sequence,
            String parentHash,
            int round,
            String aggregateHash,
            String acceptedUpdateRoot,
            String weightsHash,
            String publisherId,
            Double accuracy,
            long publishedAtEpochMillis) {
        this(
                versionHash,
                modelId,
                sequence,
                parentHash,
                round,
                aggregateHash,
                acceptedUpdateRoot,
                weightsHash,
                publisherId,
                accuracy,
                publishedAtEpochMillis,
                null,
                null,
                null);
    }

    /** A version without a privacy account. */
    public VersionInfo(
            String versionHash,
            String modelId,
            int sequence,
            String parentHash,
            int round,
            String aggregateHash,
            String acceptedUpdateRoot,
            String weightsHash,
            String publisherId,
            Double accuracy,
            long publishedAtEpochMillis,
            FederatedEvaluationInfo federated) {
        this(
                versionHash,
                modelId,
                sequence,
                parentHash,
                round,
                aggregateHash,
                acceptedUpdateRoot,
                weightsHash,
                publisherId,
                accuracy,
                publishedAtEpochMillis,
                federated,
                null,
                null);
    }

    /** This version with {@code spent} as its ε. */
    public VersionInfo withEpsilon(Double spent) {
        return new VersionInfo(
                versionHash,
                modelId,
                sequence,
                parentHash,
                round,
                aggregateHash,
                acceptedUpdateRoot,
                weightsHash,
                publisherId,
                accuracy,
                publishedAtEpochMillis,
                federated,
                spent,
                strategy);
    }

    /** This version with {@code evaluation} as its newest federated evaluation. */
    public VersionInfo withFederated(FederatedEvaluationInfo evaluation) {
        return new VersionInfo(
                versionHash,
                modelId,
                sequence,
                parentHash,
                round,
                aggregateHash,
                acceptedUpdateRoot,
                weightsHash,
                publisherId,
                accuracy,
                publishedAtEpochMillis,
                evaluation,
                epsilon,
                strategy);
    }

    /** This version with {@code name} as its strategy. */
    public VersionInfo withStrategy(String name) {
        return new VersionInfo(
                versionHash,
                modelId,
                sequence,
                parentHash,
                round,
                aggregateHash,
                acceptedUpdateRoot,
                weightsHash,
                publisherId,
                accuracy,
                publishedAtEpochMillis,
                federated,
                epsilon,
                name);
    }
}
