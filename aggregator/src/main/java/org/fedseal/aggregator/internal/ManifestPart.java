package org.fedseal.aggregator.internal;

/**
 * One input of the manifest assembler (a Flink POJO), keyed by model and round: the round's
 * unsigned manifest from the bookkeeping ({@link #DRAFT}), or the hash of one chunk sum from the
 * summing stage ({@link #CHUNK_SUM}).
 */
public class ManifestPart {
    public static final int DRAFT = 0;
    public static final int CHUNK_SUM = 1;

    public int kind;
    public String modelId;
    public int round;
    /** CHUNK_SUM: its index; DRAFT: the number of chunk sums to wait for (0 for a failed round). */
    public int chunkIndex;
    /** DRAFT: the encoded unsigned AggregatePublished; CHUNK_SUM: the chunk sum's canonical hash. */
    public byte[] value;

    public ManifestPart() {}

    static ManifestPart of(int kind, String modelId, int round, int chunkIndex, byte[] value) {
        ManifestPart p = new ManifestPart();
        p.kind = kind;
        p.modelId = modelId;
        p.round = round;
        p.chunkIndex = chunkIndex;
        p.value = value;
        return p;
    }

    /** The assembler's key: model and round. */
    public static final class RoundKeySelector
            implements org.apache.flink.api.java.functions.KeySelector<ManifestPart, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(ManifestPart p) {
            return p.modelId + SumDecision.SEP + p.round;
        }
    }
}
