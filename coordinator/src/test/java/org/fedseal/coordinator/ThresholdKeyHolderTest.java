package org.fedseal.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.fedseal.client.SealUpdateEncryptor;
import org.fedseal.coordinator.ThresholdKeyHolder.Refusal;
import org.fedseal.coordinator.ThresholdKeyHolder.RefusedException;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.HePublicKey;
import org.fedseal.hejava.threshold.ThresholdParty;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.KeyCeremonyTranscript;
import org.fedseal.protocol.MerkleHashes;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.ChunkSum;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.protocol.wire.KeyCeremonyMessage;
import org.fedseal.protocol.wire.KeyCeremonyOpened;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three key holders run the key ceremony (KeyCeremonyParticipant over a shared transcript), then,
 * with real SEAL ciphertexts under their collective key: honest aggregates
 * decrypt to the weighted mean; a single client's ciphertext (plain or disguised as an
 * aggregate), too few participants, an aggregate that is not the re-sum of the archived updates,
 * a foreign signature and a second request are refused; forged shares do not combine.
 */
class ThresholdKeyHolderTest {
    static final int VALUES = 10_000;
    static final int CLIENTS = 5;
    static final SigningKeyPair AGGREGATOR = SigningKeyPair.generate();
    static HeContext he;
    static final List<String> HOLDERS = List.of("holder-0", "holder-1", "holder-2");
    static KeyCeremonyParticipant.Result ceremony;
    static List<ThresholdParty> parties = new ArrayList<>();
    static List<SigningKeyPair> holderKeys = new ArrayList<>();
    static List<KeyCeremonyParticipant.SecretShareStore> stores = new ArrayList<>();
    static Map<Hash, List<byte[]>> archive = new HashMap<>();
    static List<Hash> updateHashes = new ArrayList<>();
    static List<String> clients = new ArrayList<>();
    static double[] expectedMean = new double[VALUES];
    static long totalWeight;

    @BeforeAll
    static void ceremonyAndRound() throws Exception {
        ceremony = runCeremony();
        he = HeContext.create(HeParameters.CKKS_8192_T50);
        Random values = new Random(3);
        double[] sum = new double[VALUES];
        try (HePublicKey pk = he.loadPublicKey(ceremony.collectivePublicKey());
                SealUpdateEncryptor enc = SealUpdateEncryptor.of(he, pk)) {
            ChunkLayout layout = SealUpdateEncryptor.defaultLayout(HeParameters.CKKS_8192_T50, VALUES);
            for (int c = 0; c < CLIENTS; c++) {
                long w = 10 + c;
                float[] weighted = new float[VALUES];
                for (int i = 0; i < VALUES; i++) {
                    float d = (float) (values.nextDouble() * 2 - 1) * 0.1f;
                    weighted[i] = d * w;
                    sum[i] += weighted[i];
                }
                totalWeight += w;
                Hash h = Hash.sha256(("update-" + c).getBytes());
                archive.put(h, enc.encrypt(weighted, layout));
                updateHashes.add(h);
                clients.add("client-" + c);
            }
        }
        for (int i = 0; i < VALUES; i++) {
            expectedMean[i] = sum[i] / totalWeight;
        }
    }

