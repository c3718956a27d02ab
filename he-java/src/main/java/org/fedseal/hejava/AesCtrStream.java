package org.fedseal.hejava;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A pseudorandom stream for {@link CompactMasking}: the key stream of AES-256 in CTR mode from the
 * JDK ({@code "AES/CTR/NoPadding"}, a 128-bit big-endian counter block starting at zero, i.e. an
 * all-zero IV) under a 32-byte key, read as little-endian 64-bit words. Produced in 32 KiB chunks;
 * the JDK's AES intrinsics (AES-NI, VAES) make it cost a few nanoseconds per word.
 *
 * <p>Two uses: the public {@code a_j} (key = a hash of the round seed and the block) and the
 * per-block masking noise (key = 32 fresh bytes from the caller's {@link java.security.SecureRandom},
 * a standard seeded CSPRNG — SEAL does the same with BLAKE2Xb seeded from its random device).
 *
 * <p>Not thread-safe; one per use.
 */
final class AesCtrStream {
    static final int KEY_BYTES = 32;
    private static final int CHUNK_BYTES = 1 << 15;
    private static final double TWO_PI = 2 * Math.PI;
    /** The cipher's input: CTR output = key stream XOR input. Never written. */
    private static final byte[] ZEROS = new byte[CHUNK_BYTES];

    private final Cipher cipher;
    private final byte[] chunk = new byte[CHUNK_BYTES];
    private final ByteBuffer words = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
    private int position = CHUNK_BYTES;

    /** A stream under {@code key} (32 bytes; the caller wipes its copy). */
    AesCtrStream(byte[] key) {
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException("AES-256 key must be 32 bytes");
        }
        try {
            cipher = Cipher.getInstance("AES/CTR/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[16]));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CTR/NoPadding with a 256-bit key is not available", e);
        }
    }

    private void refill() {
        try {
            int produced = cipher.update(ZEROS, 0, CHUNK_BYTES, chunk, 0);
            if (produced != CHUNK_BYTES) {
                throw new IllegalStateException("AES/CTR produced " + produced + " bytes, expected " + CHUNK_BYTES);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CTR failed", e);
        }
        position = 0;
    }

    /** The next 64-bit word (8 stream bytes, little-endian). */
    long nextLong() {
        if (position == CHUNK_BYTES) {
            refill();
        }
        long v = words.getLong(position);
        position += 8;
        return v;
    }

    /**
     * Fills {@code out} with values uniform in [0, q), by rejection: each word's low
     * {@code bitLength(q)} bits, kept if below q (at least half are).
     */
    void uniformBelow(long q, long[] out) {
        long mask = -1L >>> Long.numberOfLeadingZeros(q);
        int i = 0;
        while (i < out.length) {
            long v = nextLong() & mask;
            if (v < q) {
                out[i++] = v;
            }
        }
    }

    /**
     * Fills {@code out} with SEAL's clipped normal noise exactly as {@link NoiseSampler#clippedNormal}
     * draws it (Box–Muller on 53-bit uniforms, σ = 3.2, resampled while |x| &gt; 6σ, truncated toward
     * zero), from this stream's words.
     */
    void clippedNormal(int[] out) {
        int i = 0;
        while (i < out.length) {
            double u1 = ((nextLong() >>> 11) + 1) * 0x1p-53; // (0, 1]
            double u2 = (nextLong() >>> 11) * 0x1p-53; // [0, 1)
            double r = NoiseSampler.SIGMA * Math.sqrt(-2 * Math.log(u1));
            double theta = TWO_PI * u2;
            double x = r * Math.cos(theta);
            if (Math.abs(x) <= NoiseSampler.MAX_DEVIATION) {
                out[i++] = (int) x;
            }
            if (i < out.length) {
                double y = r * Math.sin(theta);
                if (Math.abs(y) <= NoiseSampler.MAX_DEVIATION) {
                    out[i++] = (int) y;
                }
            }
        }
    }

    /** Overwrites the buffered stream (best effort; the cipher's key schedule is the JDK's). */
    void wipe() {
        Arrays.fill(chunk, (byte) 0);
        position = CHUNK_BYTES;
    }
}
