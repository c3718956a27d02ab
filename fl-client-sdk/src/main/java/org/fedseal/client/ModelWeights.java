package org.fedseal.client;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.fedseal.protocol.Hash;

/**
 * The serialized form of flat model weights whose SHA-256 is
 * {@code ModelVersionPublished.weightsHash}: magic {@code "FSMW"}, format version 1 (1 byte), 3 zero
 * bytes, value count (int32), then the values as IEEE-754 float32, all little-endian. The encoding is
 * canonical (one byte string per vector; {@code -0.0f} and NaN payloads are kept bit for bit).
 */
public final class ModelWeights {
    private static final byte[] MAGIC = {'F', 'S', 'M', 'W'};
    private static final int HEADER = 12;

    private ModelWeights() {}

    /** Serializes {@code weights}. */
    public static byte[] encode(float[] weights) {
        Objects.requireNonNull(weights, "weights");
        ByteBuffer b = ByteBuffer.allocate(HEADER + 4 * weights.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).put((byte) 0).put((byte) 0).putInt(weights.length);
        b.asFloatBuffer().put(weights);
        return b.array();
    }

    /**
     * Parses {@link #encode} output.
     *
     * @throws IllegalArgumentException if the bytes are not in that form
     */
    public static float[] decode(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length < HEADER || bytes[0] != 'F' || bytes[1] != 'S' || bytes[2] != 'M' || bytes[3] != 'W'
                || bytes[4] != 1) {
            throw new IllegalArgumentException("not FedSeal model weights (FSMW v1)");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int n = b.getInt(8);
        if (n < 0 || (long) HEADER + 4L * n != bytes.length) {
            throw new IllegalArgumentException("model weights: header says " + n + " values, but there are "
                    + (bytes.length - HEADER) + " bytes of data");
        }
        float[] out = new float[n];
        b.position(HEADER);
        b.asFloatBuffer().get(out);
        return out;
    }

    /** SHA-256 of {@link #encode(float[])}. */
    public static Hash hash(float[] weights) {
        return Hash.sha256(encode(weights));
    }
}
