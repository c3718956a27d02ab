package org.fedseal.hejava;

/**
 * The parameter set "ckks-8192-v1" as SEAL builds it: N = 8192,
 * {@code CoeffModulus::Create(8192, {60, 40, 60})} = {q0, q1, q2} (q2 the special prime, note
 * that the smaller 60-bit prime comes first), scale 2^40. FedSeal ciphertexts travel at the last
 * level, where only q0 is left.
 */
final class Ckks8192 {
    static final String ID = "ckks-8192-v1";
    static final int N = 8192;
    static final int LOG_N = 13;
    static final int SLOTS = N / 2;
    static final long Q0 = 1152921504606748673L;
    static final long Q1 = 1099511480321L;
    static final long Q2 = 1152921504606830593L;
    static final long[] KEY_LEVEL_PRIMES = {Q0, Q1, Q2};
    static final double SCALE = 0x1p40;
    /** SEAL's scheme_type::ckks. */
    static final long SCHEME_CKKS = 2;

    /** parms_id of the key level {q0, q1, q2} (public keys live there). */
    static final long[] KEY_PARMS_ID = parmsId(Q0, Q1, Q2);
    /** parms_id of the last level {q0} (FedSeal ciphertexts live there). */
    static final long[] LAST_PARMS_ID = parmsId(Q0);

    private Ckks8192() {}

    /**
     * SEAL's {@code EncryptionParameters::compute_parms_id}: BLAKE2b-256 over the little-endian
     * u64s [scheme, N, primes…, plain modulus (0 for CKKS)], read back as 4 u64s.
     */
    static long[] parmsId(long... primes) {
        long[] words = new long[primes.length + 3];
        words[0] = SCHEME_CKKS;
        words[1] = N;
        System.arraycopy(primes, 0, words, 2, primes.length);
        words[words.length - 1] = 0;
        byte[] in = new byte[words.length * 8];
        for (int i = 0; i < words.length; i++) {
            SealBytes.putLong(in, 8 * i, words[i]);
        }
        byte[] h = Blake2b.hash(in, 32);
        long[] id = new long[4];
        for (int i = 0; i < 4; i++) {
            id[i] = SealBytes.getLong(h, 8 * i);
        }
        return id;
    }

    /** NTT tables, built once per process on first use (≈ tens of ms). */
    static final class Tables {
        static final NttPrime P0 = new NttPrime(Q0, N);
        static final NttPrime P1 = new NttPrime(Q1, N);

        private Tables() {}
    }

    /** The special prime's NTT table, only needed at the key level (threshold key generation). */
    static final class KeyTables {
        static final NttPrime P2 = new NttPrime(Q2, N);
        static final NttPrime[] ALL = {Tables.P0, Tables.P1, P2};

        private KeyTables() {}
    }
}
