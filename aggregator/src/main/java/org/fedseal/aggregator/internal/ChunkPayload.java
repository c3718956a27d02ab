package org.fedseal.aggregator.internal;

/**
 * A validated chunk on its way to the summing stage (a Flink POJO): the raw record bytes as they
 * came from Kafka (decoded once, when folded), and what identifies it. Only the summing stage
 * holds ciphertexts; the round's bookkeeping sees a receipt without them.
 */
public class ChunkPayload {
    public String modelId;
    public int round;
    public int chunkIndex;
    public String clientId;
    public String updateId;
    /** Hex canonical hash of the chunk: what the commit names. */
    public String chunkHash;
    /** The UpdateEnvelope record as read from Kafka. */
    public byte[] value;

    public ChunkPayload() {}

    /** Identifies the chunk within its shard's state. */
    String stateKey() {
        return SumDecision.chunkKey(modelId, round, chunkIndex)
                + SumDecision.SEP
                + clientId
                + SumDecision.SEP
                + updateId
                + SumDecision.SEP
                + chunkHash;
    }
}
