package org.fedseal.aggregator.internal;

import org.apache.flink.api.java.functions.KeySelector;

/** The summing stage's keys ({@link ShardKeys}) for its two inputs, which must agree chunk by chunk. */
public final class ShardKeySelector {
    private ShardKeySelector() {}

    /** Keys a chunk's bytes. */
    public static final class OfPayload implements KeySelector<ChunkPayload, Integer> {
        private static final long serialVersionUID = 1L;
        private final ShardKeys shards;

        public OfPayload(ShardKeys shards) {
            this.shards = shards;
        }

        @Override
        public Integer getKey(ChunkPayload p) {
            return shards.keyOf(p.modelId, p.round, p.chunkIndex);
        }
    }

    /** Keys a decision about a chunk. */
    public static final class OfDecision implements KeySelector<SumDecision, Integer> {
        private static final long serialVersionUID = 1L;
        private final ShardKeys shards;

        public OfDecision(ShardKeys shards) {
            this.shards = shards;
        }

        @Override
        public Integer getKey(SumDecision d) {
            return shards.keyOf(d.modelId, d.round, d.chunkIndex);
        }
    }
}
