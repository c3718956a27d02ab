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
 * @param clipNorm the L2 bound C clients clip their deltas to (fl-protocol's {@code RoundBounds}); 0 for rounds opened before 0.2
 * @param maxUpdateWeight largest weight one update may declare
 * @param maxTotalWeight largest total weight of the round's accepted updates
 * @param sumNormBound the parameter set's headroom: clipNorm × maxTotalWeight never exceeds it
 * @param learningRate the clients' learning rate for the round, 0 = each trainer's own
 * @param batchSize the clients' minibatch size, 0 = each trainer's own
 * @param proximalMu FedProx's μ, 0 = plain local training
 * @param samplingFraction fraction of the enrolled clients sampled; 1 = no sampling
 * @param minSampledClients lower bound of the sample size
 * @param sampledClients the sampled client ids, sorted (fl-protocol {@code ClientSampling}); empty when every enrolled client may submit
 */
public record RoundInfo(
        String modelId,
        int round,
        String status,
        int quorum,
        long deadlineEpochMillis,
        int localEpochs,
        String baseModelHash,
        String publicKeyHash,
        long openedAtEpochMillis,
        Long closedAtEpochMillis,
        Long latencyMillis,
        int acceptedCount,
        int rejectedCount,
        List<String> participants,
        String aggregateHash,
        boolean published,
        double clipNorm,
        long maxUpdateWeight,
        long maxTotalWeight,
        double sumNormBound,
        double learningRate,
        int batchSize,
        double proximalMu,
        double samplingFraction,
        int minSampledClients,
        List<String> sampledClients) {}
