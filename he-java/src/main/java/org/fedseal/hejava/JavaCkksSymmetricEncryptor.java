package org.fedseal.hejava;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * Pure-Java CKKS secret-key ("symmetric") encryption for "ckks-8192-v1", writing SEAL's
 * <em>seeded</em> form: c1 = a is not sent but replaced by the 64-byte seed of SEAL's
 * Blake2xb PRNG, from which SEAL re-expands it on load. 65,730 bytes per ciphertext (half the
 * public-key form), same FSEV wire form, same packings, and as cheap as one NTT per ciphertext.
 * he-native's {@code HeContext.loadVector} accepts the output; its {@code symmetricEncryptor}
 * produces the same format.
 *
 * <h2>What it computes</h2>
 * SEAL 4.0's {@code encrypt_zero_symmetric} at the last level {q0} plus the plaintext: a seed
 * σ of 64 bytes from the {@link SecureRandom}; a = SEAL's {@code sample_poly_uniform} over the
 * Blake2xb stream of σ (taken directly as NTT form); e clipped normal (σ = 3.2, |e| ≤ 19.2,
 * truncated toward zero); c0 = NTT(m − e) − a·s mod q0.
 *
 * <h2>Security assumptions</h2>
 * As for {@link JavaCkksEncryptor} (SecureRandom quality, SEAL's distributions), and moreover:
 * this encryptor holds the <em>secret key</em>, so anyone who can read this process's memory
 * can decrypt. Nothing here is constant-time — including the products with s (branchy modular
 * reduction) — so a local timing attacker on the device is out of scope. The seed is public by
 * design (it only generates a).
 *
 * <p>Thread-safe if the {@link SecureRandom} is; each call allocates its own scratch space.
 */
public final class JavaCkksSymmetricEncryptor {
    /** Exact size of one serialized seeded ciphertext. */
    public static final int CIPHERTEXT_BYTES;

    private static final int N = Ckks8192.N;
    /** UniformRandomGeneratorInfo: header, prng type (u8), 64 seed bytes. */
    private static final int SEED_INFO_BYTES = SealBytes.HEADER_BYTES + 1 + Blake2xb.SEED_BYTES;
    /** SEAL's prng_type::blake2xb. */
    private static final int PRNG_BLAKE2XB = 1;

    static {
        CIPHERTEXT_BYTES = SealBytes.OFFSET_DATA + 8 * N + SEED_INFO_BYTES;
    }

    private final JavaCkksSecretKey secretKey;
    private final boolean complexPacking;
    private final SecureRandom random;
    private final NttPrime p0;
    private final long maxMultiple;

    /**
     * An encryptor under {@code secretKey}.
     *
     * @param complexPacking true for two values per slot ({@code COMPLEX}), false for one ({@code REAL})
     * @param random the source of the seed and the errors, e.g. {@code new SecureRandom()}
     */
    public JavaCkksSymmetricEncryptor(JavaCkksSecretKey secretKey, boolean complexPacking, SecureRandom random) {
        this.secretKey = Objects.requireNonNull(secretKey, "secretKey");
        this.random = Objects.requireNonNull(random, "random");
        this.complexPacking = complexPacking;
        this.p0 = Ckks8192.Tables.P0;
        long q = p0.q;
        // SEAL: max_multiple = 2^64 − 1 − ((2^64 − 1) mod q) − 1, compared unsigned.
        this.maxMultiple = -1L - Long.remainderUnsigned(-1L, q) - 1;
    }

    /** Whether two values share a slot ({@code COMPLEX}) rather than one per slot ({@code REAL}). */
    public boolean complexPacking() {
        return complexPacking;
    }

    /** Values per ciphertext: 8,192 with complex packing, 4,096 with real packing. */
    public int valuesPerCiphertext() {
        return VectorPacker.valuesPerCiphertext(complexPacking);
    }

    /** Exact size of {@link #encrypt}'s output for {@code length} values. */
    public long encryptedBytes(int length) {
        return VectorPacker.encryptedBytes(length, complexPacking, CIPHERTEXT_BYTES);
    }

    /**
     * Encrypts {@code values} (at least one) into FedSeal's wire form with seeded ciphertexts.
     *
     * @throws IllegalArgumentException as {@link JavaCkksEncryptor#encrypt(double[])}
     * @throws IllegalStateException if the secret key was destroyed
     */
    public byte[] encrypt(double[] values) {
        long[] s = secretKey.sq0();
        int[] e = new int[N];
        long[] a = new long[N];
        long[] d = new long[N];
        byte[] seed = new byte[Blake2xb.SEED_BYTES];
        NoiseSampler sampler = new NoiseSampler(random, 0, N);
        try {
            return VectorPacker.pack(values, complexPacking, Ckks8192.SCALE, CIPHERTEXT_BYTES, (plain, out, at) -> {
                NttPrime p = p0;
                long q = p.q;
                random.nextBytes(seed);
                Blake2xb prng = new Blake2xb(seed);
                try {
                    // SEAL's sample_poly_uniform: N words first, then replacements for rejected ones.
                    for (int k = 0; k < N; k++) {
                        a[k] = prng.nextLong();
                    }
                    for (int k = 0; k < N; k++) {
                        long r = a[k];
                        while (Long.compareUnsigned(r, maxMultiple) >= 0) {
                            r = prng.nextLong();
                        }
                        a[k] = Long.remainderUnsigned(r, q);
                    }
                } finally {
                    prng.wipe();
                }
                sampler.refill();
                sampler.clippedNormal(e);
                for (int k = 0; k < N; k++) {
                    long x = plain[k] - e[k]; // in (−20, q + 20)
                    if (x < 0) {
                        x += q;
                    } else if (x >= q) {
                        x -= q;
                    }
                    d[k] = x;
                }
                p.forward(d);
                for (int k = 0; k < N; k++) {
                    d[k] = p.sub(d[k], p.mulMod(a[k], s[k]));
                }
                VectorPacker.writeCiphertextPrefix(out, at, CIPHERTEXT_BYTES, N, Ckks8192.SCALE);
                VectorPacker.writePoly(out, at + SealBytes.OFFSET_DATA, d);
                int info = at + SealBytes.OFFSET_DATA + 8 * N;
                SealBytes.putHeader(out, info, SEED_INFO_BYTES);
                out[info + SealBytes.HEADER_BYTES] = PRNG_BLAKE2XB;
                System.arraycopy(seed, 0, out, info + SealBytes.HEADER_BYTES + 1, seed.length);
            });
        } finally {
            Arrays.fill(e, 0);
            Arrays.fill(a, 0L);
            Arrays.fill(d, 0L);
            sampler.wipe();
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

    @Override
    public String toString() {
        return "JavaCkksSymmetricEncryptor[" + Ckks8192.ID + ", " + (complexPacking ? "COMPLEX" : "REAL") + "]";
    }
}
