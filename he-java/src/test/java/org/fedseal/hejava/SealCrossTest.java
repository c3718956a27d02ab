package org.fedseal.hejava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeDecryptor;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.he.Packing;
import org.fedseal.he.VectorEncryptor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Cross-tests against real SEAL, through he-native (test scope only). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SealCrossTest {
    private HeContext he;
    private HeKeyPair keys;
    private HeDecryptor decryptor;
    private byte[] publicKeyBytes;
    private JavaCkksPublicKey publicKey;
    private final SecureRandom random = new SecureRandom();

    @BeforeAll
    void setUp() {
        he = HeContext.create(HeParameters.CKKS_8192);
        keys = he.generateKeys();
        decryptor = he.decryptor(keys.secretKey());
        publicKeyBytes = keys.publicKey().toBytes();
        publicKey = JavaCkksPublicKey.parse(publicKeyBytes);
    }

    @AfterAll
    void tearDown() {
        decryptor.close();
        keys.close();
        he.close();
    }

    private static double[] randomValues(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble(-1, 1);
        }
        return v;
    }

    private static double maxError(double[] expect, double[] actual) {
        assertEquals(expect.length, actual.length);
        double max = 0;
        for (int i = 0; i < expect.length; i++) {
            max = Math.max(max, Math.abs(expect[i] - actual[i]));
        }
        return max;
    }

    private static long[] parmsIdAt(byte[] b, int at) {
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long[] id = new long[4];
        for (int i = 0; i < 4; i++) {
            id[i] = in.getLong(at + 16 + 8 * i);
        }
        return id;
    }

    private double[] decrypt(byte[] wire) throws MalformedHeDataException {
        try (EncryptedVector v = he.loadVector(wire)) {
            return decryptor.decrypt(v);
        }
    }

    @Test
    void parmsIdsMatchSeal() {
        // A SEAL ciphertext inside an FSEV vector: FSEV header (16) + size (4), then SEAL's bytes.
        try (VectorEncryptor enc = he.encryptor(keys.publicKey());
                EncryptedVector v = enc.encrypt(new double[] {1.0})) {
            byte[] wire = v.toBytes();
            assertArrayEquals(Ckks8192.LAST_PARMS_ID, parmsIdAt(wire, 20));
        }
        assertArrayEquals(Ckks8192.KEY_PARMS_ID, parmsIdAt(publicKeyBytes, 0));
        assertEquals(he.publicKeyBytes(), JavaCkksPublicKey.SERIALIZED_BYTES);
        assertEquals(he.ciphertextBytes(false), JavaCkksEncryptor.CIPHERTEXT_BYTES);
    }

    @ParameterizedTest(name = "{0} values, complex={1}")
    @CsvSource({"1,true", "8192,true", "20000,true", "1,false", "8192,false", "20000,false"})
    void sealLoadsAndDecryptsJavaCiphertexts(int length, boolean complex) throws Exception {
        JavaCkksEncryptor enc = new JavaCkksEncryptor(publicKey, complex, random);
        double[] values = randomValues(length, length * 31L + (complex ? 1 : 0));
        byte[] wire = enc.encrypt(values);
        assertEquals(enc.encryptedBytes(length), wire.length);
        try (EncryptedVector v = he.loadVector(wire)) {
            assertEquals(length, v.length());
            assertEquals(complex ? Packing.COMPLEX : Packing.REAL, v.packing());
            assertEquals(enc.ciphertextsFor(length), v.ciphertextCount());
            double err = maxError(values, decryptor.decrypt(v));
            assertTrue(err < 1e-6, "max error " + err);
            // The canonical re-serialization of what SEAL loaded is our bytes, unchanged.
            assertArrayEquals(wire, v.toBytes());
        }
    }

    @Test
    void floatValues() throws Exception {
        float[] values = {0.5f, -0.25f, 1e-3f, -1f, 0.125f};
        JavaCkksEncryptor enc = new JavaCkksEncryptor(publicKey, true, random);
        double[] out = decrypt(enc.encrypt(values));
        for (int i = 0; i < values.length; i++) {
            assertEquals(values[i], out[i], 1e-6);
        }
    }

    @Test
    void sumsOfNativeAndJavaCiphertexts() throws Exception {
        for (boolean complex : new boolean[] {true, false}) {
            int length = 12_345;
            double[] a = randomValues(length, 7);
            double[] b = randomValues(length, 8);
            double[] c = randomValues(length, 9);
            JavaCkksEncryptor javaEnc = new JavaCkksEncryptor(publicKey, complex, random);
            try (VectorEncryptor nativeEnc = he.encryptor(keys.publicKey(), complex ? Packing.COMPLEX : Packing.REAL);
                    EncryptedVector sum = nativeEnc.encrypt(a);
                    EncryptedVector vb = he.loadVector(javaEnc.encrypt(b));
                    EncryptedVector vc = he.loadVector(javaEnc.encrypt(c))) {
                sum.addInPlace(vb);
                vc.multiplyInPlace(3);
                sum.addInPlace(vc);
                double[] expect = new double[length];
                for (int i = 0; i < length; i++) {
                    expect[i] = a[i] + b[i] + 3 * c[i];
                }
                double err = maxError(expect, decryptor.decrypt(sum));
                assertTrue(err < 1e-6, "max error " + err);
                // And the other way round: a Java vector as the accumulator.
                try (EncryptedVector acc = he.loadVector(javaEnc.encrypt(b));
                        EncryptedVector va = nativeEnc.encrypt(a)) {
                    acc.addInPlace(va);
                    double[] ab = new double[length];
                    for (int i = 0; i < length; i++) {
                        ab[i] = a[i] + b[i];
                    }
                    assertTrue(maxError(ab, decryptor.decrypt(acc)) < 1e-6);
                }
            }
        }
    }

    @Test
    void freshRandomnessEveryCall() {
        JavaCkksEncryptor enc = new JavaCkksEncryptor(publicKey, true, random);
        double[] values = randomValues(100, 3);
        byte[] x = enc.encrypt(values);
        byte[] y = enc.encrypt(values);
        assertEquals(x.length, y.length);
        assertFalse(Arrays.equals(x, y));
        // Headers equal, ciphertext bodies differ almost everywhere.
        int body = 20 + SealBytes.OFFSET_DATA;
        assertArrayEquals(Arrays.copyOf(x, body), Arrays.copyOf(y, body));
        int same = 0;
        for (int i = body; i < x.length; i += 8) {
            if (SealBytes.getLong(x, i) == SealBytes.getLong(y, i)) {
                same++;
            }
        }
        assertTrue(same < 4, same + " equal coefficients");
    }

    /**
     * The noise is small: encryptions of zero decrypt to ~0, well within SEAL's own (native
     * encryptions are measured the same way for comparison).
     */
    @Test
    void noiseIsSmallAndLikeSeals() throws Exception {
        int length = 2 * 8192;
        double[] zeros = new double[length];
        JavaCkksEncryptor enc = new JavaCkksEncryptor(publicKey, true, random);
        double javaErr = maxError(zeros, decrypt(enc.encrypt(zeros)));
        double nativeErr;
        try (VectorEncryptor nativeEnc = he.encryptor(keys.publicKey());
                EncryptedVector v = nativeEnc.encrypt(zeros)) {
            nativeErr = maxError(zeros, decryptor.decrypt(v));
        }
        System.out.printf("noise on zeros: java max %.3g, native max %.3g%n", javaErr, nativeErr);
        // Expected: coefficient noise sd ≈ 21 (rounding by q1), slot sd ≈ 21·√N/2^40 ≈ 2e-9.
        assertTrue(javaErr < 3e-8, "java noise " + javaErr);
        assertTrue(javaErr < 3 * nativeErr, "java noise " + javaErr + " vs native " + nativeErr);
    }

    @ParameterizedTest(name = "symmetric, {0} values, complex={1}")
    @CsvSource({"1,true", "20000,true", "5000,false"})
    void sealLoadsSeededSymmetricCiphertexts(int length, boolean complex) throws Exception {
        byte[] skBytes = keys.secretKey().toBytes(org.fedseal.he.SecretKeyAccess.insecureSecretKeyAccess());
        JavaCkksSecretKey sk = JavaCkksSecretKey.parse(skBytes);
        JavaCkksSymmetricEncryptor enc = new JavaCkksSymmetricEncryptor(sk, complex, random);
        assertEquals(he.ciphertextBytes(true), JavaCkksSymmetricEncryptor.CIPHERTEXT_BYTES);
        double[] values = randomValues(length, length * 17L);
        byte[] wire = enc.encrypt(values);
        assertEquals(enc.encryptedBytes(length), wire.length);
        assertFalse(Arrays.equals(wire, enc.encrypt(values)));
        double[] other = randomValues(length, 99);
        try (EncryptedVector v = he.loadVector(wire);
                VectorEncryptor nativeEnc = he.encryptor(keys.publicKey(), complex ? Packing.COMPLEX : Packing.REAL);
                EncryptedVector w = nativeEnc.encrypt(other)) {
            double err = maxError(values, decryptor.decrypt(v));
            assertTrue(err < 1e-6, "max error " + err);
            v.addInPlace(w);
            double[] sum = new double[length];
            for (int i = 0; i < length; i++) {
                sum[i] = values[i] + other[i];
            }
            assertTrue(maxError(sum, decryptor.decrypt(v)) < 1e-6);
        }
        sk.destroy();
        assertThrows(IllegalStateException.class, () -> enc.encrypt(values));
    }

    @Test
    void rejectsBadInput() {
        JavaCkksEncryptor enc = new JavaCkksEncryptor(publicKey, true, random);
        assertThrows(IllegalArgumentException.class, () -> enc.encrypt(new double[0]));
        assertThrows(IllegalArgumentException.class, () -> enc.encrypt(new double[] {Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> enc.encrypt(new double[] {Double.POSITIVE_INFINITY}));
        assertThrows(IllegalArgumentException.class, () -> enc.encrypt(new double[] {1e30}));
    }

    @Test
    void publicKeyParsingIsStrict() {
        assertThrows(IllegalArgumentException.class, () -> JavaCkksPublicKey.parse(new byte[10]));
        assertThrows(
                IllegalArgumentException.class,
                () -> JavaCkksPublicKey.parse(Arrays.copyOf(publicKeyBytes, publicKeyBytes.length - 1)));
        int[] offsets = {
            0,
            2,
            3,
            5,
            6,
            8,
            16,
            47,
            48,
            49,
            57,
            65,
            73,
            81,
            SealBytes.OFFSET_DYNARRAY + 8,
            SealBytes.OFFSET_DYNARRAY + 16
        };
        for (int at : offsets) {
            byte[] bad = publicKeyBytes.clone();
            bad[at] ^= 0x10;
            assertThrows(IllegalArgumentException.class, () -> JavaCkksPublicKey.parse(bad), "flip at " + at);
        }
        byte[] big = publicKeyBytes.clone();
        SealBytes.putLong(big, SealBytes.OFFSET_DATA + 8 * 5, Ckks8192.Q0); // coefficient = q0: out of range
        assertThrows(IllegalArgumentException.class, () -> JavaCkksPublicKey.parse(big));
    }

    /** Not a benchmark: one printed line comparing Java and native per-ciphertext cost. */
    @Test
    void timing() throws Exception {
        int cts = 12;
        double[] values = randomValues(cts * 8192, 11);
        JavaCkksEncryptor enc = new JavaCkksEncryptor(publicKey, true, random);
        enc.encrypt(randomValues(3 * 8192, 12)); // warm-up
        long t0 = System.nanoTime();
        byte[] wire = enc.encrypt(values);
        long t1 = System.nanoTime();
        double nativeMs;
        try (VectorEncryptor nativeEnc = he.encryptor(keys.publicKey())) {
            nativeEnc.encrypt(randomValues(3 * 8192, 12)).close();
            long t2 = System.nanoTime();
            try (EncryptedVector v = nativeEnc.encrypt(values)) {
                byte[] nativeWire = v.toBytes();
                nativeMs = (System.nanoTime() - t2) / 1e6 / cts;
                assertEquals(nativeWire.length, wire.length);
            }
        }
        double javaMs = (t1 - t0) / 1e6 / cts;
        System.out.printf(
                "ms per ciphertext (8192 values, COMPLEX, incl. serialization): public key: java %.2f, native %.2f (%s)%n",
                javaMs, nativeMs, random.getAlgorithm());
        assertTrue(maxError(values, decrypt(wire)) < 1e-6);

        JavaCkksSymmetricEncryptor sym = new JavaCkksSymmetricEncryptor(
                JavaCkksSecretKey.parse(
                        keys.secretKey().toBytes(org.fedseal.he.SecretKeyAccess.insecureSecretKeyAccess())),
                true,
                random);
        sym.encrypt(randomValues(3 * 8192, 12));
        long t3 = System.nanoTime();
        byte[] symWire = sym.encrypt(values);
        double symMs = (System.nanoTime() - t3) / 1e6 / cts;
        double nativeSymMs;
        try (VectorEncryptor nativeSym = he.symmetricEncryptor(keys.secretKey(), Packing.COMPLEX)) {
            nativeSym.encrypt(randomValues(3 * 8192, 12)).close();
            long t4 = System.nanoTime();
            try (EncryptedVector v = nativeSym.encrypt(values)) {
                byte[] nativeWire = v.toBytes();
                nativeSymMs = (System.nanoTime() - t4) / 1e6 / cts;
                assertEquals(nativeWire.length, symWire.length);
            }
        }
        System.out.printf(
                "ms per ciphertext (8192 values, COMPLEX, incl. serialization): symmetric seeded: java %.2f, native %.2f%n",
                symMs, nativeSymMs);
        assertTrue(maxError(values, decrypt(symWire)) < 1e-6);
    }
}
