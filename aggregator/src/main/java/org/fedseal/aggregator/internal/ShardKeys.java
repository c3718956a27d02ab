package org.fedseal.aggregator.internal;

import java.io.Serializable;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

/**
 * Keys that spread one round's chunk sums evenly over every subtask of the summing stage.
 *
 * <p>Flink sends a key to subtask {@code f(murmur(key.hashCode()) mod maxParallelism)}
 * ({@link KeyGroupRangeAssignment}); hashing (model, round, chunk) directly would leave a round of
 * a dozen chunks unevenly split by chance. Instead chunk {@code i} of a round goes to shard
 * {@code (offset(model, round) + i) mod parallelism}, and each shard is addressed by the smallest
 * integer key that Flink assigns to that subtask. Chunk sums of one round therefore differ by at
 * most one between subtasks. After a rescale the keys still address valid key groups (state moves
 * with them); only the balance is lost until the job is restarted with the new parallelism.
 */
public final class ShardKeys implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int[] keys;

    /**
     * @param parallelism the summing stage's parallelism, at least 1
     * @param maxParallelism its max parallelism (number of key groups), at least {@code parallelism}
     */
    public ShardKeys(int parallelism, int maxParallelism) {
        if (parallelism < 1 || maxParallelism < parallelism) {
            throw new IllegalArgumentException("parallelism " + parallelism + ", max parallelism " + maxParallelism);
        }
        keys = new int[parallelism];
        java.util.Arrays.fill(keys, -1);
        int found = 0;
        for (int k = 0; found < parallelism; k++) {
            int s = KeyGroupRangeAssignment.assignKeyToParallelOperator(k, maxParallelism, parallelism);
            if (keys[s] < 0) {
                keys[s] = k;
                found++;
            }
        }
    }

    /** The shard that sums chunk {@code chunkIndex} of a round. */
    public int shardOf(String modelId, int round, int chunkIndex) {
        int offset = Math.floorMod((modelId + '/' + round).hashCode(), keys.length);
        return Math.floorMod(offset + chunkIndex, keys.length);
    }

    /** The key Flink routes to the subtask of {@link #shardOf}. */
    public int keyOf(String modelId, int round, int chunkIndex) {
        return keys[shardOf(modelId, round, chunkIndex)];
    }
}
