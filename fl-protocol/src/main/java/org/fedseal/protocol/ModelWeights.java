package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The one serialized form of flat model weights: IEEE-754 float32 values, little-endian, nothing
 * else. {@code ModelVersionPublished.weightsHash} is the SHA-256 of exactly these bytes, for the
 * registry (which stores them by that hash), clients (which check a base model against it) and key
 * holders. Canonical: one byte string per vector ({@code -0.0f} and NaN payloads kept bit for bit).
 */
public final class ModelWeights {
    private ModelWeights() {}

    /** Serializes {@code weights}. */
    public static byte[] encode(float[] weights) {
        Objects.requireNonNull(weights, "weights");
        ByteBuffer b = ByteBuffer.allocate(4 * weights.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(weights);
        return b.array();
    }

    /**
     * Parses {@link #encode} output.
     *
     * @throws IllegalArgumentException if the length is not a positive multiple of 4
     */
    public static float[] decode(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length == 0 || bytes.length % 4 != 0) {
            throw new IllegalArgumentException("model weights must be a non-empty sequence of float32, got " + bytes.length + " bytes");
        }
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /**
     * The FedAvg update rule every publisher applies and an auditor can re-apply: next[i] =
     * float32(base[i] + mean[i]), the sum taken in double. Fixed here so that a version's weights
     * follow bit for bit from its base and its decrypted mean update.
     *
     * @param mean the aggregate divided by its total weight (at least {@code base.length} values)
     * @throws IllegalArgumentException if {@code mean} is shorter than {@code base}
     */
    public static float[] applyMean(float[] base, double[] mean) {
        if (mean.length < base.length) {
            throw new IllegalArgumentException("mean update has " + mean.length + " values, the base model " + base.length);
        }
        float[] out = new float[base.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (base[i] + mean[i]);
        }
        return out;
    }

    /** SHA-256 of {@link #encode}{@code (weights)}: the weightsHash of a version with these weights. */
    public static Hash hash(float[] weights) {
        return Hash.sha256(encode(weights));
    }
}
