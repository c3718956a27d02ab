package org.fedseal.hejava;

import java.math.BigInteger;

/**
 * Arithmetic modulo one NTT-friendly prime q &lt; 2<sup>61</sup> (q ≡ 1 mod 2N), with SEAL's
 * negacyclic NTT conventions: ψ is the <em>minimal</em> primitive 2N-th root of unity mod q,
 * the forward transform is Cooley–Tukey from natural order to bit-reversed order, i.e.
 * {@code out[k] = a(ψ^(2·bitrev(k)+1))}, and stored values are fully reduced to [0, q).
 *
 * <p>Twiddle factors use Shoup's precomputed quotients ({@code w' = ⌊w·2^64/q⌋}); general
 * products use Barrett reduction. Both need only {@link Math#multiplyHigh} plus a correction
 * for the unsigned case. Immutable and thread-safe.
 */
final class NttPrime {
    final long q;
    final int n;
    private final int logN;
    private final int bits;
    private final long barrettMu; // ⌊2^(2·bits) / q⌋ < 2^(bits+1)
    private final long[] psiRev; // ψ^bitrev(i)
    private final long[] psiRevShoup;
    private final long[] psiInvRev; // ψ^-bitrev(i), in the order the inverse transform reads it
    private final long[] psiInvRevShoup;
    private final long nInv;
    private final long nInvShoup;

    NttPrime(long q, int n) {
        if (q <= 2 || q >= (1L << 61) || Integer.bitCount(n) != 1 || n < 4) {
            throw new IllegalArgumentException("unsupported prime " + q + " or degree " + n);
        }
        BigInteger bq = BigInteger.valueOf(q);
        if (!bq.isProbablePrime(64) || (q - 1) % (2L * n) != 0) {
            throw new IllegalArgumentException(q + " is not a prime ≡ 1 mod " + (2 * n));
        }
        this.q = q;
        this.n = n;
        this.logN = Integer.numberOfTrailingZeros(n);
        this.bits = 64 - Long.numberOfLeadingZeros(q);
        this.barrettMu = BigInteger.ONE.shiftLeft(2 * bits).divide(bq).longValueExact();

        long psi = minimalPrimitiveRoot(2L * n);
        long psiInv = BigInteger.valueOf(psi).modInverse(bq).longValueExact();
        psiRev = new long[n];
        psiRevShoup = new long[n];
        psiInvRev = new long[n];
        psiInvRevShoup = new long[n];
        long pow = 1;
        long powInv = 1;
        for (int i = 0; i < n; i++) {
            int r = bitReverse(i, logN);
            psiRev[r] = pow;
            psiInvRev[r] = powInv;
            pow = mulMod(pow, psi);
            powInv = mulMod(powInv, psiInv);
        }
        for (int i = 0; i < n; i++) {
            psiRevShoup[i] = shoup(psiRev[i]);
            psiInvRevShoup[i] = shoup(psiInvRev[i]);
        }
        nInv = BigInteger.valueOf(n).modInverse(bq).longValueExact();
        nInvShoup = shoup(nInv);
    }

    static int bitReverse(int x, int bitCount) {
        return bitCount == 0 ? 0 : Integer.reverse(x) >>> (32 - bitCount);
    }

    /** Shoup's quotient ⌊w·2^64/q⌋ for a fixed multiplicand w &lt; q (as unsigned 64 bits). */
    long shoup(long w) {
        return BigInteger.valueOf(w).shiftLeft(64).divide(BigInteger.valueOf(q)).longValue();
    }

    /** a·w mod q for a &lt; 2^63 (any), w &lt; q with its Shoup quotient wp; result in [0, q). */
    long mulShoup(long a, long w, long wp) {
        long hi = Math.multiplyHigh(a, wp) + ((wp >> 63) & a); // unsigned high word, a ≥ 0
        long r = a * w - hi * q; // true value in [0, 2q)
        return r >= q ? r - q : r;
    }

