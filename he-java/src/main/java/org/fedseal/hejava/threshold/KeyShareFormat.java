package org.fedseal.hejava.threshold;

import java.util.Arrays;
import org.fedseal.hejava.ThresholdSupport;

/**
 * Wire form of a public key share p_i ("FSKS", version 1, little-endian): magic, version (u8),
 * 3 zero bytes, SEAL parms_id of the key level (32 bytes), the ceremony's CRS seed (32 bytes),
 * then p_i's 3·8192 u64 coefficients (NTT form), prime-major (q0, q1, q2). 196,680 bytes.
 */
final class KeyShareFormat {
    static final int MAGIC = 0x534B5346; // "FSKS"
    static final int VERSION = 1;
    static final int OFFSET_PARMS_ID = 8;
    static final int OFFSET_SEED = 40;
    static final int OFFSET_DATA = 72;
    static final int N = ThresholdSupport.N;
    static final int BYTES = OFFSET_DATA + 8 * ThresholdSupport.KEY_PRIMES * N;

    private KeyShareFormat() {}

    static byte[] write(CommonReference crs, long[][] p) {
        byte[] b = new byte[BYTES];
        ThresholdSupport.putInt(b, 0, MAGIC);
        b[4] = VERSION;
        System.arraycopy(ThresholdSupport.keyParmsIdBytes(), 0, b, OFFSET_PARMS_ID, 32);
        System.arraycopy(crs.seed(), 0, b, OFFSET_SEED, CommonReference.SEED_BYTES);
        int at = OFFSET_DATA;
        for (int j = 0; j < ThresholdSupport.KEY_PRIMES; j++) {
            for (int k = 0; k < N; k++, at += 8) {
                ThresholdSupport.putLong(b, at, p[j][k]);
            }
        }
        return b;
    }

    /** Parses and validates a share made for {@code crs}; throws IllegalArgumentException with the reason. */
    static long[][] read(CommonReference crs, byte[] b) {
        if (b == null) {
            throw new NullPointerException("public key share");
        }
        if (b.length != BYTES) {
            throw bad(b.length + " bytes, expected exactly " + BYTES);
        }
        if (ThresholdSupport.getInt(b, 0) != MAGIC || b[4] != VERSION || b[5] != 0 || b[6] != 0 || b[7] != 0) {
            throw bad("not a version-1 FSKS key share");
        }
        if (!Arrays.equals(b, OFFSET_PARMS_ID, OFFSET_PARMS_ID + 32, ThresholdSupport.keyParmsIdBytes(), 0, 32)) {
            throw bad("not for ckks-8192's key level (parms_id)");
        }
        if (!crs.hasSeed(b, OFFSET_SEED)) {
            throw bad("made for another common reference string (ceremony)");
        }
        long[][] p = new long[ThresholdSupport.KEY_PRIMES][N];
        int at = OFFSET_DATA;
        for (int j = 0; j < ThresholdSupport.KEY_PRIMES; j++) {
            long q = ThresholdSupport.prime(j);
            boolean zero = true;
            for (int k = 0; k < N; k++, at += 8) {
                long v = ThresholdSupport.getLong(b, at);
                if (Long.compareUnsigned(v, q) >= 0) {
                    throw bad("coefficient " + k + " is not below prime " + j);
                }
                zero &= v == 0;
                p[j][k] = v;
            }
            if (zero) {
                throw bad("zero modulo prime " + j);
            }
        }
        return p;
    }

    private static IllegalArgumentException bad(String reason) {
        return new IllegalArgumentException("public key share: " + reason);
    }
}
