package org.fedseal.hejava;

import java.util.Arrays;

/**
 * A SEAL CKKS secret key for "ckks-8192-v1", parsed from SEAL's uncompressed serialization
 * (he-native's {@code HeSecretKey.toBytes(SecretKeyAccess)}): a plaintext s in NTT form at the
 * key level {q0, q1, q2}. Only its q0 part is kept (the last level is all a FedSeal ciphertext
 * needs).
 *
 * <p>Validated strictly: exact size, SEAL header, parms_id of the key level, coefficient count
 * 3·8192, the array's header and count, every coefficient below its prime. SEAL's Plaintext
 * format has no is_ntt_form flag: a secret key is NTT form by construction.
 *
 * <p>This is secret material: whoever holds it decrypts everything encrypted under the matching
 * public key. {@link #destroy()} overwrites the kept coefficients (best effort — the JVM may
 * have copied them, and the caller's byte array is the caller's to wipe). Nothing here is
 * constant-time. Thread-safe until destroyed.
 */
public final class JavaCkksSecretKey {
    private static final int N = Ckks8192.N;
    private static final int K = 3;
    /** parms_id, coeff_count (u64), scale (f64). */
    private static final int PLAIN_META_BYTES = 32 + 8 + 8;

    private static final int OFFSET_COEFF_COUNT = SealBytes.HEADER_BYTES + 32;
    private static final int OFFSET_DYNARRAY = SealBytes.HEADER_BYTES + PLAIN_META_BYTES;
    private static final int OFFSET_DATA = OFFSET_DYNARRAY + SealBytes.DYNARRAY_PREFIX_BYTES;
    /** Exact serialized size of a "ckks-8192-v1" secret key. */
    public static final int SERIALIZED_BYTES = OFFSET_DATA + K * N * 8;

    private final long[] sq0;
    private volatile boolean destroyed;

    private JavaCkksSecretKey(long[] sq0) {
        this.sq0 = sq0;
    }

    /**
     * Parses and validates a secret key in SEAL's uncompressed serialization.
     *
     * @throws IllegalArgumentException if the bytes are not a valid "ckks-8192-v1" secret key (the
     *     message never contains key material)
     */
    public static JavaCkksSecretKey parse(byte[] sealSecretKeyBytes) {
        byte[] b = sealSecretKeyBytes;
        if (b == null) {
            throw new NullPointerException("sealSecretKeyBytes");
        }
        if (b.length != SERIALIZED_BYTES) {
            throw malformed(b.length + " bytes, expected exactly " + SERIALIZED_BYTES);
        }
        String bad = SealBytes.checkHeader(b, 0, b.length);
        if (bad != null) {
            throw malformed(bad);
        }
        for (int i = 0; i < 4; i++) {
            if (SealBytes.getLong(b, SealBytes.HEADER_BYTES + 8 * i) != Ckks8192.KEY_PARMS_ID[i]) {
                throw malformed("parms_id is not that of ckks-8192-v1's key level");
            }
        }
        long count = (long) K * N;
        if (SealBytes.getLong(b, OFFSET_COEFF_COUNT) != count) {
            throw malformed("coefficient count is not " + count);
        }
        bad = SealBytes.checkHeader(b, OFFSET_DYNARRAY, SealBytes.DYNARRAY_PREFIX_BYTES + 8 * count);
        if (bad != null) {
            throw malformed("coefficient array: " + bad);
        }
        if (SealBytes.getLong(b, OFFSET_DYNARRAY + SealBytes.HEADER_BYTES) != count) {
            throw malformed("coefficient array size is not " + count);
        }
        long[] s = new long[N];
        int at = OFFSET_DATA;
        for (int prime = 0; prime < K; prime++) {
            long q = Ckks8192.KEY_LEVEL_PRIMES[prime];
            for (int k = 0; k < N; k++, at += 8) {
                long v = SealBytes.getLong(b, at);
                if (Long.compareUnsigned(v, q) >= 0) {
                    Arrays.fill(s, 0L);
                    throw malformed("a coefficient is not below prime " + prime);
                }
                if (prime == 0) {
                    s[k] = v;
                }
            }
        }
        return new JavaCkksSecretKey(s);
    }

    private static IllegalArgumentException malformed(String reason) {
        return new IllegalArgumentException("secret key: " + reason);
    }

    /** s mod q0 in NTT form; throws once destroyed. */
    long[] sq0() {
        if (destroyed) {
            throw new IllegalStateException("secret key destroyed");
        }
        return sq0;
    }

    /** Overwrites the key material; the key is unusable afterwards. */
    public void destroy() {
        destroyed = true;
        Arrays.fill(sq0, 0L);
    }

    /** Whether {@link #destroy()} has run. */
    public boolean isDestroyed() {
        return destroyed;
    }

    /** The parameter set, {@code "ckks-8192-v1"}. */
    public String parameterSetId() {
        return Ckks8192.ID;
    }

    @Override
    public String toString() {
        return "JavaCkksSecretKey[" + Ckks8192.ID + (destroyed ? ", destroyed" : "") + "]"; // never the key
    }
}
