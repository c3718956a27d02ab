package org.fedseal.hejava;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * Pure-Java CKKS public-key encryption for "ckks-8192-v1" whose output SEAL (through
 * he-native's {@code HeContext.loadVector}) loads with full validation, adds and decrypts: for
 * clients that cannot run native SEAL, such as Android phones.
 *
 * <h2>What it computes</h2>
 * Exactly SEAL 4.0's {@code Encryptor::encrypt} for a CKKS plaintext at the last level {q0}:
 * encrypt zero one level up, at {q0, q1}: c_j = pk_j·u + e_j (u uniform ternary, e_j SEAL's
 * clipped normal, NTT form), then divide and round by q1 (SEAL's
 * {@code divide_and_round_q_last_ntt_inplace}), then add the encoded plaintext to c0. Given
 * the same u and e the ciphertext is bit-for-bit SEAL's; the linear steps are merged so that
 * one ciphertext costs six NTTs of size 8192. Values are encoded with SEAL's
 * {@code CKKSEncoder} conventions at the parameter set's scale (2^40 for "ckks-8192-v1", 2^50 for "ckks-8192-t50-v1").
 *
 * <h2>Output</h2>
 * FedSeal's {@code EncryptedVector} wire form ("FSEV", see he-native's EncryptedVector):
 * little-endian magic {@code "FSEV"}, version 1, packing (0 = REAL, 1 = COMPLEX), 2 zero bytes,
 * length, ciphertext count, then per ciphertext its size and SEAL's uncompressed serialization
 * (131,185 bytes each). With complex packing (the default in FedSeal) slot i carries
 * {@code values[2i] + j·values[2i+1]}: 8,192 values per ciphertext; with real packing slot i
 * carries {@code values[i]}: 4,096 values per ciphertext. The last ciphertext is padded with
 * zeros.
 *
 * <h2>Security assumptions</h2>
 * <ul>
 *   <li>All randomness comes from the {@link SecureRandom} given to the constructor (drawn in
 *       bulk, one {@code nextBytes} per ciphertext); its quality is the caller's choice. A fresh
 *       u and fresh errors are drawn for every ciphertext, so two encryptions of the same
 *       values differ.
 *   <li>Distributions are SEAL's (as built by sealy, {@code SEAL_USE_GAUSSIAN_NOISE=ON}): u
 *       uniform ternary, e clipped normal σ = 3.2, |e| ≤ 6σ = 19.2, truncated toward zero.
 *       Security rests on RLWE for N = 8192 with log q = 160 (SEAL's 128-bit bound is 218).
 *   <li>No secret key is involved, but the ephemeral u, e and the plaintext are: this code makes
 *       <em>no constant-time guarantee</em> (rejection sampling, floating-point encoding and
 *       Gaussians, data-dependent branches). An attacker who can time this process closely
 *       (e.g. co-located malware) is out of scope. Temporaries are overwritten after use, on a
 *       best-effort basis.
 *   <li>The public key's authenticity is the caller's business (see {@link JavaCkksPublicKey}).
 * </ul>
 *
 * <p>Thread-safe if the {@link SecureRandom} is (the JDK's are); each call allocates its own
 * scratch space (≈ 0.5 MiB).
 */
public final class JavaCkksEncryptor {
    /** The most ciphertexts a receiver accepts in one vector (he-native's limit). */
    public static final int MAX_CIPHERTEXTS_PER_VECTOR = VectorPacker.MAX_CIPHERTEXTS_PER_VECTOR;
    /** Exact size of one serialized ciphertext (at the last level, one prime). */
    public static final int CIPHERTEXT_BYTES = SealBytes.ciphertextBytes(Ckks8192.N, 1);

    private static final int N = Ckks8192.N;

    private final JavaCkksPublicKey publicKey;
    private final JavaCkksParameterSet parameterSet;
    private final boolean complexPacking;
    private final SecureRandom random;
    private final NttPrime p0;
    private final NttPrime p1;
    private final long q1InvModQ0;
    private final long q1InvModQ0Shoup;
    private final long q1ModQ0Shoup;

    /**
     * An encryptor under {@code publicKey}.
     *
     * @param complexPacking true for two values per slot (FedSeal's default, {@code COMPLEX}),
     *     false for one ({@code REAL})
     * @param random the source of all encryption randomness, e.g. {@code new SecureRandom()}
     */
    public JavaCkksEncryptor(JavaCkksPublicKey publicKey, boolean complexPacking, SecureRandom random) {
        this(publicKey, JavaCkksParameterSet.CKKS_8192_V1, complexPacking, random);
    }

    /**
     * An encryptor under {@code publicKey} for a given parameter set: values are encoded at its
     * scale (2^40 for "ckks-8192-v1", 2^50 for the threshold set "ckks-8192-t50-v1") and the scale
     * is written into each ciphertext. The key bytes are the same for both sets.
     *
     * @param parameterSet the round's parameter set
     * @param complexPacking true for two values per slot, false for one
     * @param random the source of all encryption randomness
     */
    public JavaCkksEncryptor(
            JavaCkksPublicKey publicKey,
            JavaCkksParameterSet parameterSet,
            boolean complexPacking,
            SecureRandom random) {
        this.publicKey = Objects.requireNonNull(publicKey, "publicKey");
        this.parameterSet = Objects.requireNonNull(parameterSet, "parameterSet");
        this.random = Objects.requireNonNull(random, "random");
        this.complexPacking = complexPacking;
        this.p0 = Ckks8192.Tables.P0;
        this.p1 = Ckks8192.Tables.P1;
        this.q1InvModQ0 = java.math.BigInteger.valueOf(Ckks8192.Q1)
                .modInverse(java.math.BigInteger.valueOf(Ckks8192.Q0))
                .longValueExact();
        this.q1InvModQ0Shoup = p0.shoup(q1InvModQ0);
        this.q1ModQ0Shoup = p0.shoup(Ckks8192.Q1); // q1 < q0
    }

    /** The parameter set whose scale this encryptor encodes at. */
    public JavaCkksParameterSet parameterSet() {
        return parameterSet;
    }

    /** Whether two values share a slot ({@code COMPLEX}) rather than one per slot ({@code REAL}). */
    public boolean complexPacking() {
        return complexPacking;
    }

    /** Values per ciphertext: 8,192 with complex packing, 4,096 with real packing. */
    public int valuesPerCiphertext() {
        return VectorPacker.valuesPerCiphertext(complexPacking);
    }

    /** How many ciphertexts a vector of {@code length} values takes. */
    public int ciphertextsFor(int length) {
        return VectorPacker.ciphertextsFor(length, complexPacking);
    }

    /** Exact size of {@link #encrypt}'s output for {@code length} values. */
    public long encryptedBytes(int length) {
        return VectorPacker.encryptedBytes(length, complexPacking, CIPHERTEXT_BYTES);
    }

    /**
     * Encrypts {@code values} (at least one) into FedSeal's wire form, which he-native's
     * {@code HeContext.loadVector} accepts. Values should be of moderate size: at a 60-bit modulus,
     * sums must fit the parameter set's headroom (RoundOpened.sumNormBound, he-native HeParameters.maxSumNorm).
     *
     * @throws IllegalArgumentException if values is empty, holds a NaN or infinity, is too long
     *     for one vector, or its values are too large to encode
     */
    public byte[] encrypt(double[] values) {
        Work w = new Work(random);
        try {
            double scale = parameterSet.scale();
            return VectorPacker.pack(values, complexPacking, scale, CIPHERTEXT_BYTES, (plain, out, at) -> {
                encryptOne(plain, w);
                VectorPacker.writeCiphertextPrefix(out, at, CIPHERTEXT_BYTES, 2L * N, scale);
                VectorPacker.writePoly(out, at + SealBytes.OFFSET_DATA, w.c0);
                VectorPacker.writePoly(out, at + SealBytes.OFFSET_DATA + 8 * N, w.c1);
            });
        } finally {
            w.wipe();
        }
    }

    /** As {@link #encrypt(double[])}, for float values (each widened exactly to double). */
    public byte[] encrypt(float[] values) {
        double[] d = VectorPacker.widen(values);
        try {
            return encrypt(d);
        } finally {
            Arrays.fill(d, 0.0);
        }
    }

    /** Scratch space of one call. */
    private static final class Work {
        final int[] u = new int[N];
        final int[] e = new int[N];
        final long[] u0 = new long[N];
        final long[] u1 = new long[N];
        final long[] t = new long[N];
        final long[] d = new long[N];
        final long[] c0 = new long[N];
        final long[] c1 = new long[N];
        final NoiseSampler sampler;

        Work(SecureRandom random) {
            sampler = new NoiseSampler(random, N, 2 * N);
        }

        void wipe() {
            for (long[] a : new long[][] {u0, u1, t, d, c0, c1}) {
                Arrays.fill(a, 0L);
            }
            Arrays.fill(u, 0);
            Arrays.fill(e, 0);
            sampler.wipe();
        }
    }

    /**
     * c_j = ⌊(pk_j·u + e_j + [j = 0]·q1·m) / q1⌉ mod q0, computed as SEAL does but merged:
     * with r_j = ((pk_j·u + e_j mod q1, coefficient form) + ⌊q1/2⌋ mod q1) − ⌊q1/2⌋, the result is
     * (pk_j·NTT(u) + NTT(e_j − r_j + [j = 0]·q1·m))·q1⁻¹ mod q0 — SEAL's
     * (c_j − NTT(r_j))·q1⁻¹ + [j = 0]·NTT(m), by linearity.
     */
    private void encryptOne(long[] plain, Work w) {
        NttPrime a = p0;
        NttPrime b = p1;
        long q0 = a.q;
        long q1 = b.q;
        long half = q1 >>> 1;
        w.sampler.refill();
        w.sampler.ternary(w.u);
        for (int k = 0; k < N; k++) {
            int v = w.u[k];
            w.u0[k] = v < 0 ? q0 - 1 : v;
            w.u1[k] = v < 0 ? q1 - 1 : v;
        }
        a.forward(w.u0);
        b.forward(w.u1);
        for (int j = 0; j < 2; j++) {
            long[] pkQ0 = j == 0 ? publicKey.pk0q0 : publicKey.pk1q0;
            long[] pkQ1 = j == 0 ? publicKey.pk0q1 : publicKey.pk1q1;
            long[] dst = j == 0 ? w.c0 : w.c1;
            w.sampler.clippedNormal(w.e);
            // pk_j·u mod q1, back to coefficients.
            for (int k = 0; k < N; k++) {
                w.t[k] = b.mulMod(pkQ1[k], w.u1[k]);
            }
            b.inverse(w.t);
            for (int k = 0; k < N; k++) {
                int e = w.e[k];
                long c = w.t[k] + e; // in (−q1, 2·q1)
                if (c < 0) {
                    c += q1;
                } else if (c >= q1) {
                    c -= q1;
                }
                long r = c + half;
                if (r >= q1) {
                    r -= q1;
                }
                long s = e - (r - half); // |s| < q1 < q0
                long m = j == 0 ? a.mulShoup(plain[k], q1, q1ModQ0Shoup) : 0;
                long x = m + s;
                if (x < 0) {
                    x += q0;
                } else if (x >= q0) {
                    x -= q0;
                }
                w.d[k] = x;
            }
            a.forward(w.d);
            for (int k = 0; k < N; k++) {
                long y = a.add(a.mulMod(pkQ0[k], w.u0[k]), w.d[k]);
                dst[k] = a.mulShoup(y, q1InvModQ0, q1InvModQ0Shoup);
            }
        }
    }

    @Override
    public String toString() {
        return "JavaCkksEncryptor[" + parameterSet.id() + ", " + (complexPacking ? "COMPLEX" : "REAL") + "]";
    }
}
