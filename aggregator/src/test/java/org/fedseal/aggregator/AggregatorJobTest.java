package org.fedseal.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.fedseal.he.MaskedVectors;
import org.fedseal.he.SecretKeyAccess;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.kafkalocal.junit.SharedKafkaBroker;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.CompactRounds;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.MerkleHashes;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RecordKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.protocol.wire.UpdateRejected;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** One real broker, one real job in a MiniCluster, real he-native: the happy path and the attacks. */
@ExtendWith(SharedKafkaBroker.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AggregatorJobTest {
    static final String P = "it";
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;

    Fleet fleet;
    AggregatorConfig config;
    LocalAggregator job;
    Fleet.Reader aggregates;
    Fleet.Reader accepted;
    Fleet.Reader rejects;

    @BeforeAll
    void start(LocalKafkaBroker kafka) throws Exception {
        kafka.createTopics(Fleet.topics(P, 1)); // one partition: the attack sequence below relies on order
        fleet = new Fleet(kafka.bootstrapServers());
        config = fleet.config(P).build();
        job = AggregatorJob.runLocal(config, tmp.resolve("checkpoints"));
        aggregates = fleet.reader(P + ".aggregates");
        accepted = fleet.reader(P + ".accepted");
        rejects = fleet.reader(P + ".rejects");
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {job, aggregates, accepted, rejects, fleet}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private AggregatePublished awaitAggregate(String model, int round) throws Exception {
        List<AggregatePublished> all = aggregates.await(
                AggregatePublished.class,
                v -> v.stream().anyMatch(a -> a.getModelId().equals(model) && a.getRound() == round),
                WAIT);
        List<AggregatePublished> mine = all.stream()
                .filter(a -> a.getModelId().equals(model) && a.getRound() == round)
                .toList();
        assertEquals(1, mine.size(), "exactly one aggregate for " + model + "/" + round);
        return mine.get(0);
    }

    @Test
    @Order(1)
    void fiveClientsAggregateDecryptsToThePlaintextSum() throws Exception {
        String model = "core";
        RoundOpened round = fleet.round(model, 1, 5, System.currentTimeMillis() + 120_000, Fleet.layout(20_000, 2));
        String[] clients = {"c5", "c3", "c1", "c4", "c2"};
        fleet.enrol(P, clients);
        fleet.openRound(P, round);
        List<double[]> plains = new ArrayList<>();
        List<Hash> hashes = new ArrayList<>();
        long weight = 0;
        for (int i = 0; i < clients.length; i++) {
            Fleet.Update u = fleet.update(clients[i], round, "core-" + clients[i] + "-r1", 10 + i);
            plains.add(u.plain());
            hashes.add(CanonicalHash.of(u.prepared().commit()));
            weight += 10 + i;
            fleet.sendUpdate(P, u);
        }
        AggregatePublished agg = awaitAggregate(model, 1);
        assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
        assertEquals(5, agg.getAcceptedCount());
        assertEquals(List.of("c1", "c2", "c3", "c4", "c5"), agg.getParticipants());
        assertEquals(weight, agg.getTotalWeight());
        assertEquals(MerkleHashes.acceptedUpdateRoot(hashes), Hash.of(agg.getAcceptedUpdateRoot()));
        assertEquals(
                MerkleHashes.sortedUpdateHashes(hashes),
                agg.getAcceptedUpdateHashes().stream().map(Hash::of).toList());
        assertEquals(Fleet.PARAMS.id(), agg.getHeParamsId());
        assertTrue(Signatures.verify(agg, fleet.aggregatorKey.publicKey()), "aggregate signed by the aggregator key");
        assertTrue(agg.getChunkSums().isEmpty(), "the chunk sums are records of their own");
        assertEquals(2, Aggregates.chunkCount(agg));

        double[] expected = Fleet.sum(plains);
        double[] actual = fleet.decrypt(agg);
        assertEquals(expected.length, actual.length);
        double err = Fleet.maxError(expected, actual);
        assertTrue(err < 1e-4, "max error " + err);

        List<UpdateAccepted> acc = accepted.await(
                UpdateAccepted.class,
                v -> v.stream().filter(a -> a.getModelId().equals(model)).count() >= 5,
                WAIT);
        assertEquals(5, acc.stream().filter(a -> a.getModelId().equals(model)).count());
    }

    @Test
    @Order(2)
    void attacksAreRejectedWithTheirReasonAndDoNotTouchTheSum() throws Exception {
        String model = "faults";
        RoundOpened round = fleet.round(model, 1, 5, System.currentTimeMillis() + 120_000, Fleet.layout(20_000, 2));
        fleet.enrol(P, "f1", "f2", "f3", "f4", "f5");
        fleet.openRound(P, round);
        List<double[]> plains = new ArrayList<>();

        // 1. a good update, then its exact duplicates (chunk + commit)
        Fleet.Update u1 = fleet.update("f1", round, "f1-r1", 1);
        plains.add(u1.plain());
        fleet.sendUpdate(P, u1);
        fleet.sendEnvelope(P, new UpdateEnvelope(u1.prepared().chunks().get(0)));
        fleet.sendEnvelope(P, new UpdateEnvelope(u1.prepared().commit()));

        // 2. forged signature: f2's commit signed by someone else's key
        Fleet.Update forged = fleet.update("f2", round, "f2-forged", 1);
        UpdateCommit forgedCommit = Signatures.sign(
                forged.prepared().commit(), SigningKeyPair.generate().privateKey());
        fleet.sendEnvelope(P, new UpdateEnvelope(forgedCommit));

        // 3. wrong round: a valid chunk under the key of another round
        UpdateChunk c3 = fleet.update("f3", round, "f3-wronground", 1)
                .prepared()
                .chunks()
                .get(0);
        fleet.sendRaw(
                P + ".updates",
                new UpdateKey(model, 2, "f3").toBytes(),
                org.fedseal.protocol.WireCodec.DEFAULT.encode(new UpdateEnvelope(c3)));

        // 4. wrong HE parameters, properly signed
        UpdateCommit wrongParams = UpdateCommit.newBuilder(
                        fleet.update("f4", round, "f4-params", 1).prepared().commit())
                .setHeParamsId("ckks-16384-v1")
                .setSignature(ByteBuffer.allocate(0))
                .build();
        fleet.sendEnvelope(
                P,
                new UpdateEnvelope(
                        Signatures.sign(wrongParams, fleet.clientKeys.get("f4").privateKey())));

        // 5. truncated ciphertext
        UpdateChunk good =
                fleet.update("f5", round, "f5-trunc", 1).prepared().chunks().get(0);
        ByteBuffer ct = good.getCiphertexts().get(0);
        List<ByteBuffer> cts = new ArrayList<>(good.getCiphertexts());
        cts.set(0, ByteBuffer.wrap(java.util.Arrays.copyOf(ct.array(), ct.remaining() / 2)));
        fleet.sendEnvelope(
                P,
                new UpdateEnvelope(
                        UpdateChunk.newBuilder(good).setCiphertexts(cts).build()));

        // 6. oversized record, 7. garbage
        byte[] big = new byte[700_000];
        fleet.random.nextBytes(big);
        fleet.sendRaw(P + ".updates", new UpdateKey(model, 1, "f5").toBytes(), big);
        fleet.sendRaw(P + ".updates", new UpdateKey(model, 1, "f5").toBytes(), new byte[] {1, 2, 3, 4, 5, 6, 7});

        // 8. a client nobody enrolled
        fleet.clientKeys.put("mallory", SigningKeyPair.generate());
        fleet.sendEnvelope(
                P,
                new UpdateEnvelope(
                        fleet.update("mallory", round, "m-r1", 1).prepared().commit()));

        // the four remaining good updates; the last one reaches the quorum and closes the round
        for (String c : new String[] {"f2", "f3", "f4", "f5"}) {
            Fleet.Update u = fleet.update(c, round, c + "-r1", 1);
            plains.add(u.plain());
            fleet.sendUpdate(P, u);
        }
        AggregatePublished agg = awaitAggregate(model, 1);
        assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
        assertEquals(List.of("f1", "f2", "f3", "f4", "f5"), agg.getParticipants());
        double err = Fleet.maxError(Fleet.sum(plains), fleet.decrypt(agg));
        assertTrue(err < 1e-4, "max error " + err);

        // 9. late: a record for the closed round
        fleet.sendEnvelope(P, new UpdateEnvelope(u1.prepared().chunks().get(1)));
        // 10. replay: f1 re-sends its round-1 update id in round 2 (re-signed for round 2)
        RoundOpened round2 = fleet.round(model, 2, 5, System.currentTimeMillis() + 120_000, Fleet.layout(20_000, 2));
        fleet.openRound(P, round2);
        Fleet.Update replay =
                fleet.update("f1", round2, "f1-r1", 1, u1.plain(), fleet.encrypt(u1.plain(), round2.getChunkLayout()));
        fleet.sendEnvelope(P, new UpdateEnvelope(replay.prepared().commit()));

        Map<ReasonCode, Long> expected = Map.of(
                ReasonCode.DUPLICATE,
                2L,
                ReasonCode.BAD_SIGNATURE,
                1L,
                ReasonCode.WRONG_ROUND,
                1L,
                ReasonCode.WRONG_HE_PARAMS,
                1L,
                ReasonCode.INVALID_CIPHERTEXT,
                1L,
                ReasonCode.OVERSIZED,
                1L,
                ReasonCode.MALFORMED,
                1L,
                ReasonCode.UNKNOWN_CLIENT,
                1L,
                ReasonCode.ROUND_CLOSED,
                1L,
                ReasonCode.REPLAY,
                1L);
        List<UpdateRejected> rej = rejects.await(
                UpdateRejected.class,
                v -> {
                    Map<ReasonCode, Long> got = v.stream()
                            .filter(r -> r.getModelId().equals(model))
                            .collect(Collectors.groupingBy(UpdateRejected::getReason, Collectors.counting()));
                    return expected.entrySet().stream().allMatch(e -> got.getOrDefault(e.getKey(), 0L) >= e.getValue());
                },
                WAIT);
        Map<ReasonCode, Long> got = rej.stream()
                .filter(r -> r.getModelId().equals(model))
                .collect(Collectors.groupingBy(UpdateRejected::getReason, Collectors.counting()));
        assertEquals(expected, got);
        UpdateRejected replayed = rej.stream()
                .filter(r -> r.getReason() == ReasonCode.REPLAY)
                .findFirst()
                .orElseThrow();
        assertEquals(2, replayed.getRound());
        assertEquals("f1", replayed.getClientId());
        // the rejects counted in the aggregate are those of round 1 before it closed (mallory waits out the grace
        // period; wrong-round counts for round 2)
        assertEquals(7, agg.getRejectedCount());
    }

    /** Issue 14, case 2: declared weights are bounded and overflow-checked where the sum is formed. */
    @Test
    @Order(3)
    void declaredWeightsAreBoundedWhereTheSumIsFormed() throws Exception {
        String model = "weights";
        RoundOpened base = fleet.round(model, 1, 3, System.currentTimeMillis() + 120_000, Fleet.layout(9_000, 2));
        RoundOpened round = new RoundBounds(1.0, 100, 250, Fleet.PARAMS.maxSumNorm())
                .applyTo(RoundOpened.newBuilder(base))
                .build();
        fleet.enrol(P, "w1", "w2", "w3", "w4", "w5", "w6");
        fleet.openRound(P, round);
        // rounds whose bounds could wrap, or that carry none, are refused before any update counts
        fleet.openRound(
                P,
                RoundOpened.newBuilder(base)
                        .setModelId("weights-wrap")
                        .setClipNorm(10)
                        .setMaxTotalWeight(10_000_000)
                        .setMaxUpdateWeight(1)
                        .setSumNormBound(1e300)
                        .build());
        fleet.openRound(
                P,
                RoundOpened.newBuilder(base)
                        .setModelId("weights-legacy")
                        .setClipNorm(0)
                        .setMaxTotalWeight(0)
                        .setMaxUpdateWeight(0)
                        .setSumNormBound(0)
                        .build());

        // two correctly signed updates declaring 2^62 each: their sum wrapped to Long.MIN_VALUE and was signed
        fleet.sendUpdate(P, fleet.update("w1", round, "w1-huge", 1L << 62));
        fleet.sendUpdate(P, fleet.update("w2", round, "w2-huge", 1L << 62));
        List<double[]> plains = new ArrayList<>();
        for (String c : new String[] {"w3", "w4"}) {
            Fleet.Update u = fleet.update(c, round, c + "-r1", 100);
            plains.add(u.plain());
            fleet.sendUpdate(P, u);
        }
        accepted.await(
                UpdateAccepted.class,
                v -> v.stream().filter(a -> a.getModelId().equals(model)).count() == 2,
                WAIT);
        // 200 accepted: another 100 would pass maxTotalWeight 250, 50 fits exactly
        fleet.sendUpdate(P, fleet.update("w5", round, "w5-r1", 100));
        rejects.await(
                UpdateRejected.class,
                v -> v.stream()
                        .anyMatch(r -> r.getModelId().equals(model)
                                && r.getReason() == ReasonCode.HEADROOM_EXCEEDED
                                && r.getRecordKind() == RecordKind.UPDATE_COMMIT),
                WAIT);
        Fleet.Update last = fleet.update("w6", round, "w6-r1", 50);
        plains.add(last.plain());
        fleet.sendUpdate(P, last);

        AggregatePublished agg = awaitAggregate(model, 1);
        assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
        assertEquals(List.of("w3", "w4", "w6"), agg.getParticipants());
        assertEquals(250, agg.getTotalWeight());
        assertTrue(Fleet.maxError(Fleet.sum(plains), fleet.decrypt(agg)) < 1e-4);

        List<UpdateRejected> rej = rejects.await(
                UpdateRejected.class,
                v -> v.stream()
                                .filter(r -> r.getModelId().startsWith("weights-")
                                        && r.getRecordKind() == RecordKind.ROUND_OPENED)
                                .count()
                        == 2,
                WAIT);
        for (UpdateRejected r :
                rej.stream().filter(r -> r.getModelId().startsWith("weights-")).toList()) {
            assertEquals(ReasonCode.HEADROOM_EXCEEDED, r.getReason(), r.toString());
        }
        Map<ReasonCode, Long> commits = rejects.values(UpdateRejected.class).stream()
                .filter(r -> r.getModelId().equals(model) && r.getRecordKind() == RecordKind.UPDATE_COMMIT)
                .collect(Collectors.groupingBy(UpdateRejected::getReason, Collectors.counting()));
        assertEquals(Map.of(ReasonCode.INVALID_WEIGHT, 2L, ReasonCode.HEADROOM_EXCEEDED, 1L), commits);
    }

    @Test
    @Order(4)
    void noSecretKeyMaterialInConfigStateOrOutput() throws Exception {
        byte[] secret = fleet.heKeys.secretKey().toBytes(SecretKeyAccess.insecureSecretKeyAccess());
        List<byte[]> probes = new ArrayList<>();
        for (int i = 1; i <= 8; i++) { // 8 windows of 48 bytes spread over the key's polynomial data
            int at = (int) ((long) secret.length * i / 10);
            probes.add(java.util.Arrays.copyOfRange(secret, at, at + 48));
        }
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ObjectOutputStream oos = new ObjectOutputStream(bos)) {
            oos.writeObject(config);
        }
        assertNoProbe(bos.toByteArray(), probes, "serialized job config");

        // an open round with two folded updates: its running sums are in the checkpointed state
        RoundOpened round = fleet.round("secrets", 1, 5, System.currentTimeMillis() + 120_000, Fleet.layout(20_000, 2));
        fleet.enrol(P, "s1", "s2");
        fleet.openRound(P, round);
        fleet.sendUpdate(P, fleet.update("s1", round, "s1-r1", 1));
        fleet.sendUpdate(P, fleet.update("s2", round, "s2-r1", 1));
        accepted.await(
                UpdateAccepted.class,
                v -> v.stream().filter(a -> a.getModelId().equals("secrets")).count() == 2,
                WAIT);
        Thread.sleep(2500); // at least one more checkpoint with all the state above
        List<Path> files;
        try (Stream<Path> s = Files.walk(job.checkpointDir())) {
            files = s.filter(Files::isRegularFile).toList();
        }
        assertFalse(files.isEmpty(), "checkpoints were written");
        long total = 0;
        for (Path f : files) {
            byte[] b = Files.readAllBytes(f);
            total += b.length;
            assertNoProbe(b, probes, f.toString());
        }
        assertTrue(total > 100_000, "checkpoints hold the ciphertext state (" + total + " bytes)");
        for (Fleet.Reader r : new Fleet.Reader[] {aggregates, accepted, rejects}) {
            for (var rec : r.records) {
                assertNoProbe(rec.value(), probes, "output record");
            }
        }
        // and the main code never names the secret-key types
        try (Stream<Path> s = Files.walk(Path.of("src/main/java"))) {
            for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
                String src = Files.readString(f);
                assertFalse(
                        src.contains("HeSecretKey") || src.contains("SecretKeyAccess") || src.contains("decryptor("),
                        f + " touches secret-key material");
            }
        }
    }

    /**
     * Issue 17: a compact round's masked blocks are summed exactly mod q next to the CKKS key sum, and
     * a block of another modulus, an update of CKKS ciphertexts where blocks belong, or a coefficient
     * at or above q is rejected before it can touch the sum.
     */
    @Test
    @Order(5)
    void compactRoundSumsMaskedBlocksExactlyAndRejectsWhatDoesNotFit() throws Exception {
        String model = "compact";
        int n = CompactRounds.BLOCK_VALUES;
        ChunkLayout layout = Chunker.layout(20_000, n, 2, 1); // 3 masked blocks, then the key: 2 chunks
        long q = CompactRounds.modulusFor(100, 22, 100);
        RoundOpened round = new RoundBounds(1.0, 10, 100, Fleet.PARAMS.maxSumNorm())
                .applyTo(RoundOpened.newBuilder(fleet.round(model, 1, 3, System.currentTimeMillis() + 120_000, layout)))
                .setMaskModulus(q)
                .setMaskScaleBits(22)
                .build();
        assertTrue(
                CompactRounds.problem(round).isEmpty(),
                CompactRounds.problem(round).toString());
        fleet.enrol(P, "k1", "k2", "k3", "k4", "k5", "k6");
        fleet.openRound(P, round);

        java.util.Random rnd = new java.util.Random(17);
        // rogues first, so that they meet the open round: another modulus, CKKS where blocks belong, a coefficient >= q
        long otherQ = CompactRounds.modulusFor(1e4, 22, 100);
        fleet.sendUpdate(P, compactUpdate("k4", round, otherQ, randomBlocks(rnd, otherQ, 3), rnd));
        List<byte[]> ckks = new ArrayList<>(fleet.encrypt(fleet.randomValues(20_000), layout));
        ckks.add(ternaryKey(rnd));
        fleet.sendUpdate(P, fleet.update("k5", round, "k5-r1", 1, null, ckks));
        List<long[]> bad = randomBlocks(rnd, q, 3);
        byte[] tooLarge = MaskedVectors.encode(q, bad.get(1));
        java.util.Arrays.fill(tooLarge, MaskedVectors.HEADER_BYTES, MaskedVectors.HEADER_BYTES + 8, (byte) 0xFF);
        List<byte[]> entries = new ArrayList<>();
        entries.add(MaskedVectors.encode(q, bad.get(0)));
        entries.add(tooLarge);
        entries.add(MaskedVectors.encode(q, bad.get(2)));
        entries.add(ternaryKey(rnd));
        // only the bad chunk: the commit would wait for a replacement that never comes
        fleet.sendEnvelope(
                P,
                new UpdateEnvelope(fleet.update("k6", round, "k6-r1", 1, null, entries)
                        .prepared()
                        .chunks()
                        .get(0)));

        long[][] expected = new long[3][n];
        double[] keySum = new double[n];
        for (String c : new String[] {"k1", "k2", "k3"}) {
            List<long[]> blocks = randomBlocks(rnd, q, 3);
            for (int j = 0; j < 3; j++) {
                for (int i = 0; i < n; i++) {
                    expected[j][i] = (expected[j][i] + blocks.get(j)[i]) % q;
                }
            }
            Fleet.Update u = compactUpdate(c, round, q, blocks, rnd);
            byte[] key = org.fedseal.protocol.Bytes.toArray(
                    u.prepared().chunks().get(1).getCiphertexts().get(1));
            double[] k = decryptOne(key);
            for (int i = 0; i < n; i++) {
                keySum[i] += Math.rint(k[i]);
            }
            fleet.sendUpdate(P, u);
        }
        AggregatePublished agg = awaitAggregate(model, 1);
        assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
        assertEquals(List.of("k1", "k2", "k3"), agg.getParticipants());
        List<byte[]> sums = Aggregates.ciphertexts(agg, Aggregates.of(fleet.chunkSums(agg)));
        assertEquals(4, sums.size());
        for (int j = 0; j < 3; j++) {
            assertTrue(MaskedVectors.isMasked(sums.get(j)), "entry " + j + " is a masked block sum");
            assertTrue(
                    java.util.Arrays.equals(expected[j], MaskedVectors.decode(ByteBuffer.wrap(sums.get(j)))),
                    "block " + j + " is the exact sum mod q");
        }
        double[] key = decryptOne(sums.get(3));
        for (int i = 0; i < n; i++) {
            assertEquals(keySum[i], key[i], 1e-3, "key sum coefficient " + i);
        }

        List<UpdateRejected> rej = rejects.await(
                UpdateRejected.class,
                v -> v.stream()
                                .filter(r -> r.getModelId().equals(model))
                                .map(UpdateRejected::getClientId)
                                .distinct()
                                .count()
                        >= 3,
                WAIT);
        Map<String, List<UpdateRejected>> byClient = rej.stream()
                .filter(r -> r.getModelId().equals(model))
                .collect(Collectors.groupingBy(UpdateRejected::getClientId));
        assertEquals(java.util.Set.of("k4", "k5", "k6"), byClient.keySet());
        for (List<UpdateRejected> rs : byClient.values()) {
            assertTrue(rs.stream().allMatch(r -> r.getReason() == ReasonCode.INVALID_CIPHERTEXT), rs.toString());
        }
        assertTrue(byClient.get("k4").get(0).getDetail().contains("masks its values modulo " + q), byClient.toString());
        assertTrue(byClient.get("k5").get(0).getDetail().contains("CKKS ciphertext"), byClient.toString());
        assertTrue(byClient.get("k6").get(0).getDetail().contains("masked block 1"), byClient.toString());
    }

    private static List<long[]> randomBlocks(java.util.Random rnd, long q, int count) {
        List<long[]> out = new ArrayList<>();
        for (int j = 0; j < count; j++) {
            out.add(rnd.longs(CompactRounds.BLOCK_VALUES, 0, q).toArray());
        }
        return out;
    }

    /** A CKKS encryption of a random ternary vector: what a compact update's key entry looks like to the job. */
    private byte[] ternaryKey(java.util.Random rnd) {
        double[] s = new double[CompactRounds.BLOCK_VALUES];
        for (int i = 0; i < s.length; i++) {
            s[i] = rnd.nextInt(3) - 1;
        }
        try (org.fedseal.he.EncryptedVector v = fleet.encryptor.encrypt(s)) {
            return v.toBytes();
        }
    }

    private Fleet.Update compactUpdate(
            String client, RoundOpened round, long modulus, List<long[]> blocks, java.util.Random rnd) {
        List<byte[]> entries = new ArrayList<>();
        for (long[] b : blocks) {
            entries.add(MaskedVectors.encode(modulus, b));
        }
        entries.add(ternaryKey(rnd));
        return fleet.update(client, round, client + "-r1", 1, null, entries);
    }

    private double[] decryptOne(byte[] ct) throws Exception {
        try (org.fedseal.he.HeDecryptor d = fleet.he.decryptor(fleet.heKeys.secretKey());
                org.fedseal.he.EncryptedVector v = fleet.he.loadVector(ct)) {
            return d.decrypt(v);
        }
    }

    private static void assertNoProbe(byte[] hay, List<byte[]> probes, String where) {
        for (byte[] p : probes) {
            assertEquals(-1, indexOf(hay, p), "secret key bytes found in " + where);
        }
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
