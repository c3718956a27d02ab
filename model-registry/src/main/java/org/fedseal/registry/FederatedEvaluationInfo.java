package org.fedseal.registry;

import java.util.List;

/**
 * The federated metrics of one evaluation round of a model version (fl-protocol's
 * {@code FederatedEvaluation}): what the key holder (or the threshold combiner) decrypted from the
 * round's aggregate of the clients' encrypted evaluation sums. Hashes are lower-case hex.
 *
 * @param modelId the model
 * @param round the evaluation round ({@code RoundOpened.task = EVALUATE})
 * @param versionHash the version evaluated (the round's base model)
 * @param aggregateHash canonical hash of the round's aggregate the metrics were decrypted from
 * @param examples total examples evaluated (the aggregate's total weight)
 * @param accuracy example-weighted mean of the clients' local accuracies, in [0, 1]; null for a model without one
 * @param loss example-weighted mean of the clients' local losses
 * @param participants the client ids the aggregate accepted, sorted
 * @param recordedBy who posted the metrics (the key holder or combiner id)
 * @param recordedAtEpochMillis when the registry stored them
 */
public record FederatedEvaluationInfo(
        String modelId,
        int round,
        String versionHash,
        String aggregateHash,
        long examples,
        Double accuracy,
        double loss,
        List<String> participants,
        String recordedBy,
        long recordedAtEpochMillis) {}
