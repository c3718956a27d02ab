package org.fedseal.registry;

import java.util.List;

/**
 * Status of a training round.
 *
 * @param modelId the model
 * @param round round number (1, 2, ...)
 * @param status {@code open}, {@code closed} (aggregate published) or {@code failed} (below quorum or expired)
 * @param quorum minimum accepted updates
 * @param deadlineEpochMillis deadline
 * @param localEpochs local epochs clients train
 * @param baseModelHash version clients train from (hex)
 * @param publicKeyHash HE public key clients encrypt with (hex)
 * @param openedAtEpochMillis when opened
 * @param closedAtEpochMillis when closed, or null
 * @param latencyMillis closed minus opened, or null while open
 * @param acceptedCount accepted updates so far
 * @param rejectedCount rejected records so far
 * @param participants client ids of accepted updates, sorted
 * @param aggregateHash canonical hash of the aggregate (hex) once published, else null
 * @param published true if the RoundOpened record reached Kafka (false when Kafka is disabled or failed)
 */
public record RoundInfo(String modelId, int round, String status, int quorum, long deadlineEpochMillis,
        int localEpochs, String baseModelHash, String publicKeyHash, long openedAtEpochMillis,
        Long closedAtEpochMillis, Long latencyMillis, int acceptedCount, int rejectedCount,
        List<String> participants, String aggregateHash, boolean published) {}