    /**
     * The three holders run the key ceremony, each on its own view of the broadcast transcript;
     * returns the outcome, which every holder must compute identically.
     */
    static KeyCeremonyParticipant.Result runCeremony() {
        SigningKeyPair registry = SigningKeyPair.generate();
        Map<String, SigningPublicKey> keys = new HashMap<>();
        for (String id : HOLDERS) {
            SigningKeyPair kp = SigningKeyPair.generate();
            holderKeys.add(kp);
            keys.put(id, kp.publicKey());
        }
        KeyCeremonyOpened opened = Signatures.signRecord(
                KeyCeremonyOpened.newBuilder()
                        .setCeremonyId("tm-ceremony-1")
                        .setModelId("tm")
                        .setHeParamsId(HeParameters.CKKS_8192_T50.id())
                        .setHolderIds(HOLDERS)
                        .setOpenedAtEpochMillis(1)
                        .setSignature(ByteBuffer.allocate(0))
                        .build(),
                registry.privateKey());
        List<KeyCeremonyTranscript> views = new ArrayList<>();
        List<KeyCeremonyParticipant> participants = new ArrayList<>();
        for (int i = 0; i < HOLDERS.size(); i++) {
            views.add(KeyCeremonyTranscript.open(opened, registry.publicKey(), keys));
            stores.add(KeyCeremonyParticipant.SecretShareStore.inMemory());
            participants.add(new KeyCeremonyParticipant(
                    HOLDERS.get(i), holderKeys.get(i).privateKey(), stores.get(i), new SecureRandom()));
        }
        int sent;
        int messages = 0;
        do {
            sent = 0;
            for (int i = 0; i < HOLDERS.size(); i++) {
                Optional<KeyCeremonyMessage> m = participants.get(i).nextMessage(views.get(i));
                if (m.isPresent()) {
                    for (KeyCeremonyTranscript v : views) {
                        assertDoesNotThrow(() -> assertTrue(v.accept(m.get())));
                    }
                    sent++;
                }
            }
            messages += sent;
        } while (sent > 0);
        assertEquals(9, messages, "three phases, one message each");
        List<KeyCeremonyParticipant.Result> results =
                views.stream().map(KeyCeremonyParticipant::finish).toList();
        for (KeyCeremonyParticipant.Result r : results) {
            assertArrayEquals(results.get(0).collectivePublicKey(), r.collectivePublicKey());
        }
        for (int i = 0; i < HOLDERS.size(); i++) {
            parties.add(participants.get(i).party(views.get(i)));
            assertArrayEquals(
                    results.get(0).keyShareDigests().get(i), parties.get(i).keyShareDigest());
        }
        // A restarted holder gets its very share back from its store.
        ThresholdParty reloaded = new KeyCeremonyParticipant(
                        HOLDERS.get(1), holderKeys.get(1).privateKey(), stores.get(1), new SecureRandom())
                .party(views.get(1));
        assertArrayEquals(parties.get(1).keyShareDigest(), reloaded.keyShareDigest());
        return results.get(0);
    }

    @AfterAll
    static void close() {
        he.close();
    }

    /** The aggregate an honest aggregator publishes over {@code hashes}, with {@code entries} as its sums. */
    static AggregatePublished aggregate(
            List<String> participants, List<Hash> hashes, List<byte[]> entries, SigningKeyPair signer) {
        List<Hash> sorted = MerkleHashes.sortedUpdateHashes(hashes);
        AggregatePublished a = AggregatePublished.newBuilder()
                .setModelId("tm")
                .setRound(1)
                .setStatus(AggregateStatus.COMPLETED)
                .setChunkSums(List.of(ChunkSum.newBuilder()
                        .setChunkIndex(0)
                        .setCiphertexts(entries.stream().map(ByteBuffer::wrap).toList())
                        .build()))
                .setParticipants(participants)
                .setTotalWeight(totalWeight)
                .setAcceptedUpdateHashes(sorted.stream().map(Hash::toByteBuffer).toList())
                .setAcceptedUpdateRoot(MerkleHashes.acceptedUpdateRoot(sorted).toByteBuffer())
                .setAcceptedCount(participants.size())
                .setRejectedCount(0)
                .setHeParamsId(HeParameters.CKKS_8192_T50.id())
                .setAggregatorId("agg")
                .setClosedAtEpochMillis(1)
                .setSignature(ByteBuffer.allocate(0))
                .build();
        return Signatures.sign(a, signer.privateKey());
    }

    /** Sums the archived entries of {@code hashes} (plus {@code extra} times the first update). */
    static List<byte[]> sumOf(List<Hash> hashes, int extra) throws Exception {
        List<EncryptedVector> sums = new ArrayList<>();
        List<Hash> all = new ArrayList<>(hashes);
        for (int i = 0; i < extra; i++) {
            all.add(hashes.get(0));
        }
        for (Hash h : all) {
            List<byte[]> cts = archive.get(h);
            for (int i = 0; i < cts.size(); i++) {
                EncryptedVector v = he.loadVector(cts.get(i));
                if (sums.size() <= i) {
                    sums.add(v);
                } else {
                    try (v) {
                        sums.get(i).addInPlace(v);
                    }
                }
            }
        }
        List<byte[]> out = new ArrayList<>();
        for (EncryptedVector v : sums) {
            out.add(v.toBytes());
            v.close();
        }
        return out;
    }

