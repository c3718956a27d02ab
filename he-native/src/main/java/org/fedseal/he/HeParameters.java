package org.fedseal.he;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A named, versioned CKKS parameter set. Its {@link #id()} travels with every ciphertext so
 * that a receiver knows (and checks) what it is holding. Only the sets defined here exist, and
 * all are 128-bit secure by SEAL's own bounds (SEAL refuses to build a context otherwise).
 *
 * <p>Ciphertexts are encrypted directly at the last level of the modulus chain (one 60-bit
 * prime q0): only additions follow, so nothing is lost, and each ciphertext is as small as it
 * can be.
 *
 * <h2>Headroom: the largest sum that decrypts correctly</h2>
 * A sum decrypts correctly only while every coefficient of its plaintext polynomial, Δ·m(X) plus
 * noise, stays below q0/2; beyond, it wraps modulo q0 and decodes to garbage with no error. For
 * one ciphertext holding the values v (N values with {@link Packing#COMPLEX}, N/2 with
 * {@link Packing#REAL}) the canonical embedding gives ‖m‖∞ ≤ ‖m‖₂ = √(2/N)·‖v‖₂ (the embedding
 * is √N times an isometry; Cheon, Kim, Kim, Song, ASIACRYPT 2017, §2.3), with equality for the
 * constant polynomial (v = (c, 0, c, 0, …) complex-packed). So a sum decrypts correctly whenever
 * the L2 norm of its values in each ciphertext is at most {@link #maxSumNorm()}
 * = √(N/2)·(q0/2 − {@link #NOISE_MARGIN})/Δ, and the bound is tight: the vector above, 1 % past
 * it, wraps. Clients clip their deltas in L2 (bound C) and weight them (w), so a round of total
 * weight W has ‖Σ wᵢΔᵢ‖₂ ≤ W·C in every ciphertext, and W·C ≤ {@link #maxSumNorm()} is the
 * condition rounds are opened under. Per set (tested at the bound and 1 % above it, see
 * HeadroomTest; error = the largest absolute decoding error measured at the bound):
 *
 * <table>
 *   <caption>Headroom per parameter set</caption>
 *   <tr><th>set</th><th>q0</th><th>Δ</th><th>maxSumNorm</th><th>largest |value| when all values are equal</th><th>measured error at the bound</th></tr>
 *   <tr><td>ckks-8192-v1</td><td>1152921504606748673</td><td>2^40</td><td>3.3553e7</td><td>3.7e5</td><td>1.5e-8</td></tr>
 *   <tr><td>ckks-16384-v1</td><td>1152921504606683137</td><td>2^40</td><td>4.7452e7</td><td>3.7e5</td><td>3.6e-8</td></tr>
 *   <tr><td>ckks-8192-t50-v1</td><td>1152921504606748673</td><td>2^50</td><td>32,767</td><td>362</td><td>1.7e-11 (plus ≈ 5e-4 of threshold smudging)</td></tr>
 * </table>
 */
public final class HeParameters {
    /** N = 8192, moduli {60, 40, 60} bits, scale 2^40: 8,192 values per ciphertext packed. */
    public static final HeParameters CKKS_8192 =
            new HeParameters("ckks-8192-v1", 8192, new int[] {60, 40, 60}, 1152921504606748673L, 0x1p40);

    /** N = 16384, moduli {60, 40, 60} bits, scale 2^40: for large models, 16,384 values per ciphertext packed. */
    public static final HeParameters CKKS_16384 =
            new HeParameters("ckks-16384-v1", 16384, new int[] {60, 40, 60}, 1152921504606683137L, 0x1p40);

    /**
     * Threshold (n-of-n key holders) variant of {@link #CKKS_8192}: same N = 8192 and moduli, hence
     * the same SEAL parms_id, keys and ciphertext sizes, but scale 2^50. Threshold decryption adds
     * noise-flooding noise (σ = 2^30 per key holder) that would swamp the 2^40 scale; at 2^50 it
     * costs about 5e-4 of absolute error per value. The price is 2^10 less headroom than
     * {@link #CKKS_8192}: {@link #maxSumNorm()} ≈ 32,768 (e.g. total weight 3,276 at clip bound 10).
     * The scale is not part of SEAL's parms_id: the set is told apart from {@link #CKKS_8192} by
     * its id (and by each ciphertext's scale field), never by key bytes.
     */
    public static final HeParameters CKKS_8192_T50 =
            new HeParameters("ckks-8192-t50-v1", 8192, new int[] {60, 40, 60}, 1152921504606748673L, 0x1p50);

    private static final List<HeParameters> ALL = List.of(CKKS_8192, CKKS_16384, CKKS_8192_T50);

    private final String id;
    private final int polyModulusDegree;
    private final int[] coeffModulusBits;
    /**
     * Coefficient magnitude (in units of the plaintext polynomial, i.e. already times Δ) kept free
     * for noise below q0/2: 2^44. It covers the worst-case fresh encryption noise of 2^20 summed
     * public-key ciphertexts (each below N·6σ·… ≈ 2^18 at σ = 3.2) and 8 standard deviations of the
     * threshold decryption's smudging noise (σ = 2^30 per holder) for up to 256 holders.
     */
    public static final double NOISE_MARGIN = 0x1p44;

    private final double scale;
    private final long decryptionModulus;

    private HeParameters(
            String id, int polyModulusDegree, int[] coeffModulusBits, long decryptionModulus, double scale) {
        this.id = id;
        this.polyModulusDegree = polyModulusDegree;
        this.coeffModulusBits = coeffModulusBits;
        this.decryptionModulus = decryptionModulus;
        this.scale = scale;
    }

    /** All parameter sets this version knows. */
    public static List<HeParameters> all() {
        return ALL;
    }

    /** The parameter set with this id, if this version knows it. */
    public static Optional<HeParameters> byId(String id) {
        return ALL.stream().filter(p -> p.id.equals(id)).findFirst();
    }

    /** The stable id, e.g. {@code ckks-8192-v1}. */
    public String id() {
        return id;
    }

    /** The ring dimension N. */
    public int polyModulusDegree() {
        return polyModulusDegree;
    }

    /** Bit sizes of the coefficient modulus primes, the last one being the special prime. */
    public int[] coeffModulusBits() {
        return coeffModulusBits.clone();
    }

    /** The CKKS scale Δ. */
    public double scale() {
        return scale;
    }

    /**
     * q0, the one prime left at the last level where FedSeal ciphertexts live and are decrypted:
     * the smaller 60-bit prime ≡ 1 mod 2N that SEAL's {@code CoeffModulus::Create} picks.
     */
    public long decryptionModulus() {
        return decryptionModulus;
    }

    /**
     * The largest L2 norm of the values one ciphertext may carry, in a single ciphertext or a sum,
     * such that it still decrypts correctly: √(N/2)·(q0/2 − {@link #NOISE_MARGIN})/Δ, the same for
     * both packings (see the class documentation for the derivation and the table per set). It is
     * tight: the values (c, 0, c, 0, …) complex-packed, or (c, c, …) real-packed, with norm 1 %
     * above it decrypt wrapped. Unitless (the same units as the encrypted values).
     */
    public double maxSumNorm() {
        return Math.sqrt(polyModulusDegree / 2.0) * (decryptionModulus / 2.0 - NOISE_MARGIN) / scale;
    }

    /** CKKS slots per ciphertext (N/2). */
    public int slots() {
        return polyModulusDegree / 2;
    }

    /** How many values one ciphertext carries under a packing. */
    public int valuesPerCiphertext(Packing packing) {
        return packing == Packing.COMPLEX ? polyModulusDegree : polyModulusDegree / 2;
    }

    /** How many ciphertexts a vector of {@code length} values needs. */
    public int ciphertextsFor(int length, Packing packing) {
        int per = valuesPerCiphertext(packing);
        return (length + per - 1) / per;
    }

    @Override
    public String toString() {
        return id + Arrays.toString(coeffModulusBits);
    }
}
