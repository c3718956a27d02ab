package org.fedseal.client.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.fedseal.protocol.wire.ChunkLayout;

/**
 * The encryption loop every {@code UpdateEncryptor} shares: check the update against the round's
 * chunk layout, then encrypt it one ciphertext's worth of values at a time, in layout order (one
 * one-ciphertext vector per list entry, so entry i of every client sums with entry i of the others).
 */
public final class LayoutEncryption {
    private LayoutEncryption() {}

    /**
     * @param valuesPerCiphertext what one ciphertext carries under the encryptor's parameters and packing
     * @param encryptOne encrypts at most {@code valuesPerCiphertext} values into one serialized vector
     */
    public static List<byte[]> encrypt(
            float[] values,
            ChunkLayout layout,
            int valuesPerCiphertext,
            String heParamsId,
            Function<float[], byte[]> encryptOne) {
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(layout, "layout");
        if (layout.getTotalValues() != values.length) {
            throw new IllegalArgumentException(
                    "layout has " + layout.getTotalValues() + " values, the update " + values.length);
        }
        if (layout.getValuesPerCiphertext() != valuesPerCiphertext) {
            throw new IllegalArgumentException("layout packs " + layout.getValuesPerCiphertext()
                    + " values per ciphertext, " + heParamsId + " packs " + valuesPerCiphertext);
        }
        List<byte[]> out = new ArrayList<>(layout.getCiphertextCount());
        for (int from = 0; from < values.length; from += valuesPerCiphertext) {
            float[] slice = Arrays.copyOfRange(values, from, Math.min(values.length, from + valuesPerCiphertext));
            out.add(encryptOne.apply(slice));
            Arrays.fill(slice, 0f); // the plaintext update does not linger in a copy
        }
        if (out.size() != layout.getCiphertextCount()) {
            throw new IllegalArgumentException(
                    "layout expects " + layout.getCiphertextCount() + " ciphertexts, made " + out.size());
        }
        return out;
    }
}
