package org.fedseal.client;

import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import org.fedseal.client.internal.CompactEncryption;
import org.fedseal.protocol.ClientSampling;
import org.fedseal.protocol.CompactRounds;
import org.fedseal.protocol.FederatedEvaluation;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * What every client pipeline (Kafka's {@link FederatedClient}, HTTP's {@link HttpParticipant})
 * checks and derives from a round before it trains or evaluates. Free of Kafka types: Android
 * loads it.
 */
final class RoundRules {
    private RoundRules() {}

    /** NOT_SAMPLED if the round names a sample without this client (fl-protocol {@code ClientSampling}). */
    static void checkSampled(RoundOpened round, String clientId) throws SubmissionException {
        if (!ClientSampling.admits(round, clientId)) {
            throw new SubmissionException(
                    SubmissionException.Reason.NOT_SAMPLED,
                    "client " + clientId + " is not among the "
                            + round.getSampledClients().size() + " clients sampled for round " + round.getModelId()
                            + "/" + round.getRound());
        }
    }

    /**
     * The update's entries for {@code UpdateChunk.ciphertexts}: every value CKKS-encrypted, or in a
     * compact round (fl-protocol {@code CompactRounds}) masked blocks plus the update's masking key
     * under the same public key.
     *
     * @throws SubmissionException INVALID_UPDATE if encryption fails
     */
    static List<byte[]> encrypt(UpdateEncryptor encryptor, float[] weighted, RoundOpened round, SecureRandom random)
            throws SubmissionException {
        try {
            if (CompactRounds.isCompact(round)) {
                return CompactEncryption.encrypt(
                        weighted, round, random, key -> encryptor.encrypt(key, CompactEncryption.keyLayout()));
            }
            return encryptor.encrypt(weighted, round.getChunkLayout());
        } catch (RuntimeException e) {
            // the policy keeps values inside the headroom; anything the HE library still refuses is reported, not
            // thrown unchecked
            throw new SubmissionException(
                    SubmissionException.Reason.INVALID_UPDATE, "encryption failed: " + e.getMessage(), e);
        }
    }

    /** The round's training configuration; BAD_ROUND_CONFIG if out of range. */
    static RoundConfig roundConfig(RoundOpened round) throws SubmissionException {
        try {
            return RoundConfig.of(round);
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(
                    SubmissionException.Reason.BAD_ROUND_CONFIG,
                    "round " + round.getModelId() + "/" + round.getRound() + ": " + e.getMessage(),
                    e);
        }
    }

    /** The (unbound) update an evaluation round sends for {@code e}; HEADROOM_EXCEEDED if its loss is above the round's bound. */
    static LocalUpdate evaluationUpdate(RoundOpened round, LocalEvaluation e) throws SubmissionException {
        float[] vector = FederatedEvaluation.encode(e.examples(), e.correct(), e.lossSum());
        checkEvaluationFits(round, vector, e.meanLoss());
        Map<String, Double> metrics = new java.util.LinkedHashMap<>();
        metrics.put("examples", (double) e.examples());
        metrics.put(LocalUpdate.METRIC_LOSS, e.meanLoss());
        if (e.accuracy() != null) {
            metrics.put(LocalUpdate.METRIC_ACCURACY, e.accuracy());
        }
        return new LocalUpdate(vector, e.examples(), metrics);
    }

    /** An evaluation vector beyond the clip norm would be scaled silently, corrupting the round's metrics: refuse instead. */
    static void checkEvaluationFits(RoundOpened round, float[] vector, double meanLoss) throws SubmissionException {
        double norm = FederatedEvaluation.norm(vector);
        if (!(norm <= round.getClipNorm())
                || !(vector.length > 2 && vector[2] <= FederatedEvaluation.lossBound(round))) {
            throw new SubmissionException(
                    SubmissionException.Reason.HEADROOM_EXCEEDED,
                    "local mean loss " + meanLoss
                            + " is above the evaluation round's loss bound " + FederatedEvaluation.lossBound(round)
                            + " (its vector's norm " + norm + " exceeds the clip norm " + round.getClipNorm()
                            + "): not taking part rather than sending clipped, wrong metrics");
        }
    }
}
