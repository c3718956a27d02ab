package org.fedseal.registry;

import java.util.List;
import java.util.Map;

/**
 * A threshold key ceremony as the registry has seen it. Hashes are lower-case hex.
 *
 * @param ceremonyId the ceremony's id
 * @param modelId the model it makes the collective key of
 * @param heParamsId the threshold parameter set
 * @param holderIds the n key holders, in the order the opening record names them
 * @param status {@code open}, {@code completed} or {@code failed}
 * @param recordHash CanonicalHash of the signed KeyCeremonyOpened record
 * @param publicKeyHash SHA-256 of the collective public key once completed, else null
 * @param sent for each phase, the holders whose message of it was accepted
 * @param rejections messages that were not accepted, with their reasons
 * @param failure why the ceremony failed, or null
 * @param openedAtEpochMillis when it was opened
 * @param completedAtEpochMillis when it completed, or null
 */
public record CeremonyInfo(
        String ceremonyId,
        String modelId,
        String heParamsId,
        List<String> holderIds,
        String status,
        String recordHash,
        String publicKeyHash,
        Map<String, List<String>> sent,
        List<Rejection> rejections,
        String failure,
        long openedAtEpochMillis,
        Long completedAtEpochMillis) {

    /** A ceremony message the registry did not accept. */
    public record Rejection(String holderId, String phase, String reason, String detail, long atEpochMillis) {}
}
