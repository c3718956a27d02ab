package org.fedseal.protocol;

/**
 * Default Kafka topic names (every deployment may configure its own) and the record each carries as
 * its value (Avro binary via {@link WireCodec}).
 */
public final class Topics {
    /** {@link org.fedseal.protocol.wire.RoundOpened}, key: {@code modelId/round}. */
    public static final String ROUNDS = "fedseal.rounds";
    /** {@link org.fedseal.protocol.wire.UpdateEnvelope} (chunk or commit), key: {@link UpdateKey}. */
    public static final String UPDATES = "fedseal.updates";
    /** {@link org.fedseal.protocol.wire.AggregatePublished} (the signed manifest), key: {@code modelId/round}. */
    public static final String AGGREGATES = "fedseal.aggregates";
    /** {@link org.fedseal.protocol.wire.AggregateChunkSum}, one per chunk of an aggregate, key: {@code modelId/round}. */
    public static final String AGGREGATE_CHUNKS = "fedseal.aggregate-chunks";
    /** {@link org.fedseal.protocol.wire.UpdateAccepted}, key: {@code modelId/round}. */
    public static final String ACCEPTED = "fedseal.accepted";
    /** {@link org.fedseal.protocol.wire.UpdateRejected}, key: {@code modelId/round}. */
    public static final String REJECTS = "fedseal.rejects";
    /** {@link org.fedseal.protocol.wire.ModelVersionPublished}, key: {@code modelId}. */
    public static final String MODEL_VERSIONS = "fedseal.model-versions";
    /** {@link org.fedseal.protocol.wire.DecryptionSharesPublished} of threshold key holders, key: {@code modelId/round}. */
    public static final String DECRYPTION_SHARES = "fedseal.decryption-shares";
    /**
     * {@link org.fedseal.protocol.wire.KeyCeremonyEnvelope} (the registry's opening record and the
     * holders' messages), key: {@code ceremonyId} (UTF-8), so a ceremony stays on one partition.
     */
    public static final String KEY_CEREMONY = "fedseal.key-ceremony";
    /** {@link org.fedseal.protocol.wire.ClientEnrolled}, key: {@code clientId} (UTF-8); a compacted topic. */
    public static final String ENROLLMENTS = "fedseal.enrollments";

    private Topics() {}

    /** The key {@code modelId/round} (UTF-8) of the per-round topics. */
    public static byte[] roundKey(String modelId, int round) {
        return (modelId + "/" + round).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
