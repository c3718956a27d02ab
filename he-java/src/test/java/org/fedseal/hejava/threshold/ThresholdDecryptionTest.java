package org.fedseal.hejava.threshold;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeDecryptor;
import org.fedseal.he.HeParameters;
import org.fedseal.he.HePublicKey;
import org.fedseal.he.HeSecretKey;
import org.fedseal.he.Packing;
import org.fedseal.he.SecretKeyAccess;
import org.fedseal.he.VectorEncryptor;
import org.fedseal.hejava.JavaCkksEncryptor;
import org.fedseal.hejava.JavaCkksParameterSet;
import org.fedseal.hejava.JavaCkksPublicKey;
import org.fedseal.hejava.ThresholdSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * 3-of-3 threshold decryption against real SEAL (he-native, test scope): collective key
 * accepted by SEAL and he-java, 100-client aggregates decrypted by shares, missing/foreign
 * shares give noise, and (test only) Σ s_i as a SEAL secret key decrypts the same.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ThresholdDecryptionTest {
    /** Documented tolerance at Δ = 2^50, σ_flood = 2^30, n = 3 (expected max ≈ 5e-4 over 20,000 values). */
    static final double TOLERANCE = 1e-3;

    static final int LENGTH = 20_000;
    static final int CLIENTS = 100;
    static final SecretShareAccess ACCESS = SecretShareAccess.insecureSecretShareAccess();

    private final SecureRandom random = new SecureRandom();
    private HeContext he;
    private CommonReference crs;
    private List<ThresholdParty> parties;
    private byte[] publicKeyBytes;
    private HePublicKey publicKey;
    private byte[] aggregateBytes;
    private double[] expectedSum;

    @BeforeAll
    void setUp() {
        he = HeContext.create(HeParameters.CKKS_8192_T50);
        byte[] seed = CommonReference.deriveSeed(
                "ceremony-test-1",
                List.of(
                        "holder-a".getBytes(StandardCharsets.UTF_8),
                        "holder-b".getBytes(StandardCharsets.UTF_8),
                        "holder-c".getBytes(StandardCharsets.UTF_8)));
        crs = CommonReference.fromSeed(seed);
        parties = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            parties.add(ThresholdParty.generate(crs, random));
        }
        publicKeyBytes = ThresholdKeys.combinePublicKey(crs, keyShares(parties));
        publicKey = assertDoesNotThrowMalformed(publicKeyBytes);

        // 100 clients, he-native, summed with addInPlace.
        expectedSum = new double[LENGTH];
        aggregateBytes = encryptedSum(he, publicKey, CLIENTS, LENGTH, 1000, expectedSum);
    }

    /**
     * {@code clients} vectors of random values in [−1, 1] (seeds seedBase + c), encrypted with
     * he-native under {@code pk} (COMPLEX packing) and summed; adds the plain values to
     * {@code expectedSum} and returns the aggregate's bytes.
     */
    static byte[] encryptedSum(
            HeContext he, HePublicKey pk, int clients, int length, long seedBase, double[] expectedSum) {
        EncryptedVector sum = null;
        try (VectorEncryptor enc = he.encryptor(pk, Packing.COMPLEX)) {
            for (int c = 0; c < clients; c++) {
                double[] v = randomValues(length, seedBase + c);
                for (int i = 0; i < length; i++) {
                    expectedSum[i] += v[i];
                }
                EncryptedVector ev = enc.encrypt(v);
                if (sum == null) {
                    sum = ev;
                } else {
                    sum.addInPlace(ev);
                    ev.close();
                }
            }
        }
        try (EncryptedVector s = sum) {
            return s.toBytes();
        }
    }

    @AfterAll
    void tearDown() {
        parties.forEach(ThresholdParty::destroy);
        publicKey.close();
        he.close();
    }

    private HePublicKey assertDoesNotThrowMalformed(byte[] bytes) {
        try {
            return he.loadPublicKey(bytes);
        } catch (Exception e) {
            throw new AssertionError("SEAL refused the collective public key", e);
        }
    }

    private static List<byte[]> keyShares(List<ThresholdParty> ps) {
        List<byte[]> r = new ArrayList<>();
        for (ThresholdParty p : ps) {
            r.add(p.publicKeyShare());
        }
        return r;
    }

    private List<DecryptionShare> shares(List<ThresholdParty> ps, byte[] vector) {
        List<DecryptionShare> r = new ArrayList<>();
        for (ThresholdParty p : ps) {
            r.add(p.decryptionShare(vector, random));
        }
        return r;
    }

    /**
     * TEST ONLY: Σ s_i, read from each holder's exported secret share ("FSSS": s_i + 1 at bytes
     * 72..72+N). Production code has no such path.
     */
    private int[] summedSecretForTesting() {
        int[] sum = new int[ThresholdSupport.N];
        for (ThresholdParty p : parties) {
            byte[] exported = p.exportSecretShare(ACCESS);
            for (int k = 0; k < sum.length; k++) {
                sum[k] += exported[72 + k] - 1;
            }
        }
        return sum;
    }

    static double[] randomValues(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble(-1, 1);
        }
        return v;
    }

    static double maxError(double[] expect, double[] actual) {
        assertEquals(expect.length, actual.length);
        double max = 0;
        for (int i = 0; i < expect.length; i++) {
            max = Math.max(max, Math.abs(expect[i] - actual[i]));
        }
        return max;
    }

    static double maxAbs(double[] v) {
        double max = 0;
        for (double x : v) {
            max = Math.max(max, Math.abs(x));
        }
        return max;
    }

    @Test
    void collectivePublicKeyIsAcceptedBySealAndHeJava() throws Exception {
        assertEquals(he.publicKeyBytes(), publicKeyBytes.length);
        JavaCkksPublicKey.parse(publicKeyBytes);
        // Order-independent, deterministic.
        List<byte[]> reversed = keyShares(List.of(parties.get(2), parties.get(0), parties.get(1)));
        assertArrayEquals(publicKeyBytes, ThresholdKeys.combinePublicKey(crs, reversed));
        // Same parms_id as ckks-8192-v1: the v1 context accepts it too.
        try (HeContext v1 = HeContext.create(HeParameters.CKKS_8192);
                HePublicKey k = v1.loadPublicKey(publicKeyBytes)) {
            assertFalse(k.toString().isEmpty());
        }
    }

    @Test
    void nativeAndPureJavaCiphertextsDecryptWith3Of3Shares() throws Exception {
        double[] values = randomValues(LENGTH, 42);
        byte[] nativeBytes;
        try (VectorEncryptor enc = he.encryptor(publicKey, Packing.COMPLEX);
                EncryptedVector ev = enc.encrypt(values)) {
            nativeBytes = ev.toBytes();
        }
        double[] a = ThresholdDecryptor.combine(nativeBytes, shares(parties, nativeBytes), LENGTH, true);
        assertTrue(maxError(values, a) < TOLERANCE, "native: " + maxError(values, a));

        JavaCkksEncryptor jenc = new JavaCkksEncryptor(
                JavaCkksPublicKey.parse(publicKeyBytes), JavaCkksParameterSet.CKKS_8192_T50_V1, true, random);
        byte[] javaBytes = jenc.encrypt(values);
        try (EncryptedVector loaded = he.loadVector(javaBytes)) { // SEAL's validating load
            assertEquals(LENGTH, loaded.length());
        }
        double[] b = ThresholdDecryptor.combine(javaBytes, shares(parties, javaBytes), LENGTH, true);
        assertTrue(maxError(values, b) < TOLERANCE, "pure Java: " + maxError(values, b));

        // REAL packing, pure Java, short vector.
        double[] shortValues = randomValues(1000, 43);
        byte[] real = new JavaCkksEncryptor(
                        JavaCkksPublicKey.parse(publicKeyBytes), JavaCkksParameterSet.CKKS_8192_T50_V1, false, random)
                .encrypt(shortValues);
        double[] c = ThresholdDecryptor.combine(real, shares(parties, real), 1000, false);
        assertTrue(maxError(shortValues, c) < TOLERANCE, "real packing: " + maxError(shortValues, c));
    }

    @Test
    void hundredClientAggregateMatchesPlaintextSum() {
        List<DecryptionShare> s = shares(parties, aggregateBytes);
        double[] got = ThresholdDecryptor.combine(
                aggregateBytes,
                s,
                LENGTH,
                true,
                List.of(
                        parties.get(0).keyShareDigest(),
                        parties.get(1).keyShareDigest(),
                        parties.get(2).keyShareDigest()));
        double err = maxError(expectedSum, got);
        System.out.printf(
                "threshold 3-of-3, %d clients x %d values, scale 2^50, sigma_flood 2^30: max error %.2e%n",
                CLIENTS, LENGTH, err);
        assertTrue(err < TOLERANCE, "max error " + err);
    }

    @Test
    void missingOrForeignSharesGiveNoise() {
        List<DecryptionShare> all = shares(parties, aggregateBytes);
        double[] twoOfThree = ThresholdDecryptor.combine(aggregateBytes, all.subList(0, 2), LENGTH, true);
        assertTrue(maxAbs(twoOfThree) > 1e3, "n-1 shares: " + maxAbs(twoOfThree));

        ThresholdParty foreign = ThresholdParty.generate(crs, random); // same ceremony, not in the key
        try {
            List<DecryptionShare> withForeign = new ArrayList<>(all.subList(0, 2));
            withForeign.add(foreign.decryptionShare(aggregateBytes, random));
            double[] noise = ThresholdDecryptor.combine(aggregateBytes, withForeign, LENGTH, true);
            assertTrue(maxAbs(noise) > 1e3, "foreign share: " + maxAbs(noise));
            // With the ceremony's list, the foreign share is refused outright.
            List<byte[]> holders = List.of(
                    parties.get(0).keyShareDigest(),
                    parties.get(1).keyShareDigest(),
                    parties.get(2).keyShareDigest());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> ThresholdDecryptor.combine(aggregateBytes, withForeign, LENGTH, true, holders));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> ThresholdDecryptor.combine(aggregateBytes, all.subList(0, 2), LENGTH, true, holders));
        } finally {
            foreign.destroy();
        }
        // A share of another aggregate, a duplicate holder, a wrong length: refused.
        List<DecryptionShare> dup = List.of(all.get(0), all.get(0), all.get(1));
        assertThrows(
                IllegalArgumentException.class, () -> ThresholdDecryptor.combine(aggregateBytes, dup, LENGTH, true));
        assertThrows(
                IllegalArgumentException.class,
                () -> ThresholdDecryptor.combine(aggregateBytes, all, LENGTH - 1, true));
        byte[] other = aggregateBytes.clone();
        other[other.length - 1] ^= 1; // still a valid vector (LSB of a coefficient), different digest
        assertThrows(IllegalArgumentException.class, () -> ThresholdDecryptor.combine(other, all, LENGTH, true));
    }

    @Test
    void summedSecretSharesDecryptTheSameAsSealKey_testOnly() throws Exception {
        int[] sum = summedSecretForTesting(); // test-only: no production path adds the s_i
        byte[] skBytes = ThresholdSupport.sealSecretKeyBytes(sum);
        try (HeSecretKey sk = he.loadSecretKey(skBytes, SecretKeyAccess.insecureSecretKeyAccess());
                HeDecryptor dec = he.decryptor(sk);
                EncryptedVector agg = he.loadVector(aggregateBytes)) {
            double[] sealPlain = dec.decrypt(agg);
            assertTrue(maxError(expectedSum, sealPlain) < 1e-6, "SEAL with Σ s_i: " + maxError(expectedSum, sealPlain));
            double[] threshold =
                    ThresholdDecryptor.combine(aggregateBytes, shares(parties, aggregateBytes), LENGTH, true);
            assertTrue(maxError(sealPlain, threshold) < TOLERANCE);

            // A pure-Java ciphertext at scale 2^50 adds to SEAL's (SEAL insists on equal scales) and
            // SEAL decodes it with Σ s_i.
            double[] extra = randomValues(LENGTH, 77);
            byte[] javaBytes = new JavaCkksEncryptor(
                            JavaCkksPublicKey.parse(publicKeyBytes),
                            JavaCkksParameterSet.CKKS_8192_T50_V1,
                            true,
                            random)
                    .encrypt(extra);
            try (EncryptedVector mixed = he.loadVector(aggregateBytes);
                    EncryptedVector j = he.loadVector(javaBytes)) {
                mixed.addInPlace(j);
                double[] want = expectedSum.clone();
                for (int i = 0; i < LENGTH; i++) {
                    want[i] += extra[i];
                }
                assertTrue(maxError(want, dec.decrypt(mixed)) < 1e-6);
                byte[] mixedBytes = mixed.toBytes();
                double[] t = ThresholdDecryptor.combine(mixedBytes, shares(parties, mixedBytes), LENGTH, true);
                assertTrue(maxError(want, t) < TOLERANCE, "mixed: " + maxError(want, t));
            }
        }
    }

    @Test
    void exportImportAndWireForms() {
        ThresholdParty p = parties.get(1);
        byte[] exported = p.exportSecretShare(ACCESS);
        assertEquals(ThresholdParty.EXPORTED_BYTES, exported.length);
        ThresholdParty back = ThresholdParty.importSecretShare(exported, crs, ACCESS);
        assertArrayEquals(p.publicKeyShare(), back.publicKeyShare());
        List<ThresholdParty> restored = List.of(parties.get(0), back, parties.get(2));
        List<DecryptionShare> s = shares(restored, aggregateBytes);
        // Shares survive their wire form.
        List<DecryptionShare> viaBytes = new ArrayList<>();
        for (DecryptionShare d : s) {
            byte[] b = d.toBytes();
            assertEquals(d.serializedBytes(), b.length);
            DecryptionShare again = DecryptionShare.fromBytes(b);
            assertArrayEquals(b, again.toBytes());
            viaBytes.add(again);
        }
        assertTrue(
                maxError(expectedSum, ThresholdDecryptor.combine(aggregateBytes, viaBytes, LENGTH, true)) < TOLERANCE);

        byte[] corrupt = exported.clone();
        corrupt[100] ^= 1;
        assertThrows(IllegalArgumentException.class, () -> ThresholdParty.importSecretShare(corrupt, crs, ACCESS));
        CommonReference otherCrs =
                CommonReference.fromSeed(CommonReference.deriveSeed("other", List.of(new byte[] {1})));
        assertThrows(
                IllegalArgumentException.class, () -> ThresholdParty.importSecretShare(exported, otherCrs, ACCESS));
        assertThrows(
                IllegalArgumentException.class, () -> ThresholdKeys.combinePublicKey(otherCrs, keyShares(parties)));
        assertThrows(
                IllegalArgumentException.class,
                () -> ThresholdKeys.combinePublicKey(crs, List.of(p.publicKeyShare(), p.publicKeyShare())));

        // Secrets never in toString.
        String hexExport = HexFormat.of().formatHex(exported, 72, 88);
        for (Object o : List.of(p, back, s.get(0), crs)) {
            assertFalse(o.toString().contains(hexExport));
        }
        back.destroy();
        assertThrows(IllegalStateException.class, () -> back.decryptionShare(aggregateBytes, random));
        assertThrows(IllegalStateException.class, () -> back.exportSecretShare(ACCESS));
    }

    @Test
    void refusesAggregatesAtTheSingleKeyScale() throws Exception {
        try (HeContext v1 = HeContext.create(HeParameters.CKKS_8192);
                HePublicKey k = v1.loadPublicKey(publicKeyBytes);
                VectorEncryptor enc = v1.encryptor(k);
                EncryptedVector ev = enc.encrypt(new double[] {1, 2, 3})) {
            byte[] b = ev.toBytes();
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> parties.get(0).decryptionShare(b, random));
            assertTrue(e.getMessage().contains("2^40"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> parties.get(0).decryptionShare(new byte[10], random));
    }

    /** One bench line: per-ciphertext costs of the threshold path next to SEAL's single-key decryption. */
    @Test
    void benchLine() throws Exception {
        int cts = 3; // ciphertexts in the 20,000-value aggregate
        int[] sum = summedSecretForTesting();
        int reps = 5;
        List<DecryptionShare> s = null;
        // warm-up
        s = shares(parties, aggregateBytes);
        ThresholdDecryptor.combine(aggregateBytes, s, LENGTH, true);
        long t0 = System.nanoTime();
        for (int r = 0; r < reps; r++) {
            parties.get(0).decryptionShare(aggregateBytes, random);
        }
        double partialMs = (System.nanoTime() - t0) / 1e6 / reps / cts;
        t0 = System.nanoTime();
        for (int r = 0; r < reps; r++) {
            ThresholdDecryptor.combine(aggregateBytes, s, LENGTH, true);
        }
        double combineMs = (System.nanoTime() - t0) / 1e6 / reps / cts;
        double nativeMs;
        try (HeSecretKey sk = he.loadSecretKey(
                        ThresholdSupport.sealSecretKeyBytes(sum), SecretKeyAccess.insecureSecretKeyAccess());
                HeDecryptor dec = he.decryptor(sk);
                EncryptedVector agg = he.loadVector(aggregateBytes)) {
            dec.decrypt(agg);
            t0 = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                dec.decrypt(agg);
            }
            nativeMs = (System.nanoTime() - t0) / 1e6 / reps / cts;
        }
        System.out.printf(
                "BENCH threshold ckks-8192-t50-v1 n=3: partial decryption %.2f ms/ct (1 holder), combine %.2f ms/ct"
                        + " (3 shares, incl. parse+decode), share %d B/ct (+76 B header), vs he-native single-key decrypt %.2f ms/ct"
                        + " (ct %d B)%n",
                partialMs,
                combineMs,
                DecryptionShare.BYTES_PER_CIPHERTEXT,
                nativeMs,
                ThresholdSupport.CIPHERTEXT_BYTES);
    }
}
