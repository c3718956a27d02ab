package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The one serialized form of flat model weights: IEEE-754 float32 values, little-endian, nothing
 * else. {@code ModelVersionPublished.weightsHash} is the SHA-256 of exactly these bytes, for the
 * registry (which stores them by that hash), clients (which check a base model against it) and key
 * holders. Canonical: one byte string per vector ({@code -0.0f} kept bit for bit).
 *
 * <p>Model weights are finite: every path that stores, publishes or starts from weights (model
 * registration, versions, the combiner's output, a client's base model) goes through
 * {@link #decodeFinite}, {@link #requireFinite} or {@link #applyMean}, which refuse NaN and ±Inf
 * with a {@link NonFiniteValueException} naming the first bad index.
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
            throw new IllegalArgumentException(
                    "model weights must be a non-empty sequence of float32, got " + bytes.length + " bytes");
        }
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /**
     * Parses {@link #encode} output and checks that every value is finite.
     *
     * @throws IllegalArgumentException if the length is not a positive multiple of 4
     * @throws NonFiniteValueException at the first NaN or ±Inf
     */
    public static float[] decodeFinite(byte[] bytes) {
        return requireFinite(decode(bytes), "weights");
    }

    /**
     * Returns {@code values} if every value is finite.
     *
     * @param what names the vector in the message, e.g. {@code "weights"}
     * @throws NonFiniteValueException at the first NaN or ±Inf
     */
    public static float[] requireFinite(float[] values, String what) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new NonFiniteValueException(what, i, values[i]);
            }
        }
        return values;
    }

    /**
     * The FedAvg mean update: the first {@code length} decrypted sums divided by the aggregate's
     * total weight (what every key holder, combiner and auditor divides by).
     *
     * @throws IllegalArgumentException if {@code totalWeight < 1} or fewer than {@code length} sums
     */
    public static double[] mean(double[] sums, long totalWeight, int length) {
        if (totalWeight < 1) {
            throw new IllegalArgumentException("aggregate totalWeight must be >= 1, got " + totalWeight);
        }
        if (sums.length < length) {
            throw new IllegalArgumentException("the aggregate holds " + sums.length + " values, expected " + length);
        }
        double[] out = new double[length];
        for (int i = 0; i < length; i++) {
            out[i] = sums[i] / totalWeight;
        }
        return out;
    }

    /**
     * The FedAvg update rule every publisher applies and an auditor can re-apply: next[i] =
     * float32(base[i] + mean[i]), the sum taken in double. Fixed here so that a version's weights
     * follow bit for bit from its base and its decrypted mean update.
     *
     * @param mean the aggregate divided by its total weight (at least {@code base.length} values)
     * @throws IllegalArgumentException if {@code mean} is shorter than {@code base}
     * @throws NonFiniteValueException if a value of {@code base} or of the result is not finite
     */
    public static float[] applyMean(float[] base, double[] mean) {
        if (mean.length < base.length) {
            throw new IllegalArgumentException(
                    "mean update has " + mean.length + " values, the base model " + base.length);
        }
        requireFinite(base, "base weights");
        float[] out = new float[base.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (base[i] + mean[i]);
        }
        return requireFinite(out, "new weights (base + mean update)");
    }

    /** SHA-256 of {@link #encode}{@code (weights)}: the weightsHash of a version with these weights. */
    public static Hash hash(float[] weights) {
        return Hash.sha256(encode(weights));
    }
}
