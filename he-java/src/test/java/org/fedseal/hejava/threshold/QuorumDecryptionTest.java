package org.fedseal.hejava.threshold;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.HePublicKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * t-of-n quorums on top of the n-of-n key (real SEAL ciphertexts, he-native in test scope): five
 * holders make the collective key, re-share their secrets 3-of-5, and every one of the ten
 * 3-holder quorums decrypts a 50-client aggregate within the n-of-n tolerance; two holders, or
 * shares made for different quorums, do not; malformed, foreign and missing dealings are refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QuorumDecryptionTest {
    static final int N_HOLDERS = 5;
    static final int T = 3;
    static final int CLIENTS = 50;
    static final int LENGTH = 20_000;
    static final SecretShareAccess ACCESS = SecretShareAccess.insecureSecretShareAccess();

    private final SecureRandom random = new SecureRandom();
    private HeContext he;
    private CommonReference crs;
    private final List<ThresholdParty> parties = new ArrayList<>();
    private final List<byte[]> digests = new ArrayList<>();
    /** dealings.get(dealer).get(point − 1). */
    private final List<List<byte[]>> dealings = new ArrayList<>();

    private final List<QuorumShare> quorumShares = new ArrayList<>();
    private byte[] aggregate;
    private double[] expectedSum;

    @BeforeAll
    void setUp() throws Exception {
        he = HeContext.create(HeParameters.CKKS_8192_T50);
        crs = CommonReference.forCeremony("quorum-test", List.of(new byte[] {1}, new byte[] {2}));
        List<byte[]> keyShares = new ArrayList<>();
        for (int i = 0; i < N_HOLDERS; i++) {
            ThresholdParty p = ThresholdParty.generate(crs, random);
            parties.add(p);
            keyShares.add(p.publicKeyShare());
            digests.add(p.keyShareDigest());
        }
        long t0 = System.nanoTime();
        for (ThresholdParty p : parties) {
            dealings.add(p.dealQuorumShares(T, N_HOLDERS, random, ACCESS));
        }
        double dealMs = (System.nanoTime() - t0) / 1e6 / N_HOLDERS;
        long t1 = System.nanoTime();
        for (int point = 1; point <= N_HOLDERS; point++) {
            quorumShares.add(QuorumShare.assemble(crs, digests, T, point, received(point), ACCESS));
        }
        double assembleMs = (System.nanoTime() - t1) / 1e6 / N_HOLDERS;
        expectedSum = new double[LENGTH];
        try (HePublicKey pk = he.loadPublicKey(ThresholdKeys.combinePublicKey(crs, keyShares))) {
            aggregate = ThresholdDecryptionTest.encryptedSum(he, pk, CLIENTS, LENGTH, 7000, expectedSum);
        }
        System.out.printf(
                "BENCH quorum 3-of-5 re-sharing: deal %.1f ms per holder (%d dealings of %,d B), assemble %.1f ms per holder%n",
                dealMs, N_HOLDERS, QuorumShare.BYTES, assembleMs);
    }

    @AfterAll
    void tearDown() {
        parties.forEach(ThresholdParty::destroy);
        quorumShares.forEach(QuorumShare::destroy);
        he.close();
    }

    /** What holder {@code point} receives: dealing {@code point} of every holder. */
    private List<byte[]> received(int point) {
        List<byte[]> out = new ArrayList<>();
        for (List<byte[]> d : dealings) {
            out.add(d.get(point - 1));
        }
        return out;
    }

    private List<DecryptionShare> shares(int[] quorum) {
        List<DecryptionShare> out = new ArrayList<>();
        for (int point : quorum) {
            out.add(quorumShares.get(point - 1).decryptionShare(aggregate, quorum, random));
        }
        return out;
    }

    @Test
    void everyQuorumOfThreeDecryptsTheAggregate() {
        int quorums = 0;
        double worst = 0;
        long partialNanos = 0;
        long combineNanos = 0;
        for (int a = 1; a <= N_HOLDERS; a++) {
            for (int b = a + 1; b <= N_HOLDERS; b++) {
                for (int c = b + 1; c <= N_HOLDERS; c++) {
                    int[] quorum = {a, b, c};
                    long t0 = System.nanoTime();
                    List<DecryptionShare> s = shares(quorum);
                    long t1 = System.nanoTime();
                    double[] values = ThresholdDecryptor.combine(
                            aggregate, s, LENGTH, true, QuorumShare.identities(digests, quorum));
                    long t2 = System.nanoTime();
                    partialNanos += t1 - t0;
                    combineNanos += t2 - t1;
                    double err = ThresholdDecryptionTest.maxError(expectedSum, values);
                    assertTrue(err < ThresholdDecryptionTest.TOLERANCE, "quorum " + a + b + c + ": max error " + err);
                    worst = Math.max(worst, err);
                    quorums++;
                }
            }
        }
        assertEquals(10, quorums);
        int cts = (LENGTH + 8191) / 8192;
        System.out.printf(
                "quorum 3-of-5, %d clients x %d values: max error %.2e over all 10 quorums%n", CLIENTS, LENGTH, worst);
        System.out.printf(
                "BENCH quorum 3-of-5: partial decryption %.2f ms/ct per holder, combine %.2f ms/ct, %,d B per share per ct%n",
                partialNanos / 1e6 / (10 * T * cts),
                combineNanos / 1e6 / (10 * cts),
                DecryptionShare.BYTES_PER_CIPHERTEXT);
    }

    @Test
    void fewerThanTOrSharesOfDifferentQuorumsGiveNoise() {
        int[] q123 = {1, 2, 3};
        int[] q124 = {1, 2, 4};
        List<DecryptionShare> a = shares(q123);
        // Two of a quorum's three shares: the missing one leaves a uniform polynomial mod q0.
        double[] two = ThresholdDecryptor.combine(aggregate, a.subList(0, 2), LENGTH, true);
        assertTrue(
                ThresholdDecryptionTest.maxAbs(two) > 1e3,
                "two of three shares decoded to " + ThresholdDecryptionTest.maxAbs(two));
        // Holders 1 and 2 of quorum {1,2,3} with holder 4 of quorum {1,2,4}: the Lagrange weights disagree.
        List<DecryptionShare> mixed = List.of(a.get(0), a.get(1), shares(q124).get(2));
        double[] garbage = ThresholdDecryptor.combine(aggregate, mixed, LENGTH, true);
        assertTrue(
                ThresholdDecryptionTest.maxAbs(garbage) > 1e3,
                "mixed quorums decoded to " + ThresholdDecryptionTest.maxAbs(garbage));
        // ... and a combiner that names the quorum refuses them outright.
        assertThrows(
                IllegalArgumentException.class,
                () -> ThresholdDecryptor.combine(
                        aggregate, mixed, LENGTH, true, QuorumShare.identities(digests, q124)));
    }

    @Test
    void badQuorumsAndDealingsAreRefused() {
        QuorumShare one = quorumShares.get(0);
        assertThrows(
                IllegalArgumentException.class,
                () -> one.decryptionShare(aggregate, new int[] {2, 3, 4}, random),
                "a quorum without this holder");
        assertThrows(
                IllegalArgumentException.class,
                () -> one.decryptionShare(aggregate, new int[] {1, 2}, random),
                "t - 1 points");
        assertThrows(
                IllegalArgumentException.class,
                () -> one.decryptionShare(aggregate, new int[] {1, 1, 2}, random),
                "repeated");
        assertThrows(
                IllegalArgumentException.class,
                () -> one.decryptionShare(aggregate, new int[] {1, 2, 6}, random),
                "outside 1..n");

        List<byte[]> forPoint1 = received(1);
        List<byte[]> missing = forPoint1.subList(0, N_HOLDERS - 1);
        assertThrows(IllegalArgumentException.class, () -> QuorumShare.assemble(crs, digests, T, 1, missing, ACCESS));
        List<byte[]> twice = new ArrayList<>(missing);
        twice.add(forPoint1.get(0));
        assertThrows(IllegalArgumentException.class, () -> QuorumShare.assemble(crs, digests, T, 1, twice, ACCESS));
        assertThrows(
                IllegalArgumentException.class,
                () -> QuorumShare.assemble(crs, digests, T, 2, forPoint1, ACCESS),
                "dealings made for point 1 assembled as point 2");
        List<byte[]> corrupted = new ArrayList<>(forPoint1);
        byte[] flipped = corrupted.get(3).clone();
        flipped[1000] ^= 1;
        corrupted.set(3, flipped);
        assertThrows(IllegalArgumentException.class, () -> QuorumShare.assemble(crs, digests, T, 1, corrupted, ACCESS));
        CommonReference other = CommonReference.forCeremony("another", List.of(new byte[] {3}));
        assertThrows(
                IllegalArgumentException.class, () -> QuorumShare.assemble(other, digests, T, 1, forPoint1, ACCESS));
        assertThrows(IllegalArgumentException.class, () -> parties.get(0).dealQuorumShares(1, 5, random, ACCESS));
        assertThrows(IllegalArgumentException.class, () -> parties.get(0).dealQuorumShares(6, 5, random, ACCESS));
    }

    @Test
    void anExportedQuorumShareRestoresTheSameHolder() {
        QuorumShare original = quorumShares.get(2);
        byte[] exported = original.exportSecret(ACCESS);
        QuorumShare restored = QuorumShare.importSecret(exported, crs, digests, ACCESS);
        assertEquals(3, restored.point());
        assertEquals(T, restored.threshold());
        int[] quorum = {2, 3, 5};
        List<DecryptionShare> s = List.of(
                quorumShares.get(1).decryptionShare(aggregate, quorum, random),
                restored.decryptionShare(aggregate, quorum, random),
                quorumShares.get(4).decryptionShare(aggregate, quorum, random));
        assertArrayEquals(QuorumShare.identity(digests, 3, quorum), s.get(1).keyShareDigest());
        double err = ThresholdDecryptionTest.maxError(
                expectedSum,
                ThresholdDecryptor.combine(aggregate, s, LENGTH, true, QuorumShare.identities(digests, quorum)));
        assertTrue(err < ThresholdDecryptionTest.TOLERANCE, "restored holder: max error " + err);
        List<byte[]> otherList = new ArrayList<>(digests);
        otherList.set(0, new byte[32]);
        assertThrows(IllegalArgumentException.class, () -> QuorumShare.importSecret(exported, crs, otherList, ACCESS));
        assertTrue(restored.toString().contains("secret redacted"));
        restored.destroy();
        assertThrows(IllegalStateException.class, () -> restored.decryptionShare(aggregate, quorum, random));
    }
}
