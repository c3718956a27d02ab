package org.fedseal.he;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link HeParameters#maxSumNorm()} is the truth for every parameter set: sums whose values have
 * that L2 norm per ciphertext decrypt correctly, the worst-case vector 1 % above it wraps.
 */
class HeadroomTest {
    static Iterable<HeParameters> sets() {
        return HeParameters.all();
    }

    /** The worst case of the bound: all of the norm in coefficient 0 of the plaintext polynomial. */
    private static double[] worstCase(HeParameters p, Packing packing, double norm) {
        int n = p.valuesPerCiphertext(packing);
        double c = norm / Math.sqrt(p.slots());
        double[] v = new double[n];
        for (int i = 0; i < n; i += packing == Packing.COMPLEX ? 2 : 1) {
            v[i] = c;
        }
        assertEquals(norm, Math.sqrt(Arrays.stream(v).map(x -> x * x).sum()), norm * 1e-12);
        return v;
    }

    /** Encrypts {@code parts} equal shares of v and decrypts their homomorphic sum. */
    private static double[] encryptedSum(HeContext he, HeKeyPair keys, Packing packing, double[] v, int parts) {
        double[] share = Arrays.stream(v).map(x -> x / parts).toArray();
        try (VectorEncryptor enc = he.encryptor(keys.publicKey(), packing);
                HeDecryptor dec = he.decryptor(keys.secretKey());
                EncryptedVector sum = enc.encrypt(share)) {
            for (int i = 1; i < parts; i++) {
                try (EncryptedVector next = enc.encrypt(share)) {
                    sum.addInPlace(next);
                }
            }
            return dec.decrypt(sum);
        }
    }

    private static double maxError(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @ParameterizedTest
    @MethodSource("sets")
    void sumsAtTheBoundDecryptAndJustAboveWrap(HeParameters p) {
        try (HeContext he = HeContext.create(p);
                HeKeyPair keys = he.generateKeys()) {
            for (Packing packing : Packing.values()) {
                double[] at = worstCase(p, packing, p.maxSumNorm());
                double err = maxError(at, encryptedSum(he, keys, packing, at, 4));
                System.out.printf(
                        "%s %s: maxSumNorm %.6g, largest value %.6g, error at the bound %.3g%n",
                        p.id(), packing, p.maxSumNorm(), at[0], err);
                assertTrue(err < 1e-3, p.id() + " " + packing + ": error " + err + " at the bound");

                double[] above = worstCase(p, packing, p.maxSumNorm() * 1.01);
                double[] got = encryptedSum(he, keys, packing, above, 4);
                assertTrue(
                        maxError(above, got) > 1.0,
                        p.id() + " " + packing + ": 1 % above the bound should wrap, error " + maxError(above, got));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void randomSumsAtTheBoundDecrypt(HeParameters p) {
        Random rnd = new Random(p.id().hashCode());
        try (HeContext he = HeContext.create(p);
                HeKeyPair keys = he.generateKeys()) {
            for (int trial = 0; trial < 3; trial++) {
                double[] v = new double[p.polyModulusDegree()];
                double norm = 0;
                for (int i = 0; i < v.length; i++) {
                    v[i] = trial == 0 ? rnd.nextGaussian() : (trial == 1 ? rnd.nextDouble() : (i % 7 == 0 ? 1 : 0));
                    norm += v[i] * v[i];
                }
                double f = p.maxSumNorm() / Math.sqrt(norm);
                double[] at = Arrays.stream(v).map(x -> x * f).toArray();
                double err = maxError(at, encryptedSum(he, keys, Packing.COMPLEX, at, 3));
                assertTrue(err < 1e-3, p.id() + " trial " + trial + ": error " + err);
            }
        }
    }
}
