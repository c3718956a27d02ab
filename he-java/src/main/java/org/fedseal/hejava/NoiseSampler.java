package org.fedseal.hejava;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * SEAL's encryption randomness from a {@link SecureRandom}, drawn in bulk: one
 * {@code nextBytes} call per ciphertext (≈ 136 KiB), more only in the rare case the buffer runs
 * out.
 *
 * <ul>
 *   <li>u: uniform ternary {−1, 0, 1} (SEAL's {@code sample_poly_ternary}); from bytes with
 *       rejection of 255, so exactly uniform.
 *   <li>e: SEAL's clipped normal (built with {@code SEAL_USE_GAUSSIAN_NOISE}): normal with
 *       σ = 3.2, resampled while |x| &gt; 6σ = 19.2, then truncated toward zero to an integer
 *       (C++ {@code static_cast<int64_t>}). Normals come from Box–Muller on 53-bit uniforms.
 * </ul>
 *
 * Not thread-safe; one per encryption call. Timing depends on the values drawn (rejections,
 * floating point): no constant-time guarantee.
 */
final class NoiseSampler {
    static final double SIGMA = 3.2;
    static final double MAX_DEVIATION = 6 * SIGMA;
    private static final double TWO_PI = 2 * Math.PI;

    private final SecureRandom random;
    private final byte[] buffer;
    private int position;

    /** A sampler whose buffer holds what one ternary and {@code normals} normals need, plus slack. */
    NoiseSampler(SecureRandom random, int ternaries, int normals) {
        this.random = random;
        this.buffer = new byte[ternaries + 8 * normals + 4096];
        this.position = buffer.length;
    }

    /** Refills the whole buffer with one call. */
    void refill() {
        random.nextBytes(buffer);
        position = 0;
    }

    private int nextByte() {
        if (position == buffer.length) {
            refill();
        }
        return buffer[position++] & 0xFF;
    }

    private long nextLong() {
        if (buffer.length - position < 8) {
            refill();
        }
        long v = SealBytes.getLong(buffer, position);
        position += 8;
        return v;
    }

    /** Uniform in (0, 1]. */
    private double nextUniformOpenZero() {
        return ((nextLong() >>> 11) + 1) * 0x1p-53;
    }

    /** Uniform in [0, 1). */
    private double nextUniform() {
        return (nextLong() >>> 11) * 0x1p-53;
    }

    /** Fills {@code out} with uniform ternary values −1, 0, 1. */
    void ternary(int[] out) {
        for (int i = 0; i < out.length; i++) {
            int b;
            do {
                b = nextByte();
            } while (b == 255);
            out[i] = b % 3 - 1;
        }
    }

    /** Fills {@code out} with SEAL's clipped, truncated normal noise. */
    void clippedNormal(int[] out) {
        int i = 0;
        while (i < out.length) {
            double r = SIGMA * Math.sqrt(-2 * Math.log(nextUniformOpenZero()));
            double theta = TWO_PI * nextUniform();
            double x = r * Math.cos(theta);
            if (Math.abs(x) <= MAX_DEVIATION) {
                out[i++] = (int) x; // truncation toward zero
            }
            if (i < out.length) {
                double y = r * Math.sin(theta);
                if (Math.abs(y) <= MAX_DEVIATION) {
                    out[i++] = (int) y;
                }
            }
        }
    }

    /**
     * Fills {@code out} with a discrete normal of standard deviation {@code sigma} (continuous
     * Box–Muller on 53-bit uniforms, rounded to the nearest integer, not clipped: |x| stays below
     * ≈ 8.6σ because the uniforms are never smaller than 2^−53). For noise flooding, where σ is far
     * above 3.2; {@code sigma} must be at most 2^50.
     */
    void roundedNormal(double sigma, long[] out) {
        if (!(sigma > 0 && sigma <= 0x1p50)) {
            throw new IllegalArgumentException("sigma out of range");
        }
        int i = 0;
        while (i < out.length) {
            double r = sigma * Math.sqrt(-2 * Math.log(nextUniformOpenZero()));
            double theta = TWO_PI * nextUniform();
            out[i++] = Math.round(r * Math.cos(theta));
            if (i < out.length) {
                out[i++] = Math.round(r * Math.sin(theta));
            }
        }
    }

    /** Overwrites the buffer (best effort: the JVM may have copied it). */
    void wipe() {
        Arrays.fill(buffer, (byte) 0);
        position = buffer.length;
    }
}