    /** a·b mod q for 0 ≤ a, b &lt; q (Barrett). */
    long mulMod(long a, long b) {
        long lo = a * b;
        long hi = Math.multiplyHigh(a, b); // a, b < 2^61: signed = unsigned
        // x = hi:lo < q^2 < 2^(2·bits). q1 = x >> (bits-1) < 2^(bits+1).
        long q1 = (hi << (65 - bits)) | (lo >>> (bits - 1));
        long q2lo = q1 * barrettMu;
        long q2hi = Math.multiplyHigh(q1, barrettMu);
        long q3 = (q2hi << (63 - bits)) | (q2lo >>> (bits + 1));
        long r = lo - q3 * q; // true value in [0, 3q)
        if (r >= q) {
            r -= q;
            if (r >= q) {
                r -= q;
            }
        }
        return r;
    }

    long add(long a, long b) {
        long s = a + b;
        return s >= q ? s - q : s;
    }

    long sub(long a, long b) {
        long d = a - b;
        return d < 0 ? d + q : d;
    }

    /** x mod q in [0, q) for any signed x with |x| &lt; 2^62. */
    long reduceSigned(long x) {
        long r = x % q;
        return r < 0 ? r + q : r;
    }

    long pow(long base, long exp) {
        long result = 1;
        long b = base;
        long e = exp;
        while (e > 0) {
            if ((e & 1) != 0) {
                result = mulMod(result, b);
            }
            b = mulMod(b, b);
            e >>>= 1;
        }
        return result;
    }

    /** The smallest primitive m-th root of unity mod q (m a power of two), as SEAL chooses it. */
    private long minimalPrimitiveRoot(long m) {
        long cofactor = (q - 1) / m;
        long root = 0;
        for (long x = 2; x < q; x++) {
            long r = pow(x, cofactor);
            if (pow(r, m / 2) == q - 1) {
                root = r;
                break;
            }
        }
        if (root == 0) {
            throw new IllegalStateException("no primitive root of order " + m + " mod " + q);
        }
        // The primitive m-th roots are exactly the odd powers of one of them.
        long square = mulMod(root, root);
        long current = root;
        long min = root;
        for (long k = 1; k < m / 2; k++) {
            current = mulMod(current, square);
            if (current < min) {
                min = current;
            }
        }
        return min;
    }

    /** In-place forward negacyclic NTT: natural order in, bit-reversed order out, all in [0, q). */
    void forward(long[] a) {
        final long mod = q;
        int t = n;
        for (int m = 1; m < n; m <<= 1) {
            t >>>= 1;
            for (int i = 0; i < m; i++) {
                long w = psiRev[m + i];
                long wp = psiRevShoup[m + i];
                int j1 = 2 * i * t;
                int j2 = j1 + t;
                for (int j = j1; j < j2; j++) {
                    long u = a[j];
                    long x = a[j + t];
                    long hi = Math.multiplyHigh(x, wp) + ((wp >> 63) & x);
                    long v = x * w - hi * mod;
                    if (v >= mod) {
                        v -= mod;
                    }
                    long s = u + v;
                    a[j] = s >= mod ? s - mod : s;
                    long d = u - v;
                    a[j + t] = d < 0 ? d + mod : d;
                }
            }
        }
    }

    /** In-place inverse of {@link #forward}: bit-reversed order in, natural order out. */
    void inverse(long[] a) {
        final long mod = q;
        int t = 1;
        for (int m = n; m > 1; m >>>= 1) {
            int h = m >>> 1;
            int j1 = 0;
            for (int i = 0; i < h; i++) {
                long w = psiInvRev[h + i];
                long wp = psiInvRevShoup[h + i];
                int j2 = j1 + t;
                for (int j = j1; j < j2; j++) {
                    long u = a[j];
                    long x = a[j + t];
                    long s = u + x;
                    a[j] = s >= mod ? s - mod : s;
                    long d = u - x;
                    if (d < 0) {
                        d += mod;
                    }
                    long hi = Math.multiplyHigh(d, wp) + ((wp >> 63) & d);
                    long v = d * w - hi * mod;
                    a[j + t] = v >= mod ? v - mod : v;
                }
                j1 += 2 * t;
            }
            t <<= 1;
        }
        for (int j = 0; j < n; j++) {
            a[j] = mulShoup(a[j], nInv, nInvShoup);
        }
    }
}