    static List<ThresholdKeyHolder> holders(int minParticipants) {
        ThresholdKeyHolder.Policy policy =
                new ThresholdKeyHolder.Policy(minParticipants, AGGREGATOR.publicKey(), Set.copyOf(clients)::contains);
        List<ThresholdKeyHolder> hs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            hs.add(new ThresholdKeyHolder(
                    "holder-" + i,
                    ceremony.ceremonyId(),
                    parties.get(i),
                    holderKeys.get(i).privateKey(),
                    policy,
                    h -> {
                        List<byte[]> cts = archive.get(h);
                        if (cts == null) {
                            throw new IllegalStateException("not archived: " + h);
                        }
                        return cts;
                    }));
        }
        return hs;
    }

    static Map<String, org.fedseal.protocol.SigningPublicKey> holderPublicKeys() {
        Map<String, org.fedseal.protocol.SigningPublicKey> m = new HashMap<>();
        for (int i = 0; i < 3; i++) {
            m.put("holder-" + i, holderKeys.get(i).publicKey());
        }
        return m;
    }

    static Refusal refusal(ThresholdKeyHolder h, AggregatePublished a) {
        return assertThrows(RefusedException.class, () -> h.share(a)).reason();
    }

    @Test
    void honestAggregateDecryptsToTheWeightedMeanAndOnlyOnce() throws Exception {
        AggregatePublished agg = aggregate(clients, updateHashes, sumOf(updateHashes, 0), AGGREGATOR);
        List<ThresholdKeyHolder> hs = holders(3);
        List<DecryptionSharesPublished> shares = new ArrayList<>();
        for (ThresholdKeyHolder h : hs) {
            shares.add(h.share(agg));
        }
        double[] mean = ThresholdKeyHolder.combine(agg, shares, ceremony, holderPublicKeys(), VALUES);
        double max = 0;
        for (int i = 0; i < VALUES; i++) {
            max = Math.max(max, Math.abs(mean[i] - expectedMean[i]));
        }
        assertTrue(max < 1e-4, "threshold-decrypted mean off by " + max);
        assertEquals(Refusal.ALREADY_SHARED, refusal(hs.get(0), agg), "a second share of the same ciphertext");

        // Two of three holders' shares are not enough.
        assertThrows(
                IllegalArgumentException.class,
                () -> ThresholdKeyHolder.combine(agg, shares.subList(0, 2), ceremony, holderPublicKeys(), VALUES));
        // A share whose signature does not verify is rejected.
        DecryptionSharesPublished forged =
                Signatures.signRecord(shares.get(2), holderKeys.get(0).privateKey());
        assertThrows(
                IllegalArgumentException.class,
                () -> ThresholdKeyHolder.combine(
                        agg, List.of(shares.get(0), shares.get(1), forged), ceremony, holderPublicKeys(), VALUES));
        // Shares of another ceremony's holder set do not combine either.
        DecryptionSharesPublished foreign = Signatures.signRecord(
                DecryptionSharesPublished.newBuilder(shares.get(2))
                        .setCeremonyId("another")
                        .build(),
                holderKeys.get(2).privateKey());
        assertThrows(
                IllegalArgumentException.class,
                () -> ThresholdKeyHolder.combine(
                        agg, List.of(shares.get(0), shares.get(1), foreign), ceremony, holderPublicKeys(), VALUES));
    }

    @Test
    void aSingleClientsCiphertextIsRefusedPlainOrDisguised() throws Exception {
        ThresholdKeyHolder h = holders(3).get(0);
        List<byte[]> one = archive.get(updateHashes.get(0));
        assertEquals(
                Refusal.TOO_FEW_PARTICIPANTS,
                refusal(h, aggregate(clients.subList(0, 1), updateHashes.subList(0, 1), one, AGGREGATOR)));
        // A malicious aggregator claims five participants but hands over one client's update.
        assertEquals(Refusal.RESUM_MISMATCH, refusal(h, aggregate(clients, updateHashes, one, AGGREGATOR)));
    }

    @Test
    void belowTheMinimumParticipantCountIsRefused() throws Exception {
        ThresholdKeyHolder h = holders(6).get(1);
        assertEquals(
                Refusal.TOO_FEW_PARTICIPANTS,
                refusal(h, aggregate(clients, updateHashes, sumOf(updateHashes, 0), AGGREGATOR)));
    }

    @Test
    void anAggregateThatIsNotTheReSumOfTheArchivedUpdatesIsRefused() throws Exception {
        ThresholdKeyHolder h = holders(3).get(2);
        assertEquals(
                Refusal.RESUM_MISMATCH,
                refusal(h, aggregate(clients, updateHashes, sumOf(updateHashes, 1), AGGREGATOR)));
    }

    @Test
    void anAggregateNotSignedByTheAggregatorIsRefused() throws Exception {
        ThresholdKeyHolder h = holders(3).get(0);
        assertEquals(
                Refusal.NOT_SIGNED_BY_AGGREGATOR,
                refusal(h, aggregate(clients, updateHashes, sumOf(updateHashes, 0), SigningKeyPair.generate())));
    }
}
