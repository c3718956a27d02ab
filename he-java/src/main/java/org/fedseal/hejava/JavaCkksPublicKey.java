package org.fedseal.hejava;

/**
 * A SEAL CKKS public key for the parameter set "ckks-8192-v1", parsed from SEAL's
 * <em>uncompressed</em> serialization (what he-native's {@code HePublicKey.toBytes()} returns):
 * a ciphertext (pk0, pk1) = (−a·s + e, a) at the key level {q0, q1, q2}, in NTT form.
 *
 * <p>{@link #parse} validates strictly: exact size (393,329 bytes), SEAL header (magic, version
 * 4.0, no compression, size field), parms_id of the key level, NTT form, 2 polynomials, N = 8192,
 * 3 primes, scale 1, correction factor 1, the coefficient array's own header and count, every
 * coefficient below its prime, and neither polynomial all zero. A key saved with SEAL's
 * {@code save_seed} (pk1 replaced by a PRNG seed) is refused: serve clients the full key.
 *
 * <p>What parsing cannot check: that the key is honest. Whoever hands a client its public key
 * can decrypt what the client encrypts with it, so the key must come over an authenticated
 * channel (or be pinned) — exactly as for the native encryptor.
 *
 * <p>Immutable and thread-safe.
 */
public final class JavaCkksPublicKey {
    private static final int N = Ckks8192.N;
    private static final int K = 3;
    /** Exact serialized size of a "ckks-8192-v1" public key. */
    public static final int SERIALIZED_BYTES = SealBytes.ciphertextBytes(N, K);

    /** pk0 and pk1 mod q0 and mod q1 (NTT form); the special prime's part is not needed at the last level. */
    final long[] pk0q0;

    final long[] pk0q1;
    final long[] pk1q0;
    final long[] pk1q1;

    private JavaCkksPublicKey(long[] pk0q0, long[] pk0q1, long[] pk1q0, long[] pk1q1) {
        this.pk0q0 = pk0q0;
        this.pk0q1 = pk0q1;
        this.pk1q0 = pk1q0;
        this.pk1q1 = pk1q1;
    }

    /**
     * Parses and validates a public key in SEAL's uncompressed serialization.
     *
     * @throws IllegalArgumentException with the reason, if the bytes are not a valid uncompressed
     *     "ckks-8192-v1" public key
     */
    public static JavaCkksPublicKey parse(byte[] sealPublicKeyBytes) {
        byte[] b = sealPublicKeyBytes;
        if (b == null) {
            throw new NullPointerException("sealPublicKeyBytes");
        }
        if (b.length != SERIALIZED_BYTES) {
            throw malformed(b.length + " bytes, expected exactly " + SERIALIZED_BYTES
                    + " (an uncompressed, unseeded ckks-8192-v1 public key)");
        }
        String bad = SealBytes.checkHeader(b, 0, b.length);
        if (bad != null) {
            throw malformed(bad);
        }
        for (int i = 0; i < 4; i++) {
            if (SealBytes.getLong(b, SealBytes.OFFSET_PARMS_ID + 8 * i) != Ckks8192.KEY_PARMS_ID[i]) {
                throw malformed("parms_id is not that of ckks-8192-v1's key level");
            }
        }
        if (b[SealBytes.OFFSET_NTT_FORM] != 1) {
            throw malformed("not in NTT form");
        }
        if (SealBytes.getLong(b, SealBytes.OFFSET_SIZE) != 2
                || SealBytes.getLong(b, SealBytes.OFFSET_DEGREE) != N
                || SealBytes.getLong(b, SealBytes.OFFSET_PRIMES) != K) {
            throw malformed("wrong shape (size, degree or prime count)");
        }
        if (Double.longBitsToDouble(SealBytes.getLong(b, SealBytes.OFFSET_SCALE)) != 1.0) {
            throw malformed("scale is not 1");
        }
        if (SealBytes.getLong(b, SealBytes.OFFSET_CORRECTION) != 1) {
            throw malformed("correction factor is not 1");
        }
        long count = 2L * K * N;
        bad = SealBytes.checkHeader(b, SealBytes.OFFSET_DYNARRAY, SealBytes.DYNARRAY_PREFIX_BYTES + 8 * count);
        if (bad != null) {
            throw malformed("coefficient array: " + bad);
        }
        if (SealBytes.getLong(b, SealBytes.OFFSET_DYNARRAY + SealBytes.HEADER_BYTES) != count) {
            throw malformed("coefficient count is not " + count + " (a seeded key?)");
        }
        long[][][] polys = new long[2][K][];
        int at = SealBytes.OFFSET_DATA;
        for (int poly = 0; poly < 2; poly++) {
            for (int prime = 0; prime < K; prime++) {
                long q = Ckks8192.KEY_LEVEL_PRIMES[prime];
                long[] c = new long[N];
                boolean allZero = true;
                for (int k = 0; k < N; k++, at += 8) {
                    long v = SealBytes.getLong(b, at);
                    if (Long.compareUnsigned(v, q) >= 0) {
                        throw malformed("coefficient " + k + " of polynomial " + poly + " is not below prime " + prime);
                    }
                    allZero &= v == 0;
                    c[k] = v;
                }
                if (allZero) {
                    throw malformed("polynomial " + poly + " is zero modulo prime " + prime);
                }
                polys[poly][prime] = c;
            }
        }
        return new JavaCkksPublicKey(polys[0][0], polys[0][1], polys[1][0], polys[1][1]);
    }

    private static IllegalArgumentException malformed(String reason) {
        return new IllegalArgumentException("public key: " + reason);
    }

    /** The parameter set, {@code "ckks-8192-v1"}. */
    public String parameterSetId() {
        return Ckks8192.ID;
    }

    @Override
    public String toString() {
        return "JavaCkksPublicKey[" + Ckks8192.ID + "]";
    }
}
