package org.fedseal.hejava;

import java.util.Arrays;
import java.util.Objects;

/**
 * Splits a vector into ciphertext-sized pieces, encodes each (SEAL's CKKS encoder conventions,
 * at the parameter set's scale, mod q0) and frames the ciphertexts in FedSeal's "FSEV" wire form: little-endian
 * magic "FSEV", version 1, packing (0 = REAL, 1 = COMPLEX), 2 zero bytes, length, count, then
 * per ciphertext its size (int) and SEAL's serialization.
 */
final class VectorPacker {
    static final int FSEV_MAGIC = 0x56455346;
    static final int FSEV_VERSION = 1;
    static final int FSEV_HEADER_BYTES = 16;
    static final int PACKING_REAL = 0;
    static final int PACKING_COMPLEX = 1;
    static final int MAX_CIPHERTEXTS_PER_VECTOR = 4096;
    private static final int N = Ckks8192.N;

    /** Encrypts one encoded plaintext (coefficients mod q0, coefficient form) into out[at, at + size). */
    interface CiphertextWriter {
        void write(long[] plain, byte[] out, int at);
    }

    private VectorPacker() {}

    static int valuesPerCiphertext(boolean complex) {
        return complex ? N : N / 2;
    }

    static int ciphertextsFor(int length, boolean complex) {
        int per = valuesPerCiphertext(complex);
        return (int) ((length + (long) per - 1) / per);
    }

    static long encryptedBytes(int length, boolean complex, int ciphertextBytes) {
        return FSEV_HEADER_BYTES + (long) ciphertextsFor(length, complex) * (4 + ciphertextBytes);
    }

    static double[] widen(float[] values) {
        Objects.requireNonNull(values, "values");
        double[] d = new double[values.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = values[i];
        }
        return d;
    }

    static byte[] pack(double[] values, boolean complex, double scale, int ciphertextBytes, CiphertextWriter writer) {
        Objects.requireNonNull(values, "values");
        int length = values.length;
        if (length == 0) {
            throw new IllegalArgumentException("cannot encrypt an empty vector");
        }
        int count = ciphertextsFor(length, complex);
        if (count > MAX_CIPHERTEXTS_PER_VECTOR) {
            throw new IllegalArgumentException(length + " values need " + count + " ciphertexts, more than the "
                    + MAX_CIPHERTEXTS_PER_VECTOR + " a vector may hold");
        }
        long total = encryptedBytes(length, complex, ciphertextBytes);
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(length + " values would take " + total + " bytes: split the vector");
        }
        byte[] out = new byte[(int) total];
        SealBytes.putInt(out, 0, FSEV_MAGIC);
        out[4] = FSEV_VERSION;
        out[5] = (byte) (complex ? PACKING_COMPLEX : PACKING_REAL);
        SealBytes.putInt(out, 8, length);
        SealBytes.putInt(out, 12, count);

        double[] slotRe = new double[N / 2];
        double[] slotIm = new double[N / 2];
        double[] fftRe = new double[N];
        double[] fftIm = new double[N];
        long[] plain = new long[N];
        NttPrime p0 = Ckks8192.Tables.P0;
        try {
            int per = valuesPerCiphertext(complex);
            int at = FSEV_HEADER_BYTES;
            for (int c = 0; c < count; c++) {
                int from = c * per;
                int to = Math.min(length, from + per);
                Arrays.fill(slotRe, 0.0);
                Arrays.fill(slotIm, 0.0);
                if (complex) {
                    for (int i = from; i < to; i++) {
                        int s = (i - from) >>> 1;
                        if (((i - from) & 1) == 0) {
                            slotRe[s] = values[i];
                        } else {
                            slotIm[s] = values[i];
                        }
                    }
                } else {
                    System.arraycopy(values, from, slotRe, 0, to - from);
                }
                CkksEncoder.encode(slotRe, slotIm, scale, fftRe, fftIm, plain, p0);
                SealBytes.putInt(out, at, ciphertextBytes);
                at += 4;
                writer.write(plain, out, at);
                at += ciphertextBytes;
            }
        } finally {
            Arrays.fill(slotRe, 0.0);
            Arrays.fill(slotIm, 0.0);
            Arrays.fill(fftRe, 0.0);
            Arrays.fill(fftIm, 0.0);
            Arrays.fill(plain, 0L);
        }
        return out;
    }

    /** SEAL's ciphertext metadata and the coefficient array's prefix, for count u64s of data. */
    static void writeCiphertextPrefix(byte[] out, int at, int totalBytes, long count, double scale) {
        SealBytes.putHeader(out, at, totalBytes);
        for (int i = 0; i < 4; i++) {
            SealBytes.putLong(out, at + SealBytes.OFFSET_PARMS_ID + 8 * i, Ckks8192.LAST_PARMS_ID[i]);
        }
        out[at + SealBytes.OFFSET_NTT_FORM] = 1;
        SealBytes.putLong(out, at + SealBytes.OFFSET_SIZE, 2);
        SealBytes.putLong(out, at + SealBytes.OFFSET_DEGREE, N);
        SealBytes.putLong(out, at + SealBytes.OFFSET_PRIMES, 1);
        SealBytes.putLong(out, at + SealBytes.OFFSET_SCALE, Double.doubleToRawLongBits(scale));
        SealBytes.putLong(out, at + SealBytes.OFFSET_CORRECTION, 1);
        SealBytes.putHeader(out, at + SealBytes.OFFSET_DYNARRAY, SealBytes.DYNARRAY_PREFIX_BYTES + 8 * count);
        SealBytes.putLong(out, at + SealBytes.OFFSET_DYNARRAY + SealBytes.HEADER_BYTES, count);
    }

    static void writePoly(byte[] out, int at, long[] poly) {
        for (int k = 0; k < poly.length; k++, at += 8) {
            SealBytes.putLong(out, at, poly[k]);
        }
    }
}
