package org.fedseal.hejava;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * <b>Internal</b> ring arithmetic and SEAL byte layouts of "ckks-8192" for
 * {@code org.fedseal.hejava.threshold}, which lives in its own package and cannot reach he-java's
 * package-private building blocks (NTT, samplers, encoder, SEAL serialization). Not an
 * application API: use {@code org.fedseal.hejava.threshold}'s typed classes instead.
 *
 * <p>Nothing here sums secret-key shares: every function works on one party's material, or on
 * public data (key shares p_i, decryption shares h_i, ciphertexts).
 *
 * <p>Polynomials are {@code long[N]} in NTT form (SEAL's convention) unless said otherwise; a
 * key-level polynomial is {@code long[3][N]}, one row per prime q0, q1, q2. Stateless and
 * thread-safe.
 */
public final class ThresholdSupport {
    /** Ring degree N. */
    public static final int N = Ckks8192.N;
    /** Primes at the key level (q0, q1, q2). */
    public static final int KEY_PRIMES = 3;
    /** The last level's (only) prime q0. */
    public static final long Q0 = Ckks8192.Q0;
    /** Exact size of a SEAL public key of ckks-8192 (uncompressed). */
    public static final int PUBLIC_KEY_BYTES = JavaCkksPublicKey.SERIALIZED_BYTES;
    /** Exact size of one serialized (unseeded) ciphertext at the last level. */
    public static final int CIPHERTEXT_BYTES = JavaCkksEncryptor.CIPHERTEXT_BYTES;

    private ThresholdSupport() {}

    /** Prime j of the key level (0 ≤ j &lt; 3). */
    public static long prime(int j) {
        return Ckks8192.KEY_LEVEL_PRIMES[j];
    }

    /** SEAL's parms_id of the key level, as 32 little-endian bytes. */
    public static byte[] keyParmsIdBytes() {
        byte[] b = new byte[32];
        for (int i = 0; i < 4; i++) {
            SealBytes.putLong(b, 8 * i, Ckks8192.KEY_PARMS_ID[i]);
        }
        return b;
    }

    /** Little-endian u64 access (SEAL's byte order). */
    public static long getLong(byte[] b, int at) {
        return SealBytes.getLong(b, at);
    }

    /** Little-endian u64 write. */
    public static void putLong(byte[] b, int at, long v) {
        SealBytes.putLong(b, at, v);
    }

    /** Little-endian u32 write. */
    public static void putInt(byte[] b, int at, int v) {
        SealBytes.putInt(b, at, v);
    }

    /** Little-endian u32 read. */
    public static int getInt(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }

    // ---------------------------------------------------------------- sampling

    /**
     * Uniform polynomials mod q0, q1, q2 (taken as NTT form, as SEAL takes its public key's a),
     * from keyed BLAKE2Xb: key = {@code key} (16..64 bytes), message = {@code domain} ‖ prime
     * index (u8) ‖ block counter (u32 LE), 64 KiB per block, each u64 word masked to the prime's
     * bit length and rejected if ≥ q_j (rejection rates 1e-13, 1.3e-7, 7e-14). Deterministic.
     */
    public static long[][] expandUniform(byte[] key, byte[] domain) {
        if (key.length < 16 || key.length > 64) {
            throw new IllegalArgumentException("key must be 16..64 bytes");
        }
        long[][] out = new long[KEY_PRIMES][N];
        byte[] message = Arrays.copyOf(domain, domain.length + 5);
        final int blockBytes = 8 * N;
        for (int j = 0; j < KEY_PRIMES; j++) {
            long q = prime(j);
            long mask = (Long.highestOneBit(q) << 1) - 1;
            message[domain.length] = (byte) j;
            int filled = 0;
            for (int block = 0; filled < N; block++) {
                SealBytes.putInt(message, domain.length + 1, block);
                byte[] stream = Blake2xb.xof(key, message, blockBytes);
                for (int at = 0; at < blockBytes && filled < N; at += 8) {
                    long v = SealBytes.getLong(stream, at) & mask;
                    if (v < q) {
                        out[j][filled++] = v;
                    }
                }
            }
        }
        return out;
    }

    /** SEAL's uniform ternary distribution over {−1, 0, 1}, N coefficients. */
    public static int[] sampleTernary(SecureRandom random) {
        NoiseSampler s = new NoiseSampler(random, N, 0);
        int[] out = new int[N];
        try {
            s.refill();
            s.ternary(out);
            return out;
        } finally {
            s.wipe();
        }
    }

    /** SEAL's clipped normal key/encryption error (σ = 3.2, |e| ≤ 19), N coefficients. */
    public static int[] sampleClippedNormal(SecureRandom random) {
        NoiseSampler s = new NoiseSampler(random, 0, N);
        int[] out = new int[N];
        try {
            s.refill();
            s.clippedNormal(out);
            return out;
        } finally {
            s.wipe();
        }
    }

    // ---------------------------------------------------------------- key level

    /**
     * NTT form of a small signed polynomial (|coefficients| &lt; 2^31) modulo q0, q1, q2: what SEAL
     * stores for a secret key.
     */
    public static long[][] smallToKeyLevelNtt(int[] small) {
        requireN(small.length);
        long[][] out = new long[KEY_PRIMES][N];
        for (int j = 0; j < KEY_PRIMES; j++) {
            NttPrime p = Ckks8192.KeyTables.ALL[j];
            for (int k = 0; k < N; k++) {
                out[j][k] = p.reduceSigned(small[k]);
            }
            p.forward(out[j]);
        }
        return out;
    }

    /**
     * One party's public key share p = −(a·s + e) at the key level, NTT form, for its secret s
     * and error e (small coefficient form). Temporaries are overwritten.
     */
    public static long[][] publicKeyShare(long[][] a, int[] s, int[] e) {
        long[][] sNtt = smallToKeyLevelNtt(s);
        long[][] eNtt = smallToKeyLevelNtt(e);
        try {
            long[][] p = new long[KEY_PRIMES][N];
            for (int j = 0; j < KEY_PRIMES; j++) {
                NttPrime pr = Ckks8192.KeyTables.ALL[j];
                for (int k = 0; k < N; k++) {
                    p[j][k] = pr.sub(0, pr.add(pr.mulMod(a[j][k], sNtt[j][k]), eNtt[j][k]));
                }
            }
            return p;
        } finally {
            for (int j = 0; j < KEY_PRIMES; j++) {
                Arrays.fill(sNtt[j], 0L);
                Arrays.fill(eNtt[j], 0L);
            }
        }
    }

    /** acc ← acc + x modulo each key-level prime (for summing <em>public</em> key shares). */
    public static void addKeyLevel(long[][] acc, long[][] x) {
        for (int j = 0; j < KEY_PRIMES; j++) {
            NttPrime p = Ckks8192.KeyTables.ALL[j];
            for (int k = 0; k < N; k++) {
                acc[j][k] = p.add(acc[j][k], x[j][k]);
            }
        }
    }

    /**
     * SEAL's uncompressed serialization of the public key (pk0, pk1) (NTT form, key level, scale
     * 1): exactly what {@code HePublicKey.toBytes()} writes and {@link JavaCkksPublicKey#parse}
     * reads.
     */
    public static byte[] sealPublicKeyBytes(long[][] pk0, long[][] pk1) {
        byte[] b = new byte[PUBLIC_KEY_BYTES];
        long count = 2L * KEY_PRIMES * N;
        SealBytes.putHeader(b, 0, b.length);
        for (int i = 0; i < 4; i++) {
            SealBytes.putLong(b, SealBytes.OFFSET_PARMS_ID + 8 * i, Ckks8192.KEY_PARMS_ID[i]);
        }
        b[SealBytes.OFFSET_NTT_FORM] = 1;
        SealBytes.putLong(b, SealBytes.OFFSET_SIZE, 2);
        SealBytes.putLong(b, SealBytes.OFFSET_DEGREE, N);
        SealBytes.putLong(b, SealBytes.OFFSET_PRIMES, KEY_PRIMES);
        SealBytes.putLong(b, SealBytes.OFFSET_SCALE, Double.doubleToRawLongBits(1.0));
        SealBytes.putLong(b, SealBytes.OFFSET_CORRECTION, 1);
        SealBytes.putHeader(b, SealBytes.OFFSET_DYNARRAY, SealBytes.DYNARRAY_PREFIX_BYTES + 8 * count);
        SealBytes.putLong(b, SealBytes.OFFSET_DYNARRAY + SealBytes.HEADER_BYTES, count);
        int at = SealBytes.OFFSET_DATA;
        for (long[][] poly : new long[][][] {pk0, pk1}) {
            for (int j = 0; j < KEY_PRIMES; j++) {
                VectorPacker.writePoly(b, at, poly[j]);
                at += 8 * N;
            }
        }
        return b;
    }

    /**
     * SEAL's serialization of a secret key whose small coefficient-form polynomial is
     * {@code small} (NTT form at the key level), which he-native's {@code loadSecretKey} reads.
     * For single-party tooling and tests (e.g. cross-checking key math); the threshold protocol
     * itself never builds a secret key.
     */
    public static byte[] sealSecretKeyBytes(int[] small) {
        long[][] s = smallToKeyLevelNtt(small);
        int meta = 32 + 8 + 8;
        int dyn = SealBytes.HEADER_BYTES + meta;
        long count = (long) KEY_PRIMES * N;
        byte[] b = new byte[dyn + SealBytes.DYNARRAY_PREFIX_BYTES + (int) (8 * count)];
        SealBytes.putHeader(b, 0, b.length);
        for (int i = 0; i < 4; i++) {
            SealBytes.putLong(b, SealBytes.HEADER_BYTES + 8 * i, Ckks8192.KEY_PARMS_ID[i]);
        }
        SealBytes.putLong(b, SealBytes.HEADER_BYTES + 32, count);
        SealBytes.putLong(b, SealBytes.HEADER_BYTES + 40, Double.doubleToRawLongBits(1.0));
        SealBytes.putHeader(b, dyn, SealBytes.DYNARRAY_PREFIX_BYTES + 8 * count);
        SealBytes.putLong(b, dyn + SealBytes.HEADER_BYTES, count);
        int at = dyn + SealBytes.DYNARRAY_PREFIX_BYTES;
        for (int j = 0; j < KEY_PRIMES; j++) {
            VectorPacker.writePoly(b, at, s[j]);
            Arrays.fill(s[j], 0L);
            at += 8 * N;
        }
        return b;
    }

    // ---------------------------------------------------------------- last level

    /** NTT form of a small signed polynomial modulo q0 only. */
    public static long[] smallToNttQ0(int[] small) {
        requireN(small.length);
        NttPrime p = Ckks8192.Tables.P0;
        long[] out = new long[N];
        for (int k = 0; k < N; k++) {
            out[k] = p.reduceSigned(small[k]);
        }
        p.forward(out);
        return out;
    }

    /** A sampler of flooding noise; one per thread (not thread-safe), wipe after use. */
    public static final class FloodingSampler {
        private final NoiseSampler sampler;
        private final double sigma;

        /** Draws from {@code random}, one bulk {@code nextBytes} per polynomial. */
        public FloodingSampler(SecureRandom random, double sigma) {
            this.sampler = new NoiseSampler(Objects.requireNonNull(random, "random"), 0, N);
            if (!(sigma >= 1 && sigma <= 0x1p40)) {
                throw new IllegalArgumentException("flooding sigma out of range");
            }
            this.sigma = sigma;
        }

        /** Fills {@code out} with N rounded normals of this sampler's σ. */
        void sample(long[] out) {
            sampler.refill();
            sampler.roundedNormal(sigma, out);
        }

        /** Overwrites the random buffer. */
        public void wipe() {
            sampler.wipe();
        }
    }

    /**
     * One party's decryption share of one ciphertext: out = c1·s + NTT(e) mod q0 with e fresh
     * flooding noise from {@code flooding}. {@code c1} and {@code sNttQ0} are NTT form mod q0;
     * {@code scratch} is N longs, overwritten with zeros on return.
     */
    public static void decryptionShare(long[] c1, long[] sNttQ0, FloodingSampler flooding, long[] scratch, long[] out) {
        NttPrime p = Ckks8192.Tables.P0;
        try {
            flooding.sample(scratch);
            for (int k = 0; k < N; k++) {
                scratch[k] = p.reduceSigned(scratch[k]);
            }
            p.forward(scratch);
            for (int k = 0; k < N; k++) {
                out[k] = p.add(p.mulMod(c1[k], sNttQ0[k]), scratch[k]);
            }
        } finally {
            Arrays.fill(scratch, 0L);
        }
    }

    // ---------------------------------------------------------------- t-of-n (Shamir over Z_q0)

    /** Fills {@code out} with N values uniform mod q0 (rejection sampling; no modulo bias). */
    public static void uniformQ0(SecureRandom random, long[] out) {
        requireN(out.length);
        long q = Ckks8192.Tables.P0.q;
        long mask = Long.highestOneBit(q) * 2 - 1;
        for (int k = 0; k < N; k++) {
            long v;
            do {
                v = random.nextLong() & mask;
            } while (v >= q);
            out[k] = v;
        }
    }

    /**
     * out ← f(x) mod q0 for the polynomial f(X) = constant + Σ_k coefficients[k−1]·X^k, evaluated
     * coefficient-wise (Horner). All inputs reduced mod q0; 1 ≤ x &lt; q0.
     */
    public static void shamirEvaluate(long[] constant, long[][] coefficients, long x, long[] out) {
        NttPrime p = Ckks8192.Tables.P0;
        for (int k = 0; k < N; k++) {
            long acc = 0;
            for (int d = coefficients.length - 1; d >= 0; d--) {
                acc = p.mulMod(p.add(acc, coefficients[d][k]), x);
            }
            out[k] = p.add(acc, constant[k]);
        }
    }

    /**
     * The Lagrange coefficient at 0 of {@code point} within {@code points} (distinct, in
     * [1, q0)): Π_{m ≠ point} m / (m − point) mod q0.
     */
    public static long lagrangeAtZeroQ0(int point, int[] points) {
        java.math.BigInteger q = java.math.BigInteger.valueOf(Ckks8192.Tables.P0.q);
        java.math.BigInteger num = java.math.BigInteger.ONE;
        java.math.BigInteger den = java.math.BigInteger.ONE;
        for (int m : points) {
            if (m != point) {
                num = num.multiply(java.math.BigInteger.valueOf(m)).mod(q);
                den = den.multiply(java.math.BigInteger.valueOf((long) m - point))
                        .mod(q);
            }
        }
        return num.multiply(den.modInverse(q)).mod(q).longValueExact();
    }

    /** out ← λ·x mod q0 (x reduced, 0 ≤ λ &lt; q0). */
    public static void scaleQ0(long[] x, long lambda, long[] out) {
        NttPrime p = Ckks8192.Tables.P0;
        for (int k = 0; k < N; k++) {
            out[k] = p.mulMod(x[k], lambda);
        }
    }

    /** Whether every value is reduced mod q0. */
    public static boolean reducedQ0(long[] x) {
        long q = Ckks8192.Tables.P0.q;
        for (long v : x) {
            if (v < 0 || v >= q) {
                return false;
            }
        }
        return true;
    }

    /** acc ← acc + x mod q0 (both reduced). */
    public static void addQ0(long[] acc, long[] x) {
        NttPrime p = Ckks8192.Tables.P0;
        for (int k = 0; k < N; k++) {
            acc[k] = p.add(acc[k], x[k]);
        }
    }

    /**
     * Decodes m (NTT form mod q0, modified: the buffer is consumed) at {@code scale}: inverse NTT,
     * centre-lift mod q0, CKKS decode; writes up to {@code count} values to {@code out[from…]}
     * (complex packing: slot i → values 2i, 2i+1; real: slot i → value i).
     */
    public static void decode(long[] m, double scale, boolean complexPacking, double[] out, int from, int count) {
        NttPrime p = Ckks8192.Tables.P0;
        p.inverse(m);
        long q = p.q;
        long half = q >>> 1;
        double[] coeff = new double[N];
        for (int k = 0; k < N; k++) {
            long v = m[k];
            coeff[k] = v > half ? (double) (v - q) : (double) v;
        }
        double[] im = new double[N];
        double[] slotRe = new double[N / 2];
        double[] slotIm = new double[N / 2];
        CkksEncoder.decode(coeff, scale, im, slotRe, slotIm);
        for (int i = 0; i < count; i++) {
            out[from + i] = complexPacking ? ((i & 1) == 0 ? slotRe[i >>> 1] : slotIm[i >>> 1]) : slotRe[i];
        }
    }

    // ---------------------------------------------------------------- FSEV vectors

    /**
     * A parsed and validated FSEV vector (he-native's {@code EncryptedVector.toBytes()} form) of
     * unseeded ciphertexts at the last level. Immutable.
     */
    public static final class CiphertextVector {
        private final int length;
        private final boolean complexPacking;
        private final double scale;
        private final long[][] c0;
        private final long[][] c1;

        private CiphertextVector(int length, boolean complexPacking, double scale, long[][] c0, long[][] c1) {
            this.length = length;
            this.complexPacking = complexPacking;
            this.scale = scale;
            this.c0 = c0;
            this.c1 = c1;
        }

        /** Number of values. */
        public int length() {
            return length;
        }

        /** COMPLEX (two values per slot) or REAL packing. */
        public boolean complexPacking() {
            return complexPacking;
        }

        /** The common scale of all ciphertexts. */
        public double scale() {
            return scale;
        }

        /** Number of ciphertexts. */
        public int ciphertextCount() {
            return c0.length;
        }

        /** Values per ciphertext for this packing. */
        public int valuesPerCiphertext() {
            return VectorPacker.valuesPerCiphertext(complexPacking);
        }

        /** c0 of ciphertext i (NTT form mod q0); a copy. */
        public long[] c0(int i) {
            return c0[i].clone();
        }

        /** c1 of ciphertext i; a copy. */
        public long[] c1(int i) {
            return c1[i].clone();
        }
    }

    /**
     * Parses an FSEV vector strictly: header (magic, version 1, packing, reserved bytes, length,
     * count consistent with length and packing), every ciphertext an unseeded SEAL ciphertext at
     * ckks-8192's last level (exact size, header, parms_id, NTT form, 2 polynomials, 1 prime,
     * finite positive scale equal across ciphertexts, correction factor 1, coefficients &lt; q0),
     * no trailing bytes.
     *
     * @throws IllegalArgumentException with the reason
     */
    public static CiphertextVector parseVector(byte[] b) {
        Objects.requireNonNull(b, "fsevVectorBytes");
        if (b.length < VectorPacker.FSEV_HEADER_BYTES) {
            throw badVector("shorter than its header");
        }
        if (getInt(b, 0) != VectorPacker.FSEV_MAGIC) {
            throw badVector("bad magic");
        }
        if (b[4] != VectorPacker.FSEV_VERSION) {
            throw badVector("unsupported format version " + b[4]);
        }
        if (b[5] != VectorPacker.PACKING_REAL && b[5] != VectorPacker.PACKING_COMPLEX) {
            throw badVector("unknown packing " + b[5]);
        }
        boolean complex = b[5] == VectorPacker.PACKING_COMPLEX;
        if (b[6] != 0 || b[7] != 0) {
            throw badVector("reserved bytes are not zero");
        }
        int length = getInt(b, 8);
        int count = getInt(b, 12);
        if (length <= 0
                || count <= 0
                || count > VectorPacker.MAX_CIPHERTEXTS_PER_VECTOR
                || count != VectorPacker.ciphertextsFor(length, complex)) {
            throw badVector("bad length " + length + " or ciphertext count " + count);
        }
        long expected = VectorPacker.encryptedBytes(length, complex, CIPHERTEXT_BYTES);
        if (b.length != expected) {
            throw badVector(b.length + " bytes, expected exactly " + expected
                    + " (unseeded ckks-8192 ciphertexts at the last level; seeded ones are never aggregates)");
        }
        long[][] c0 = new long[count][];
        long[][] c1 = new long[count][];
        double scale = 0;
        int at = VectorPacker.FSEV_HEADER_BYTES;
        for (int c = 0; c < count; c++) {
            if (getInt(b, at) != CIPHERTEXT_BYTES) {
                throw badVector("ciphertext " + c + " has a size field other than " + CIPHERTEXT_BYTES);
            }
            at += 4;
            String bad = SealBytes.checkHeader(b, at, CIPHERTEXT_BYTES);
            if (bad != null) {
                throw badVector("ciphertext " + c + ": " + bad);
            }
            for (int i = 0; i < 4; i++) {
                if (SealBytes.getLong(b, at + SealBytes.OFFSET_PARMS_ID + 8 * i) != Ckks8192.LAST_PARMS_ID[i]) {
                    throw badVector("ciphertext " + c + " is not at ckks-8192's last level (parms_id)");
                }
            }
            if (b[at + SealBytes.OFFSET_NTT_FORM] != 1
                    || SealBytes.getLong(b, at + SealBytes.OFFSET_SIZE) != 2
                    || SealBytes.getLong(b, at + SealBytes.OFFSET_DEGREE) != N
                    || SealBytes.getLong(b, at + SealBytes.OFFSET_PRIMES) != 1
                    || SealBytes.getLong(b, at + SealBytes.OFFSET_CORRECTION) != 1) {
                throw badVector(
                        "ciphertext " + c + " has the wrong shape (NTT form, size, degree, primes, correction)");
            }
            double s = Double.longBitsToDouble(SealBytes.getLong(b, at + SealBytes.OFFSET_SCALE));
            if (!(s >= 1 && Double.isFinite(s)) || (c > 0 && s != scale)) {
                throw badVector("ciphertext " + c + " has an invalid or inconsistent scale " + s);
            }
            scale = s;
            long dataCount = 2L * N;
            bad = SealBytes.checkHeader(
                    b, at + SealBytes.OFFSET_DYNARRAY, SealBytes.DYNARRAY_PREFIX_BYTES + 8 * dataCount);
            if (bad != null
                    || SealBytes.getLong(b, at + SealBytes.OFFSET_DYNARRAY + SealBytes.HEADER_BYTES) != dataCount) {
                throw badVector("ciphertext " + c + ": bad coefficient array header");
            }
            int d = at + SealBytes.OFFSET_DATA;
            c0[c] = readPolyQ0(b, d, c);
            c1[c] = readPolyQ0(b, d + 8 * N, c);
            at += CIPHERTEXT_BYTES;
        }
        return new CiphertextVector(length, complex, scale, c0, c1);
    }

    private static long[] readPolyQ0(byte[] b, int at, int c) {
        long[] p = new long[N];
        for (int k = 0; k < N; k++, at += 8) {
            long v = SealBytes.getLong(b, at);
            if (Long.compareUnsigned(v, Q0) >= 0) {
                throw badVector("ciphertext " + c + " has a coefficient not below q0");
            }
            p[k] = v;
        }
        return p;
    }

    private static IllegalArgumentException badVector(String reason) {
        return new IllegalArgumentException("encrypted vector: " + reason);
    }

    private static void requireN(int n) {
        if (n != N) {
            throw new IllegalArgumentException("polynomial of " + n + " coefficients, expected " + N);
        }
    }
}
