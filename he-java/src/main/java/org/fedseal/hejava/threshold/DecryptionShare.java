package org.fedseal.hejava.threshold;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import org.fedseal.hejava.ThresholdSupport;

/**
 * One key holder's decryption share of one aggregate: per ciphertext h = c1·s_i + e_flood mod q0
 * (NTT form), bound to the aggregate (SHA-256 of its FSEV bytes) and to the holder (SHA-256 of
 * its public key share). Flooded, so it reveals nothing useful about s_i on its own; still,
 * handle it as sensitive until combined (with the other n−1 shares it decrypts the aggregate).
 *
 * <p>Wire form ({@link #toBytes()}, "FSDS" version 1, little-endian): magic, version (u8), 3
 * zero bytes, ciphertext count (u32), aggregate digest (32), key share digest (32), then count ×
 * 8192 u64 coefficients, each below q0: 76 + 65,536·count bytes. Sign these bytes for transport.
 *
 * <p>Immutable and thread-safe.
 */
public final class DecryptionShare {
    private static final int MAGIC = 0x53445346; // "FSDS"
    private static final int VERSION = 1;
    private static final int OFFSET_COUNT = 8;
    private static final int OFFSET_AGGREGATE = 12;
    private static final int OFFSET_KEY_SHARE = OFFSET_AGGREGATE + Digests.BYTES;
    private static final int OFFSET_DATA = OFFSET_KEY_SHARE + Digests.BYTES;
    private static final int N = ThresholdSupport.N;
    /** Bytes per ciphertext in the wire form. */
    public static final int BYTES_PER_CIPHERTEXT = 8 * N;

    private final byte[] aggregateDigest;
    private final byte[] keyShareDigest;
    private final long[][] h;

    DecryptionShare(byte[] aggregateDigest, byte[] keyShareDigest, long[][] h) {
        this.aggregateDigest = aggregateDigest.clone();
        this.keyShareDigest = keyShareDigest.clone();
        this.h = h;
    }

    /** Number of ciphertexts covered. */
    public int ciphertextCount() {
        return h.length;
    }

    /** SHA-256 of the aggregate's FSEV bytes this share decrypts (a copy). */
    public byte[] aggregateDigest() {
        return aggregateDigest.clone();
    }

    /** SHA-256 of the public key share of the holder that made it (a copy). */
    public byte[] keyShareDigest() {
        return keyShareDigest.clone();
    }

    /** h of ciphertext c, not copied: package-internal readers must not modify it. */
    long[] polynomial(int c) {
        return h[c];
    }

    /** Exact size of {@link #toBytes()}. */
    public int serializedBytes() {
        return OFFSET_DATA + BYTES_PER_CIPHERTEXT * h.length;
    }

    /** The wire form. */
    public byte[] toBytes() {
        byte[] b = new byte[serializedBytes()];
        ThresholdSupport.putInt(b, 0, MAGIC);
        b[4] = VERSION;
        ThresholdSupport.putInt(b, OFFSET_COUNT, h.length);
        System.arraycopy(aggregateDigest, 0, b, OFFSET_AGGREGATE, Digests.BYTES);
        System.arraycopy(keyShareDigest, 0, b, OFFSET_KEY_SHARE, Digests.BYTES);
        int at = OFFSET_DATA;
        for (long[] poly : h) {
            for (int k = 0; k < N; k++, at += 8) {
                ThresholdSupport.putLong(b, at, poly[k]);
            }
        }
        return b;
    }

    /**
     * Parses and validates the wire form (structure and coefficient ranges; whether the share
     * fits an aggregate is checked by {@link ThresholdDecryptor#combine}).
     *
     * @throws IllegalArgumentException with the reason
     */
    public static DecryptionShare fromBytes(byte[] b) {
        Objects.requireNonNull(b, "bytes");
        if (b.length < OFFSET_DATA) {
            throw bad("shorter than its header");
        }
        if (ThresholdSupport.getInt(b, 0) != MAGIC || b[4] != VERSION || b[5] != 0 || b[6] != 0 || b[7] != 0) {
            throw bad("not a version-1 FSDS decryption share");
        }
        int count = ThresholdSupport.getInt(b, OFFSET_COUNT);
        if (count <= 0 || count > 4096) {
            throw bad("bad ciphertext count " + count);
        }
        if (b.length != OFFSET_DATA + (long) BYTES_PER_CIPHERTEXT * count) {
            throw bad(b.length + " bytes, expected exactly " + (OFFSET_DATA + (long) BYTES_PER_CIPHERTEXT * count));
        }
        long[][] h = new long[count][N];
        int at = OFFSET_DATA;
        for (int c = 0; c < count; c++) {
            for (int k = 0; k < N; k++, at += 8) {
                long v = ThresholdSupport.getLong(b, at);
                if (Long.compareUnsigned(v, ThresholdSupport.Q0) >= 0) {
                    throw bad("coefficient not below q0 in ciphertext " + c);
                }
                h[c][k] = v;
            }
        }
        return new DecryptionShare(
                Arrays.copyOfRange(b, OFFSET_AGGREGATE, OFFSET_KEY_SHARE),
                Arrays.copyOfRange(b, OFFSET_KEY_SHARE, OFFSET_DATA),
                h);
    }

    private static IllegalArgumentException bad(String reason) {
        return new IllegalArgumentException("decryption share: " + reason);
    }

    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        return "DecryptionShare[" + h.length + " ciphertexts, aggregate " + hex.formatHex(aggregateDigest, 0, 8)
                + "…, key share " + hex.formatHex(keyShareDigest, 0, 8) + "…]";
    }
}
