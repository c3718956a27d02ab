package org.fedseal.hejava;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Compact encrypted updates: one-polynomial RLWE masking of an update vector, after Willow (Bell,
 * Gascón, Ghazi, Ilvento, Kumar, Manurangsi, Raykova, Rotaru, Seth, "Willow: Secure Aggregation
 * with One-Shot Clients", CRYPTO 2025), adapted to FedSeal's CKKS pipeline. A masked value costs
 * {@code bitLength(q)/8} bytes on the wire instead of 16 for a CKKS ciphertext slot.
 *
 * <h2>The construction</h2>
 * Ring {@code R_q = Z_q[X]/(X^N+1)}, {@code N = }{@value #N}, {@code q} a prime ≡ 1 mod 2N of at
 * most 61 bits chosen per round (fl-protocol {@code CompactRounds.modulusFor}). An update vector is cut into blocks of N
 * values; block {@code j} holds values {@code j·N … j·N+N−1} as the coefficients of {@code m_j}.
 *
 * <ul>
 *   <li>{@code a_j} (public, the same for every client): uniform in {@code R_q}, drawn directly in
 *       the NTT domain (uniform there is uniform in the coefficient domain, the NTT being a
 *       bijection) by rejection sampling from AES-256/CTR (JDK {@code "AES/CTR/NoPadding"}, zero
 *       IV) under the key {@code SHA-256("fedseal/compact-mask/v1/a_j" ‖ 0x00 ‖ roundSeed ‖ j)},
 *       j a big-endian int: each little-endian 64-bit word of the stream, masked to the low
 *       {@code bitLength(q)} bits, is kept if below q; the k-th kept word is NTT value k
 *       ({@link NttPrime}'s order: SEAL's, bit-reversed evaluation points). It differs per round
 *       (seed) and per block.
 *   <li>Per update the client draws a fresh ternary secret {@code s} ({@link #newKey}) and sends
 *       {@code b_j = −a_j·s + e_j + Encode(m_j) mod q} for every block ({@link #mask}), plus
 *       {@code s} once, CKKS-encrypted ({@link MaskingKey#valuesForKeyEncryption()}).
 *   <li>{@code e_j}: SEAL's clipped normal (σ = 3.2, |x| ≤ 6σ, truncated toward zero: |e| ≤ 19),
 *       drawn as {@link NoiseSampler} draws it but from AES-256/CTR keyed with 32 fresh bytes of
 *       the key's {@link SecureRandom} per block (a seeded CSPRNG: the JDK's default SecureRandom
 *       delivers ≈ 0.1 GB/s, too slow for 100 KiB of randomness per block).
 *   <li>{@code Encode(m)_k = round(Δ·m_k)}, {@code Δ = 2^scaleBits}, with <em>stochastic</em>
 *       rounding (up with probability equal to the fractional part, from 32 random bits), so the
 *       encoding is unbiased (to 2^−32) and many clients sending the same value do not add their
 *       rounding errors coherently.
 *   <li>Unmasking ({@link #unmask}): with {@code S = Σ_i s_i} (decrypted from the sum of the key
 *       ciphertexts, {@link #roundKeySum}), {@code Σ_i b_ij + a_j·S = Σ_i e_ij + Σ_i Encode(m_ij)}
 *       exactly mod q; reduced to (−q/2, q/2] and divided by Δ this is Σ m (the sum; the caller
 *       divides by the total weight), exact up to the noise, |error| &lt; 20/Δ per client.
 * </ul>
 *
 * <h2>Headroom</h2>
 * Coefficients add without carries, so the sum wraps once |Σ Encode(m) + Σ e| reaches q/2.
 * fl-protocol {@code CompactRounds.coefficientBound} is the largest |Σ m| per coefficient that decodes correctly with at
 * most {@code maxClients} updates, each adding less than 20 (19 noise, 1 rounding);
 * fl-protocol {@code CompactRounds.modulusFor} is its inverse. A round must keep every sum within it (bound each value and
 * the number of updates); {@link #mask} refuses single values beyond the one-update bound.
 *
 * <h2>Security notes</h2>
 * RLWE with N = 8192, q &lt; 2^61, ternary secret and σ = 3.2 (far inside the HE standard's
 * 128-bit bound of log q ≤ 218 for N = 8192). Each {@code s} masks each block once and serves one
 * round only ({@link MaskingKey}). Nothing here is constant-time (rejection sampling, floating-point
 * noise and encoding).
 *
 * <p>Immutable and thread-safe; one instance per round. {@link #mask} holds the key's lock.
 */
public final class CompactMasking {
    /** Ring degree: values per block. */
    public static final int N = 8192;

    /** The default scale: Δ = 2^22, a resolution of 2.4e−7 per value. */
    public static final int DEFAULT_SCALE_BITS = 22;

    /** Largest deviation one update adds to one coefficient: noise |e| ≤ 19 (6σ) plus one of rounding. */
    static final int NOISE_PER_CLIENT = 20;

    static final int MAX_MODULUS_BITS = 61;
    static final int MIN_SCALE_BITS = 1;
    static final int MAX_SCALE_BITS = 50;
    static final int SEED_BYTES = 32;

    private static final byte[] A_TAG = "fedseal/compact-mask/v1/a_j\0".getBytes(StandardCharsets.US_ASCII);

    private final NttPrime ntt;
    private final int scaleBits;
    private final double delta;
    /** Largest |value| one update may mask: {@code (⌊q/2⌋ − 1 − 20) / 2^scaleBits}. */
    private final double maxValue;

    private final byte[] seed;
    /** NTT form of the last key sum given to {@link #unmask}, with a copy of it. */
    private volatile KeySumNtt lastKeySum;

    private CompactMasking(NttPrime ntt, int scaleBits, byte[] seed) {
        this.ntt = ntt;
        this.scaleBits = scaleBits;
        this.delta = Math.scalb(1.0, scaleBits);
        // fl-protocol's CompactRounds.coefficientBound for one update: what one client may bring to a coefficient
        this.maxValue = ((ntt.q >>> 1) - 1 - (double) NOISE_PER_CLIENT) / delta;
        this.seed = seed;
    }

    /**
     * The masking of one round.
     *
     * @param modulus q: a prime ≡ 1 mod 2N ({@value #N}·2 = 16384) below 2^61
     * @param scaleBits log2 of Δ, 1..50
     * @param roundSeed the round's 32-byte public seed (fl-protocol {@code CompactRounds.roundSeed}); copied
     * @throws IllegalArgumentException if q is not such a prime, scaleBits is out of range, or
     *     the seed is not 32 bytes
     * @throws NullPointerException if the seed is null
     */
    public static CompactMasking forRound(long modulus, int scaleBits, byte[] roundSeed) {
        Objects.requireNonNull(roundSeed, "roundSeed");
        if (roundSeed.length != SEED_BYTES) {
            throw new IllegalArgumentException("round seed must be 32 bytes, got " + roundSeed.length);
        }
        checkScaleBits(scaleBits);
        if (modulus <= 2 || modulus >= 1L << MAX_MODULUS_BITS || (modulus - 1) % (2L * N) != 0) {
            throw new IllegalArgumentException(
                    "modulus " + modulus + " is not ≡ 1 mod " + 2 * N + " of at most " + MAX_MODULUS_BITS + " bits");
        }
        if (!BigInteger.valueOf(modulus).isProbablePrime(64)) {
            throw new IllegalArgumentException("modulus " + modulus + " is not prime");
        }
        return new CompactMasking(new NttPrime(modulus, N), scaleBits, roundSeed.clone());
    }

    /** The round's modulus q. */
    public long modulus() {
        return ntt.q;
    }

    /** log2 of the scale Δ. */
    public int scaleBits() {
        return scaleBits;
    }

    /**
     * The number of blocks of {@value #N} values a vector of {@code totalValues} values takes:
     * ⌈totalValues / N⌉.
     *
     * @throws IllegalArgumentException if totalValues is negative or needs more than
     *     {@link Integer#MAX_VALUE} blocks
     */
    public int blockCount(long totalValues) {
        if (totalValues < 0) {
            throw new IllegalArgumentException("negative value count " + totalValues);
        }
        long blocks = (totalValues + N - 1) / N;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("too many values: " + totalValues);
        }
        return (int) blocks;
    }

    /**
     * A fresh secret for one update of this round: N coefficients uniform in {−1, 0, 1} (SEAL's
     * ternary sampling, one bulk draw of ≈ 12 KiB). The key keeps {@code random} for the noise
     * seeds of its blocks (32 bytes per block).
     *
     * @param random the source of all the update's randomness, e.g. {@code new SecureRandom()}
     * @throws NullPointerException if random is null
     */
    public MaskingKey newKey(SecureRandom random) {
        Objects.requireNonNull(random, "random");
        NoiseSampler sampler = new NoiseSampler(random, N, 0);
        int[] t = new int[N];
        sampler.ternary(t);
        sampler.wipe();
        byte[] s = new byte[N];
        for (int k = 0; k < N; k++) {
            s[k] = (byte) t[k];
        }
        Arrays.fill(t, 0);
        return new MaskingKey(s, random);
    }

    /**
     * Masks block {@code block} of an update: {@code b_j = −a_j·s + e_j + Encode(m_j) mod q}, where
     * {@code m_j} holds {@code values[offset … offset+length−1]} followed by zeros up to N. Every
     * coefficient carries fresh noise, padding included. Binds the key to this round on first use.
     *
     * @param key the update's secret (from {@link #newKey}, bound to this round or unbound)
     * @param block the block index j ≥ 0 (values j·N … j·N+N−1 of the update)
     * @param values the update's values (value units, unweighted or weighted as the round says)
     * @param offset where block j's values start in {@code values}
     * @param length how many values block j has, 0..N (fewer than N: zero padded)
     * @return a new array of N coefficients in [0, q)
     * @throws IllegalArgumentException if length is outside 0..N, block is negative, or a value is
     *     not finite or |value| exceeds {@code coefficientBound(q, scaleBits, 1)} (it would not fit
     *     q at all; a round's own bound per value is tighter)
     * @throws IndexOutOfBoundsException if offset/length do not lie within values
     * @throws IllegalStateException if the key is closed, belongs to another round, or already
     *     masked this block
     * @throws NullPointerException if key or values is null
     */
    public long[] mask(MaskingKey key, int block, float[] values, int offset, int length) {
        return mask(key, block, values, offset, length, null, null);
    }

    /**
     * {@link #mask(MaskingKey, int, float[], int, int)}, also reporting the noise {@code e_j} and
     * the encoding {@code Encode(m_j)} as signed integers (either array may be null) — for tests.
     */
    long[] mask(MaskingKey key, int block, float[] values, int offset, int length, long[] noiseOut, long[] encodedOut) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(values, "values");
        if (block < 0) {
            throw new IllegalArgumentException("negative block index " + block);
        }
        if (length < 0 || length > N) {
            throw new IllegalArgumentException("a block holds 0.." + N + " values, got " + length);
        }
        Objects.checkFromIndexSize(offset, length, values.length);
        synchronized (key) {
            key.checkUsable(seed, ntt, block);
            for (int k = 0; k < length; k++) {
                float v = values[offset + k];
                if (!(Math.abs(v) <= maxValue)) { // also NaN
                    throw new IllegalArgumentException("value " + (offset + k) + " = " + v
                            + " is not finite or exceeds " + maxValue + ", what modulus " + ntt.q + " holds at scale 2^"
                            + scaleBits);
                }
            }
            long[] sNtt = key.claim(seed, ntt, block);
            long[] p = aNtt(block);
            for (int k = 0; k < N; k++) {
                p[k] = ntt.mulMod(p[k], sNtt[k]);
            }
            ntt.inverse(p); // a_j·s

            byte[] noiseKey = key.noiseSeed();
            AesCtrStream noise = new AesCtrStream(noiseKey);
            Arrays.fill(noiseKey, (byte) 0);
            int[] e = new int[N];
            noise.clippedNormal(e);

            final long q = ntt.q;
            final double scale = delta;
            long bits = 0;
            boolean halfLeft = false;
            for (int k = 0; k < N; k++) {
                long enc = 0;
                if (k < length) {
                    double x = values[offset + k] * scale; // exact: a float times a power of two
                    double floor = Math.floor(x);
                    double frac = x - floor;
                    enc = (long) floor;
                    if (frac != 0) { // round up with probability frac, from 32 fresh bits
                        long u;
                        if (halfLeft) {
                            u = bits >>> 32;
                            halfLeft = false;
                        } else {
                            bits = noise.nextLong();
                            u = bits & 0xFFFFFFFFL;
                            halfLeft = true;
                        }
                        if (u * 0x1p-32 < frac) {
                            enc++;
                        }
                    }
                }
                if (noiseOut != null) {
                    noiseOut[k] = e[k];
                }
                if (encodedOut != null) {
                    encodedOut[k] = enc;
                }
                long b = e[k] + enc - p[k]; // |e + enc| < q/2, p in [0, q)
                if (b < 0) {
                    b += q;
                    if (b < 0) {
                        b += q;
                    }
                }
                p[k] = b;
            }
            Arrays.fill(e, 0);
            noise.wipe();
            return p;
        }
    }

    /**
     * The sum of the masked values of block {@code block}: Σ m, given the aggregate of the round's
     * masked blocks and the key sum.
     *
     * @param sumCoefficients Σ_i b_ij mod q, N coefficients in [0, q)
     * @param block the block index j
     * @param keySum S = Σ_i s_i, N integer coefficients (from {@link #roundKeySum}); the NTT of
     *     the last key sum is cached, so unmasking all blocks with one S transforms it once
     * @return a new array of N doubles: Σ_i m_ij per coefficient (value units, error below
     *     20·clients/Δ while the sum is within fl-protocol {@code CompactRounds.coefficientBound})
     * @throws IllegalArgumentException if an array does not have length N, a coefficient is not in
     *     [0, q), or block is negative
     * @throws NullPointerException if an array is null
     */
    public double[] unmask(long[] sumCoefficients, int block, long[] keySum) {
        long[] v = unmaskIntegers(sumCoefficients, block, keySum);
        double[] out = new double[N];
        for (int k = 0; k < N; k++) {
            out[k] = v[k] / delta;
        }
        return out;
    }

    /**
     * The sums of the values of a whole compact aggregate: block sum {@code j} of
     * {@code blockSums} unmasked ({@link #unmask}) with the key sum {@code S} rounded from
     * {@code decryptedKeySum} ({@link #roundKeySum}), concatenated and cut to {@code totalValues}.
     *
     * @param blockSums Σ b_ij of every block, in block order (he-native {@code MaskedVectors.decodeMasked})
     * @param decryptedKeySum the decryption of Σ Enc(s_i), {@value #N} approximate integers
     * @param maxClients the number of updates summed
     * @throws IllegalArgumentException if the blocks do not cover {@code totalValues}, or as
     *     {@link #unmask} and {@link #roundKeySum}
     */
    public double[] unmaskAll(List<long[]> blockSums, double[] decryptedKeySum, int maxClients, int totalValues) {
        if (totalValues < 1 || blockSums.size() != blockCount(totalValues)) {
            throw new IllegalArgumentException(blockSums.size() + " block sums for " + totalValues
                    + " values, expected " + blockCount(totalValues));
        }
        long[] keySum = roundKeySum(decryptedKeySum, maxClients);
        double[] out = new double[totalValues];
        for (int j = 0; j < blockSums.size(); j++) {
            double[] block = unmask(blockSums.get(j), j, keySum);
            System.arraycopy(block, 0, out, j * N, Math.min(N, totalValues - j * N));
        }
        return out;
    }

    /** Σ b_j + a_j·S reduced to (−q/2, q/2]: Σ e + Σ Encode(m), as signed integers. */
    long[] unmaskIntegers(long[] sumCoefficients, int block, long[] keySum) {
        Objects.requireNonNull(sumCoefficients, "sumCoefficients");
        Objects.requireNonNull(keySum, "keySum");
        if (sumCoefficients.length != N || keySum.length != N) {
            throw new IllegalArgumentException("sum and key sum must have " + N + " coefficients, got "
                    + sumCoefficients.length + " and " + keySum.length);
        }
        if (block < 0) {
            throw new IllegalArgumentException("negative block index " + block);
        }
        final long q = ntt.q;
        for (int k = 0; k < N; k++) {
            if (sumCoefficients[k] < 0 || sumCoefficients[k] >= q) {
                throw new IllegalArgumentException("sum coefficient " + k + " is not in [0, q)");
            }
        }
        long[] sNtt = keySumNtt(keySum);
        long[] p = aNtt(block);
        for (int k = 0; k < N; k++) {
            p[k] = ntt.mulMod(p[k], sNtt[k]);
        }
        ntt.inverse(p); // a_j·S
        long half = q >>> 1;
        for (int k = 0; k < N; k++) {
            long v = sumCoefficients[k] + p[k];
            if (v >= q) {
                v -= q;
            }
            p[k] = v > half ? v - q : v;
        }
        return p;
    }

    private long[] keySumNtt(long[] keySum) {
        KeySumNtt cached = lastKeySum;
        if (cached != null && Arrays.equals(cached.keySum, keySum)) {
            return cached.ntt;
        }
        long[] copy = keySum.clone();
        long[] t = new long[N];
        for (int k = 0; k < N; k++) {
            t[k] = Math.floorMod(copy[k], ntt.q);
        }
        ntt.forward(t);
        lastKeySum = new KeySumNtt(copy, t);
        return t;
    }

    /** An immutable pair: a key sum and its NTT mod q. */
    private static final class KeySumNtt {
        final long[] keySum;
        final long[] ntt;

        KeySumNtt(long[] keySum, long[] ntt) {
            this.keySum = keySum;
            this.ntt = ntt;
        }
    }

    /**
     * The key sum S from the decryption of the aggregated key ciphertexts (CKKS, approximate):
     * each value rounded to the nearest integer.
     *
     * @param decrypted the decrypted Σ s_i, exactly N values
     * @param maxClients the most updates the round sums (|S_k| ≤ maxClients), at least 1
     * @return a new array of N integers in [−maxClients, maxClients]
     * @throws IllegalArgumentException if the length is not N, a value is not finite or is more
     *     than 0.25 from an integer, or a rounded value exceeds maxClients in magnitude — each a sign
     *     that the decryption (or the aggregation) was wrong
     * @throws NullPointerException if decrypted is null
     */
    public static long[] roundKeySum(double[] decrypted, int maxClients) {
        Objects.requireNonNull(decrypted, "decrypted");
        checkMaxClients(maxClients);
        if (decrypted.length != N) {
            throw new IllegalArgumentException("a key sum has " + N + " values, got " + decrypted.length);
        }
        long[] out = new long[N];
        for (int k = 0; k < N; k++) {
            double v = decrypted[k];
            if (!Double.isFinite(v) || Math.abs(v) > maxClients + 0.25) {
                throw new IllegalArgumentException(
                        "key sum value " + k + " = " + v + " is beyond ±" + maxClients + ": wrong decryption");
            }
            long r = Math.round(v);
            if (Math.abs(v - r) > 0.25) {
                throw new IllegalArgumentException(
                        "key sum value " + k + " = " + v + " is more than 0.25 from an integer: wrong decryption");
            }
            if (Math.abs(r) > maxClients) {
                throw new IllegalArgumentException(
                        "key sum value " + k + " = " + v + " is beyond ±" + maxClients + ": wrong decryption");
            }
            out[k] = r;
        }
        return out;
    }

    /** a_j in the NTT domain (a new array; see the class comment for the derivation). */
    long[] aNtt(int block) {
        byte[] input = ByteBuffer.allocate(A_TAG.length + SEED_BYTES + 4)
                .put(A_TAG)
                .put(seed)
                .putInt(block)
                .array();
        byte[] key = sha256(input);
        AesCtrStream stream = new AesCtrStream(key);
        long[] a = new long[N];
        stream.uniformBelow(ntt.q, a);
        return a;
    }

    /** The NTT arithmetic of this round's modulus (for tests). */
    NttPrime ntt() {
        return ntt;
    }

    private static byte[] sha256(byte[] input) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(input);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static void checkScaleBits(int scaleBits) {
        if (scaleBits < MIN_SCALE_BITS || scaleBits > MAX_SCALE_BITS) {
            throw new IllegalArgumentException(
                    "scale bits must be in " + MIN_SCALE_BITS + ".." + MAX_SCALE_BITS + ": " + scaleBits);
        }
    }

    private static void checkMaxClients(int maxClients) {
        if (maxClients < 1) {
            throw new IllegalArgumentException("maxClients must be at least 1: " + maxClients);
        }
    }
}
