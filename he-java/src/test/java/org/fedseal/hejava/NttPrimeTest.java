package org.fedseal.hejava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NttPrimeTest {
    @Test
    void mulModMatchesBigInteger() {
        SplittableRandom r = new SplittableRandom(1);
        for (long q : new long[] {Ckks8192.Q0, Ckks8192.Q1, Ckks8192.Q2}) {
            NttPrime p = new NttPrime(q, 16);
            BigInteger bq = BigInteger.valueOf(q);
            for (int i = 0; i < 20000; i++) {
                long a = i < 3 ? q - 1 - i : r.nextLong(q);
                long b = i < 3 ? q - 1 : r.nextLong(q);
                long expect = BigInteger.valueOf(a)
                        .multiply(BigInteger.valueOf(b))
                        .mod(bq)
                        .longValueExact();
                assertEquals(expect, p.mulMod(a, b));
                long wp = p.shoup(b);
                assertEquals(expect, p.mulShoup(a, b, wp));
            }
        }
    }

    /** The forward transform evaluates at ψ^(2·bitrev(k)+1), and multiplies negacyclically. */
    @Test
    void negacyclicConvolutionAndRoundTrip() {
        int n = 64;
        SplittableRandom r = new SplittableRandom(2);
        for (long q : new long[] {Ckks8192.Q0, Ckks8192.Q1}) {
            NttPrime p = new NttPrime(q, n);
            long[] a = new long[n];
            long[] b = new long[n];
            for (int i = 0; i < n; i++) {
                a[i] = r.nextLong(q);
                b[i] = r.nextLong(q);
            }
            long[] expect = new long[n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    long prod = p.mulMod(a[i], b[j]);
                    int k = i + j;
                    expect[k % n] = k < n ? p.add(expect[k % n], prod) : p.sub(expect[k % n], prod);
                }
            }
            long[] fa = a.clone();
            long[] fb = b.clone();
            p.forward(fa);
            p.forward(fb);
            long[] prod = new long[n];
            for (int i = 0; i < n; i++) {
                prod[i] = p.mulMod(fa[i], fb[i]);
            }
            p.inverse(prod);
            assertArrayEquals(expect, prod);
            p.inverse(fa);
            assertArrayEquals(a, fa);
        }
    }
}
