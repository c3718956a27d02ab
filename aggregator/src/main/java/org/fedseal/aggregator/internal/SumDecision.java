package org.fedseal.aggregator.internal;

/**
 * What the round's bookkeeping tells the summing stage about one chunk index of a round (a Flink
 * POJO): fold an accepted update's chunk, drop a refused one, or close the chunk's sum once
 * {@link #expectedFolds} updates are in it.
 */
public class SumDecision {
    public static final int FOLD = 0;
    public static final int DROP = 1;
    public static final int CLOSE = 2;
    static final char SEP = '\u0000';

    public int kind;
    public String modelId;
    public int round;
    public int chunkIndex;
    /** FOLD and DROP: the update's client, id and chunk hash (hex). */
    public String clientId;

    public String updateId;
    public String chunkHash;
    /** CLOSE: how many updates the sum must hold before it is published; -1: the round failed, discard. */
    public int expectedFolds;
    /** CLOSE: the accepted-update Merkle root the sum is over. */
    public byte[] acceptedUpdateRoot;
    /** CLOSE: the round's parameter set. */
    public String heParamsId;

    public SumDecision() {}

    static SumDecision about(int kind, String modelId, int round, int chunkIndex) {
        SumDecision d = new SumDecision();
        d.kind = kind;
        d.modelId = modelId;
        d.round = round;
        d.chunkIndex = chunkIndex;
        return d;
    }

    static String chunkKey(String modelId, int round, int chunkIndex) {
        return modelId + SEP + round + SEP + chunkIndex;
    }

    /** The key of the buffered chunk a FOLD or DROP is about (see {@link ChunkPayload#stateKey()}). */
    String payloadKey() {
        return chunkKey(modelId, round, chunkIndex) + SEP + clientId + SEP + updateId + SEP + chunkHash;
    }
}
