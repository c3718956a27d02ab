package org.fedseal.client.internal;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.fedseal.he.MaskedVectors;
import org.fedseal.hejava.CompactMasking;
import org.fedseal.hejava.MaskingKey;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.CompactRounds;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;

/**
 * A compact round's update (fl-protocol {@link CompactRounds}): one masked block per
 * {@value CompactRounds#BLOCK_VALUES} values under a masking key drawn for this update only, then
 * that key, CKKS-encrypted under the model's public key by the client's ordinary encryptor.
 */
public final class CompactEncryption {
    private CompactEncryption() {}

    /**
     * @param weighted the weighted update, {@code layout.totalValues} values
     * @param encryptKey CKKS-encrypts {@value CompactRounds#BLOCK_VALUES} values (the key's
     *     coefficients) into the entries of a one-ciphertext layout
     * @throws IllegalArgumentException if the round's compact fields are inconsistent or a value is
     *     beyond what one update may bring
     */
    public static List<byte[]> encrypt(
            float[] weighted, RoundOpened round, SecureRandom random, Function<float[], List<byte[]>> encryptKey) {
        CompactRounds.problem(round).ifPresent(p -> {
            throw new IllegalArgumentException(p);
        });
        ChunkLayout layout = round.getChunkLayout();
        if (layout.getTotalValues() != weighted.length) {
            throw new IllegalArgumentException(
                    "layout has " + layout.getTotalValues() + " values, the update " + weighted.length);
        }
        int n = CompactRounds.BLOCK_VALUES;
        CompactMasking masking = CompactMasking.forRound(
                round.getMaskModulus(), round.getMaskScaleBits(), CompactRounds.roundSeed(round));
        int blocks = Chunker.valueCiphertexts(layout);
        List<byte[]> out = new ArrayList<>(layout.getCiphertextCount());
        try (MaskingKey key = masking.newKey(random)) {
            for (int j = 0; j < blocks; j++) {
                int from = j * n;
                long[] b = masking.mask(key, j, weighted, from, Math.min(n, weighted.length - from));
                out.add(MaskedVectors.encode(round.getMaskModulus(), b));
            }
            double[] s = key.valuesForKeyEncryption();
            float[] sf = new float[n];
            for (int i = 0; i < n; i++) {
                sf[i] = (float) s[i];
            }
            Arrays.fill(s, 0);
            try {
                out.addAll(encryptKey.apply(sf));
            } finally {
                Arrays.fill(sf, 0f);
            }
        }
        if (out.size() != layout.getCiphertextCount()) {
            throw new IllegalArgumentException(
                    "layout expects " + layout.getCiphertextCount() + " entries, made " + out.size());
        }
        return out;
    }

    /** The layout {@code encryptKey} encrypts the key under: one ciphertext of {@value CompactRounds#BLOCK_VALUES} values. */
    public static ChunkLayout keyLayout() {
        return Chunker.layout(CompactRounds.BLOCK_VALUES, CompactRounds.BLOCK_VALUES, 1);
    }
}
