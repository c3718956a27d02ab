package org.fedseal.registry;

/**
 * A registered model as served by the registry. Hashes are lower-case hex.
 *
 * @param modelId the model's id
 * @param architecture free-form architecture description
 * @param heParamsId CKKS parameter set id (he-native)
 * @param parameterCount number of float32 weights
 * @param hePublicKeyHash hash of the stored HE public key, or null if none yet
 * @param keyHolderId client id allowed to publish versions, or null for any enrolled client
 * @param latestVersionHash hash of the newest version
 * @param versionCount number of versions (including version 0)
 * @param roundCount number of rounds opened
 * @param createdAtEpochMillis registration time
 * @param ceremonyId the key ceremony of a threshold model (its newest), or null for a single key holder
 * @param layoutHash SHA-256 of the model's layout (fl-protocol {@code ModelLayouts.encode}: tensor names and
 *     shapes for export), or null if it was registered without one
 * @param epsilonBudget the differential-privacy budget ε the model was registered with, or null for none;
 *     the registry refuses any round that would spend more, and any round without noise
 * @param delta the δ at which ε is accounted, or null without a budget
 * @param epsilonSpent ε spent up to the latest version (its {@link VersionInfo#epsilon()}), or null
 *     without a budget
 */
public record ModelInfo(
        String modelId,
        String architecture,
        String heParamsId,
        long parameterCount,
        String hePublicKeyHash,
        String keyHolderId,
        String latestVersionHash,
        int versionCount,
        int roundCount,
        long createdAtEpochMillis,
        String ceremonyId,
        String layoutHash,
        Double epsilonBudget,
        Double delta,
        Double epsilonSpent) {
    /** A model without a privacy budget. */
    public ModelInfo(
            String modelId,
            String architecture,
            String heParamsId,
            long parameterCount,
            String hePublicKeyHash,
            String keyHolderId,
            String latestVersionHash,
            int versionCount,
            int roundCount,
            long createdAtEpochMillis,
            String ceremonyId,
            String layoutHash) {
        this(
                modelId,
                architecture,
                heParamsId,
                parameterCount,
                hePublicKeyHash,
                keyHolderId,
                latestVersionHash,
                versionCount,
                roundCount,
                createdAtEpochMillis,
                ceremonyId,
                layoutHash,
                null,
                null,
                null);
    }
}
