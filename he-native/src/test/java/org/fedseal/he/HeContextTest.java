package org.fedseal.he;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class HeContextTest {
    private static HeContext he;
    private static HeKeyPair keys;
    private static VectorEncryptor pkEncryptor;
    private static HeDecryptor decryptor;

    @BeforeAll
    static void setUp() {
        he = HeContext.create(HeParameters.CKKS_8192);
        keys = he.generateKeys();
        pkEncryptor = he.encryptor(keys.publicKey());
        decryptor = he.decryptor(keys.secretKey());
    }

    @AfterAll
    static void tearDown() {
        decryptor.close();
        pkEncryptor.close();
        keys.close();
        he.close();
    }

    static double[] random(Random rnd, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rnd.nextDouble() * 2 - 1;
        }
        return v;
    }

    static double maxError(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, "length");
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
        }
        return max;
    }

    @Test
    void roundTripBothPackingsAndOddLengths() {
        Random rnd = new Random(1);
        for (Packing packing : Packing.values()) {
            try (VectorEncryptor enc = he.encryptor(keys.publicKey(), packing)) {
                for (int n : new int[] {1, 4095, 4096, 8192, 8193, 20000}) {
                    double[] v = random(rnd, n);
                    try (EncryptedVector ct = enc.encrypt(v)) {
                        assertEquals(he.parameters().ciphertextsFor(n, packing), ct.ciphertextCount());
                        assertTrue(maxError(v, decryptor.decrypt(ct)) < 1e-6, packing + " n=" + n);
                    }
                }
            }
        }
    }

    @Test
    void floatInput() {
        float[] v = {0.5f, -0.25f, 3.75f};
        try (EncryptedVector ct = pkEncryptor.encrypt(v)) {
            assertTrue(maxError(new double[] {0.5, -0.25, 3.75}, decryptor.decrypt(ct)) < 1e-6);
        }
    }

    @Test
    void sumOfHundredVectorsOfHundredThousandValues() throws Exception {
        Random rnd = new Random(42);
        int n = 100_000;
        double[] expected = new double[n];
        EncryptedVector sum = null;
        for (int c = 0; c < 100; c++) {
            double[] v = random(rnd, n);
            for (int i = 0; i < n; i++) {
                expected[i] += v[i];
            }
            // Through the wire form, as the aggregator sees it.
            byte[] wire;
            try (EncryptedVector ct = pkEncryptor.encrypt(v)) {
                wire = ct.toBytes();
            }
            EncryptedVector loaded = he.loadVector(wire);
            if (sum == null) {
                sum = loaded;
            } else {
                try (loaded) {
                    sum.addInPlace(loaded);
                }
            }
        }
        try (EncryptedVector s = sum) {
            double err = maxError(expected, decryptor.decrypt(s));
            assertTrue(err < 1e-4, "max error " + err);
        }
    }

    @Test
    void weightingByIntegerScalars() {
        Random rnd = new Random(7);
        double[] a = random(rnd, 10000);
        double[] b = random(rnd, 10000);
        try (EncryptedVector ca = pkEncryptor.encrypt(a);
                EncryptedVector cb = pkEncryptor.encrypt(b)) {
            ca.multiplyInPlace(120);
            cb.multiplyInPlace(-35);
            ca.addInPlace(cb);
            double[] expected = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                expected[i] = 120 * a[i] - 35 * b[i];
            }
            assertTrue(maxError(expected, decryptor.decrypt(ca)) < 1e-4);
        }
        try (EncryptedVector c = pkEncryptor.encrypt(a)) {
            assertThrows(IllegalArgumentException.class, () -> c.multiplyInPlace(0));
        }
    }

    @Test
    void symmetricAndPublicKeyCiphertextsAddTogether() throws Exception {
        Random rnd = new Random(3);
        double[] a = random(rnd, 9000);
        double[] b = random(rnd, 9000);
        try (VectorEncryptor sym = he.symmetricEncryptor(keys.secretKey(), Packing.COMPLEX);
                EncryptedVector ca = pkEncryptor.encrypt(a);
                EncryptedVector cb = sym.encrypt(b)) {
            byte[] seededWire = cb.toBytes();
            assertEquals(EncryptedVector.HEADER_BYTES + 2 * (4 + he.ciphertextBytes(true)), seededWire.length);
            try (EncryptedVector loaded = he.loadVector(seededWire)) {
                ca.addInPlace(loaded);
            }
            cb.multiplyInPlace(2); // usable in memory too, despite being seeded
            double[] expected = new double[a.length];
            double[] twiceB = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                expected[i] = a[i] + b[i];
                twiceB[i] = 2 * b[i];
            }
            assertTrue(maxError(expected, decryptor.decrypt(ca)) < 1e-6);
            assertTrue(maxError(twiceB, decryptor.decrypt(cb)) < 1e-6);
        }
    }

    @Test
    void serializedSizesPerValueAreBounded() throws Exception {
        int n = 8192 * 4;
        double[] v = random(new Random(5), n);
        try (VectorEncryptor sym = he.symmetricEncryptor(keys.secretKey(), Packing.COMPLEX);
                VectorEncryptor pkReal = he.encryptor(keys.publicKey(), Packing.REAL);
                EncryptedVector pk = pkEncryptor.encrypt(v);
                EncryptedVector pkUnpacked = pkReal.encrypt(v);
                EncryptedVector seeded = sym.encrypt(v)) {
            double pkPerValue = (double) pk.toBytes().length / n;
            double unpackedPerValue = (double) pkUnpacked.toBytes().length / n;
            double seededPerValue = (double) seeded.toBytes().length / n;
            System.out.printf(
                    "bytes/value: public-key packed %.3f, public-key unpacked %.3f, seeded symmetric %.3f%n",
                    pkPerValue, unpackedPerValue, seededPerValue);
            assertTrue(pkPerValue < 16.1, "public-key packed " + pkPerValue);
            assertTrue(unpackedPerValue < 32.1, "public-key unpacked " + unpackedPerValue);
            assertTrue(seededPerValue < 8.1, "seeded " + seededPerValue);
            // The exact sizes he-native prechecks against are the sizes SEAL writes.
            assertEquals(EncryptedVector.HEADER_BYTES + 4 * (4 + he.ciphertextBytes(false)), pk.toBytes().length);
            assertEquals(EncryptedVector.HEADER_BYTES + 4 * (4 + he.ciphertextBytes(true)), seeded.toBytes().length);
        }
    }

    @Test
    void serializationIsCanonicalAndKeysRoundTrip() throws Exception {
        double[] v = random(new Random(11), 100);
        byte[] pkBytes = keys.publicKey().toBytes();
        assertEquals(he.publicKeyBytes(), pkBytes.length);
        byte[] skBytes = keys.secretKey().toBytes(SecretKeyAccess.insecureSecretKeyAccess());
        try (HePublicKey pk2 = he.loadPublicKey(pkBytes);
                HeSecretKey sk2 = he.loadSecretKey(skBytes, SecretKeyAccess.insecureSecretKeyAccess());
                VectorEncryptor enc = he.encryptor(pk2);
                HeDecryptor dec = he.decryptor(sk2);
                EncryptedVector ct = enc.encrypt(v)) {
            byte[] wire = ct.toBytes();
            try (EncryptedVector again = he.loadVector(wire)) {
                assertArrayEquals(wire, again.toBytes());
            }
            assertTrue(maxError(v, dec.decrypt(ct)) < 1e-6);
            assertTrue(maxError(v, decryptor.decrypt(ct)) < 1e-6);
        }
    }

    @Test
    void secretKeyNeverPrintsItsBytes() {
        String s = keys.secretKey().toString() + keys.toString();
        assertTrue(s.contains("redacted"));
        assertFalse(s.matches(".*[0-9a-f]{16}.*"), s);
    }

    @Test
    void wrongParametersTrailingAndTruncatedBytesAreRejected() throws Exception {
        byte[] wire;
        try (EncryptedVector ct = pkEncryptor.encrypt(new double[] {1, 2, 3})) {
            wire = ct.toBytes();
        }
        byte[] trailing = java.util.Arrays.copyOf(wire, wire.length + 1);
        assertThrows(MalformedHeDataException.class, () -> he.loadVector(trailing));
        byte[] truncated = java.util.Arrays.copyOf(wire, wire.length - 1);
        assertThrows(MalformedHeDataException.class, () -> he.loadVector(truncated));
        assertThrows(MalformedHeDataException.class, () -> he.loadVector(new byte[0]));
        try (HeContext big = HeContext.create(HeParameters.CKKS_16384);
                HeKeyPair bigKeys = big.generateKeys();
                VectorEncryptor bigEnc = big.encryptor(bigKeys.publicKey());
                EncryptedVector bigCt = bigEnc.encrypt(new double[] {1, 2, 3})) {
            byte[] other = bigCt.toBytes();
            MalformedHeDataException e = assertThrows(MalformedHeDataException.class, () -> he.loadVector(other));
            assertTrue(e.getMessage().contains("expected"), e.getMessage());
            assertThrows(MalformedHeDataException.class, () -> big.loadVector(wire));
            assertThrows(
                    MalformedHeDataException.class,
                    () -> he.loadPublicKey(bigKeys.publicKey().toBytes()));
            assertThrows(IllegalArgumentException.class, () -> he.encryptor(bigKeys.publicKey()));
        }
        // Same size, but a ciphertext from another key-level (a public key is not a ciphertext).
        assertThrows(MalformedHeDataException.class, () -> he.loadPublicKey(new byte[he.publicKeyBytes()]));
    }

    @Test
    void aBufferIsLoadedInPlaceFromItsPosition() throws Exception {
        byte[] wire;
        try (EncryptedVector ct = pkEncryptor.encrypt(new double[] {1, 2, 3})) {
            wire = ct.toBytes();
        }
        byte[] padded = new byte[wire.length + 9];
        System.arraycopy(wire, 0, padded, 5, wire.length);
        java.nio.ByteBuffer view = java.nio.ByteBuffer.wrap(padded, 5, wire.length);
        try (EncryptedVector a = he.loadVector(view.slice());
                EncryptedVector b = he.loadPrevalidatedVector(view.slice())) {
            assertArrayEquals(wire, a.toBytes());
            assertArrayEquals(wire, b.toBytes());
        }
        assertEquals(5, view.position(), "the buffer's position is not moved");
        // A read-only (or direct) buffer has no accessible array: it is copied, with the same result.
        try (EncryptedVector c = he.loadVector(java.nio.ByteBuffer.wrap(wire).asReadOnlyBuffer())) {
            assertArrayEquals(wire, c.toBytes());
        }
        // Bytes after the vector are trailing bytes, as with an array.
        assertThrows(
                MalformedHeDataException.class,
                () -> he.loadVector(java.nio.ByteBuffer.wrap(padded, 5, wire.length + 1)));
    }

    @Test
    void onlyTheValidatingLoaderChecksCoefficientsTheStructureIsCheckedByBoth() throws Exception {
        byte[] wire;
        try (EncryptedVector ct = pkEncryptor.encrypt(new double[] {1, 2, 3})) {
            wire = ct.toBytes();
        }
        // The last 64-bit word is a coefficient of c1: 2^64 - 1 is above every modulus.
        byte[] outOfRange = wire.clone();
        java.util.Arrays.fill(outOfRange, outOfRange.length - 8, outOfRange.length, (byte) 0xff);
        MalformedHeDataException e = assertThrows(MalformedHeDataException.class, () -> he.loadVector(outOfRange));
        assertTrue(e.getMessage().contains("SEAL refused"), e.getMessage());
        try (EncryptedVector v = he.loadPrevalidatedVector(java.nio.ByteBuffer.wrap(outOfRange))) {
            assertEquals(3, v.length(), "the prevalidated loader trusts the coefficients, by contract");
        }
        byte[] truncated = java.util.Arrays.copyOf(wire, wire.length - 1);
        assertThrows(
                MalformedHeDataException.class, () -> he.loadPrevalidatedVector(java.nio.ByteBuffer.wrap(truncated)));
        try (HeContext t50 = HeContext.create(HeParameters.CKKS_8192_T50);
                HePublicKey pk = t50.loadPublicKey(keys.publicKey().toBytes());
                VectorEncryptor enc = t50.encryptor(pk);
                EncryptedVector ct = enc.encrypt(new double[] {1, 2, 3})) {
            java.nio.ByteBuffer foreignScale = java.nio.ByteBuffer.wrap(ct.toBytes());
            assertThrows(MalformedHeDataException.class, () -> he.loadPrevalidatedVector(foreignScale));
        }
    }

    @Test
    void ciphertextOfAnotherScaleIsRejectedBeforeItCanBreakASum() throws Exception {
        // ckks-8192-t50-v1 shares v1's moduli (same parms_id) but encodes at 2^50: SEAL would load it,
        // and the next addition would fail; the precheck refuses it instead.
        try (HeContext t50 = HeContext.create(HeParameters.CKKS_8192_T50);
                HePublicKey pk = t50.loadPublicKey(keys.publicKey().toBytes());
                VectorEncryptor enc = t50.encryptor(pk);
                EncryptedVector ct = enc.encrypt(new double[] {1, 2, 3})) {
            byte[] wire = ct.toBytes();
            MalformedHeDataException e = assertThrows(MalformedHeDataException.class, () -> he.loadVector(wire));
            assertTrue(e.getMessage().contains("scale"), e.getMessage());
            try (EncryptedVector again = t50.loadVector(wire)) {
                assertEquals(3, again.length());
            }
        }
    }

    @Test
    void closingTwiceIsHarmlessAndUseAfterCloseThrows() {
        EncryptedVector ct = pkEncryptor.encrypt(new double[] {1});
        ct.close();
        ct.close();
        assertTrue(ct.isClosed());
        assertThrows(IllegalStateException.class, ct::toBytes);
        assertThrows(IllegalStateException.class, () -> decryptor.decrypt(ct));
        try (EncryptedVector live = pkEncryptor.encrypt(new double[] {1})) {
            assertThrows(IllegalStateException.class, () -> live.addInPlace(ct));
        }
        HeContext c = HeContext.create(HeParameters.CKKS_8192);
        c.close();
        c.close();
        assertThrows(IllegalStateException.class, c::generateKeys);
    }

    @Test
    void concurrentEncryptAddAndDecryptOnSharedObjects() throws Exception {
        int threads = 4;
        int perThread = 10;
        double[] one = new double[5000];
        java.util.Arrays.fill(one, 0.5);
        try (EncryptedVector total = pkEncryptor.encrypt(new double[5000])) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            try (EncryptedVector ct = pkEncryptor.encrypt(one)) {
                                total.addInPlace(ct);
                                decryptor.decrypt(ct);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            double[] sum = decryptor.decrypt(total);
            for (double x : sum) {
                assertEquals(0.5 * threads * perThread, x, 1e-5);
            }
        }
    }

    @Test
    void insecureOrUnknownParametersAreRefused() {
        assertTrue(HeParameters.byId("ckks-8192-v1").isPresent());
        assertFalse(HeParameters.byId("ckks-1024-toy").isPresent());
    }
}
