package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.fedseal.demo.FederatedDeployment;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.protocol.wire.UpdateRejected;
import org.fedseal.registry.RoundInfo;
import org.junit.jupiter.api.Test;

/**
 * Faults end to end, each its own test: misbehaving records, drop-outs, a round below quorum, a
 * replayed old round, the aggregator killed mid-round, the registry restarted between rounds.
 * Updates have known deltas so the expected sum is exact.
 */
class FaultsIT {
    static final int PARAMS = 20_000;
    static final long WEIGHT = 100;

    /** Σ w·d / Σ w over the given deltas (equal weights). */
    static double[] mean(List<float[]> deltas) {
        double[] m = new double[PARAMS];
        for (float[] d : deltas) {
            for (int i = 0; i < PARAMS; i++) {
                m[i] += d[i] / (double) deltas.size();
            }
        }
        return m;
    }

    static void assertDecryptsTo(Scenario s, AggregatePublished agg, List<float[]> honest) {
        assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
        assertEquals(honest.size(), agg.getParticipants().size(), "participants " + agg.getParticipants());
        assertEquals(WEIGHT * honest.size(), agg.getTotalWeight());
        double[] expected = mean(honest);
        double[] actual = s.keyHolder.decryptMean(agg, s.chunkSums());
        double max = 0;
        for (int i = 0; i < PARAMS; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(max < 1e-5, "aggregate off by " + max);
    }

    static SigningKeyPair enrol(Scenario s, String id) {
        SigningKeyPair k = SigningKeyPair.generate();
        s.identities.put(id, k);
        s.admin.enrollClient(id, k.publicKey(), List.of(s.modelId));
        return k;
    }

    @Test
    void misbehavingRecordsAreRejectedWithTheirReasonAndTheSumIsUnaffected() throws Exception {
        try (Scenario s = new Scenario(SharedDeployment.get(), "it-bad-actors", new float[PARAMS])) {
            List<String> honest = List.of("honest-a", "honest-b", "honest-c");
            for (String id : honest) {
                enrol(s, id);
            }
            SigningKeyPair forger = enrol(s, "forger");
            SigningKeyPair truncator = enrol(s, "truncator");
            SigningKeyPair bloater = enrol(s, "bloater");
            SigningKeyPair wrongParams = enrol(s, "wrong-params");
            SigningKeyPair rescaler = enrol(s, "rescaler");
            RoundOpened round = s.open(honest.size(), Duration.ofMinutes(3));
            float[] d = Updates.delta(PARAMS, 0.01, 1);

            try (KafkaProducer<byte[], byte[]> p = s.rawProducer()) {
                // Forged: signed with a key that is not the enrolled one.
                Chunker.PreparedUpdate forged = Updates.prepare(
                        s, "forger", round, d, WEIGHT, SigningKeyPair.generate().privateKey());
                Updates.sendChunks(p, forged.chunks());
                Updates.sendCommit(p, forged.commit());
                // Truncated ciphertext, honestly hashed and signed: only SEAL-level validation can catch it.
                Chunker.PreparedUpdate good = Updates.prepare(s, "truncator", round, d, WEIGHT, truncator.privateKey());
                List<UpdateChunk> cut =
                        new ArrayList<>(List.of(Updates.truncated(good.chunks().get(0))));
                UpdateCommit cutCommit = Signatures.sign(
                        Chunker.commitFor(
                                cut,
                                round.getHeParamsId(),
                                org.fedseal.protocol.Hash.of(round.getBaseModelHash()),
                                WEIGHT,
                                System.currentTimeMillis()),
                        truncator.privateKey());
                Updates.sendChunks(p, cut);
                Updates.sendCommit(p, cutCommit);
                // Ten times the record size limit.
                UpdateChunk huge = UpdateChunk.newBuilder(good.chunks().get(0))
                        .setClientId("bloater")
                        .setCiphertexts(List.of(ByteBuffer.wrap(new byte[10 << 20])))
                        .build();
                Updates.send(
                        p,
                        new UpdateKey(s.modelId, round.getRound(), "bloater"),
                        UpdateEnvelope.newBuilder().setPayload(huge).build());
                // Claims another HE parameter set.
                Chunker.PreparedUpdate other =
                        Updates.prepare(s, "wrong-params", round, d, WEIGHT, wrongParams.privateKey());
                UpdateCommit otherCommit = UpdateCommit.newBuilder(other.commit())
                        .setHeParamsId("ckks-16384-v1")
                        .build();
                Updates.sendChunks(p, other.chunks());
                Updates.sendCommit(p, Signatures.sign(otherCommit, wrongParams.privateKey()));
                // Right moduli and size, foreign scale (2^50): SEAL would load it and then fail every addition.
                try (org.fedseal.he.HeContext t50 =
                                org.fedseal.he.HeContext.create(org.fedseal.he.HeParameters.CKKS_8192_T50);
                        org.fedseal.he.HePublicKey pk50 =
                                t50.loadPublicKey(s.keys.publicKey().toBytes());
                        org.fedseal.client.SealUpdateEncryptor enc50 =
                                org.fedseal.client.SealUpdateEncryptor.of(t50, pk50)) {
                    Chunker.PreparedUpdate scaled = Chunker.prepare(
                            "rescaler",
                            round,
                            java.util.UUID.randomUUID().toString(),
                            enc50.encrypt(d, round.getChunkLayout()),
                            WEIGHT,
                            System.currentTimeMillis(),
                            rescaler.privateKey(),
                            Chunker.DEFAULT_MAX_RECORD_BYTES);
                    Updates.sendChunks(p, scaled.chunks());
                    Updates.sendCommit(p, scaled.commit());
                }
                // Not enrolled at all.
                Chunker.PreparedUpdate stranger = Updates.prepare(
                        s,
                        "stranger",
                        round,
                        d,
                        WEIGHT,
                        SigningKeyPair.generate().privateKey());
                Updates.sendChunks(p, stranger.chunks());
                Updates.sendCommit(p, stranger.commit());
                p.flush();
            }
            Set<ReasonCode> expected = EnumSet.of(
                    ReasonCode.BAD_SIGNATURE,
                    ReasonCode.INVALID_CIPHERTEXT,
                    ReasonCode.OVERSIZED,
                    ReasonCode.WRONG_HE_PARAMS,
                    ReasonCode.UNKNOWN_CLIENT);
            Set<ReasonCode> seen = EnumSet.noneOf(ReasonCode.class);
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (!seen.containsAll(expected) && System.nanoTime() < end) {
                for (UpdateRejected r : s.rejects(round.getRound(), 1, Duration.ofSeconds(5))) {
                    seen.add(r.getReason());
                }
            }
            assertTrue(seen.containsAll(expected), "rejects seen: " + seen);
            s.await(
                    org.fedseal.protocol.Topics.REJECTS,
                    UpdateRejected.class,
                    r -> s.modelId.equals(r.getModelId())
                            && "rescaler".equals(r.getClientId())
                            && r.getReason() == ReasonCode.INVALID_CIPHERTEXT,
                    Duration.ofSeconds(30));

            // Now the honest ones; the first also sends its update twice, then a second update.
            List<float[]> deltas = new ArrayList<>();
            for (int c = 0; c < honest.size(); c++) {
                float[] delta = Updates.delta(PARAMS, 0.01, 100 + c);
                deltas.add(delta);
                Chunker.PreparedUpdate u = Updates.prepare(
                        s,
                        honest.get(c),
                        round,
                        delta,
                        WEIGHT,
                        s.identities.get(honest.get(c)).privateKey());
                Updates.send(s, u);
                if (c == 0) {
                    Updates.send(s, u); // Kafka-style redelivery: counted once
                    Updates.send(
                            s,
                            Updates.prepare(
                                    s,
                                    honest.get(c),
                                    round,
                                    Updates.delta(PARAMS, 0.5, 9),
                                    WEIGHT,
                                    s.identities.get(honest.get(c)).privateKey())); // a second update: DUPLICATE
                    s.await(
                            org.fedseal.protocol.Topics.REJECTS,
                            UpdateRejected.class,
                            r -> s.modelId.equals(r.getModelId())
                                    && r.getReason() == ReasonCode.DUPLICATE
                                    && honest.get(0).equals(r.getClientId()),
                            Duration.ofSeconds(60));
                }
            }
            AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(2));
            assertDecryptsTo(s, agg, deltas);
            RoundInfo status = s.admin.roundStatus(s.modelId, round.getRound());
            assertTrue(status.rejectedCount() >= expected.size() + 1, "registry counts the rejects: " + status);
        }
    }

    @Test
    void thirtyPercentDropOutMidRoundAndTheRestAreSummed() throws Exception {
        try (Scenario s = new Scenario(SharedDeployment.get(), "it-dropout", new float[PARAMS])) {
            List<float[]> completed = new ArrayList<>();
            List<Chunker.PreparedUpdate> updates = new ArrayList<>();
            for (int c = 0; c < 10; c++) {
                enrol(s, "phone-" + c);
            }
            RoundOpened round = s.open(7, Duration.ofMinutes(3));
            for (int c = 0; c < 10; c++) {
                float[] delta = Updates.delta(PARAMS, 0.01, 200 + c);
                Chunker.PreparedUpdate u = Updates.prepare(
                        s,
                        "phone-" + c,
                        round,
                        delta,
                        WEIGHT,
                        s.identities.get("phone-" + c).privateKey());
                updates.add(u);
                if (c < 3) {
                    try (KafkaProducer<byte[], byte[]> p = s.rawProducer()) {
                        Updates.sendChunks(p, u.chunks()); // then the phone goes offline: no commit
                    }
                } else {
                    completed.add(delta);
                }
            }
            for (int c = 3; c < 10; c++) {
                Updates.send(s, updates.get(c));
            }
            AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(2));
            assertDecryptsTo(s, agg, completed);
            assertEquals(
                    Set.of("phone-3", "phone-4", "phone-5", "phone-6", "phone-7", "phone-8", "phone-9"),
                    Set.copyOf(agg.getParticipants()));
        }
    }

    @Test
    void roundBelowQuorumAtItsDeadlineClosesAsFailed() throws Exception {
        try (Scenario s = new Scenario(SharedDeployment.get(), "it-below-quorum", new float[PARAMS])) {
            enrol(s, "only-a");
            enrol(s, "only-b");
            RoundOpened round = s.open(3, Duration.ofSeconds(15));
            for (String id : List.of("only-a", "only-b")) {
                Updates.send(
                        s,
                        Updates.prepare(
                                s,
                                id,
                                round,
                                Updates.delta(PARAMS, 0.01, 3),
                                WEIGHT,
                                s.identities.get(id).privateKey()));
            }
            AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(1));
            assertEquals(AggregateStatus.FAILED_BELOW_QUORUM, agg.getStatus());
        }
    }

    @Test
    void replayedUpdateOfAClosedRoundIsRejected() throws Exception {
        try (Scenario s = new Scenario(SharedDeployment.get(), "it-replay", new float[PARAMS])) {
            enrol(s, "replayer");
            RoundOpened first = s.open(1, Duration.ofMinutes(2));
            Chunker.PreparedUpdate u = Updates.prepare(
                    s,
                    "replayer",
                    first,
                    Updates.delta(PARAMS, 0.01, 4),
                    WEIGHT,
                    s.identities.get("replayer").privateKey());
            Updates.send(s, u);
            assertEquals(
                    AggregateStatus.COMPLETED,
                    s.aggregate(first.getRound(), Duration.ofMinutes(1)).getStatus());

            Updates.send(s, u); // the same bytes again, after the round closed
            List<UpdateRejected> rejects = s.rejects(first.getRound(), 1, Duration.ofSeconds(60));
            Set<String> reasons =
                    rejects.stream().map(r -> r.getReason().name()).collect(Collectors.toSet());
            assertTrue(
                    reasons.contains("ROUND_CLOSED") || reasons.contains("REPLAY") || reasons.contains("LATE"),
                    "rejects: " + reasons);
            assertEquals(
                    1,
                    s.aggregate(first.getRound(), Duration.ofSeconds(10))
                            .getParticipants()
                            .size());
        }
    }

    @Test
    void aggregatorKilledMidRoundResumesFromItsCheckpointWithoutLossOrDoubleCount() throws Exception {
        FederatedDeployment d = SharedDeployment.get();
        try (Scenario s = new Scenario(d, "it-aggregator-restart", new float[PARAMS])) {
            List<float[]> deltas = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                enrol(s, "survivor-" + c);
            }
            RoundOpened round = s.open(4, Duration.ofMinutes(3));
            List<Chunker.PreparedUpdate> updates = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                float[] delta = Updates.delta(PARAMS, 0.01, 400 + c);
                deltas.add(delta);
                updates.add(Updates.prepare(
                        s,
                        "survivor-" + c,
                        round,
                        delta,
                        WEIGHT,
                        s.identities.get("survivor-" + c).privateKey()));
            }
            Updates.send(s, updates.get(0));
            Updates.send(s, updates.get(1));
            // Accepted records are visible to read_committed only once a checkpoint holding them completed.
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (accepted(s, round.getRound()) < 2) {
                assertTrue(System.nanoTime() < end, "two updates accepted before the kill");
            }
            d.stopAggregator();
            d.startAggregator();
            Updates.send(s, updates.get(2));
            Updates.send(s, updates.get(3));
            AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(2));
            assertDecryptsTo(s, agg, deltas);
            Thread.sleep(2000);
            assertEquals(4, accepted(s, round.getRound()), "each update accepted exactly once");
            assertEquals(
                    1,
                    s.collect(
                                    org.fedseal.protocol.Topics.AGGREGATES,
                                    AggregatePublished.class,
                                    a -> a.getModelId().equals(s.modelId),
                                    Duration.ofSeconds(4))
                            .size(),
                    "exactly one aggregate");
        }
    }

    static int accepted(Scenario s, int round) {
        return s.collect(
                        org.fedseal.protocol.Topics.ACCEPTED,
                        org.fedseal.protocol.wire.UpdateAccepted.class,
                        a -> a.getModelId().equals(s.modelId) && a.getRound() == round,
                        Duration.ofSeconds(3))
                .size();
    }

    @Test
    void registryRestartBetweenRoundsLosesNothing() throws Exception {
        var deployment = SharedDeployment.get();
        try (Scenario s = new Scenario(deployment, "it-registry-restart", new float[PARAMS])) {
            enrol(s, "steady");
            RoundOpened r1 = s.open(1, Duration.ofMinutes(2));
            Updates.send(
                    s,
                    Updates.prepare(
                            s,
                            "steady",
                            r1,
                            Updates.delta(PARAMS, 0.01, 5),
                            WEIGHT,
                            s.identities.get("steady").privateKey()));
            s.aggregate(r1.getRound(), Duration.ofMinutes(1));
            long logSizeBefore = waitForClosed(s, r1.getRound()).treeSize();

            deployment.stopRegistry();
            deployment.startRegistry();

            var admin = deployment.adminClient();
            assertEquals("closed", admin.roundStatus(s.modelId, r1.getRound()).status());
            assertTrue(admin.signedTreeHead().getTreeSize() >= logSizeBefore, "log kept its entries");
            assertEquals(
                    s.keys.publicKey().toBytes().length,
                    admin.hePublicKey(org.fedseal.protocol.Hash.of(r1.getPublicKeyHash())).length);
            RoundInfo r2 = admin.openRound(s.modelId, 1, Duration.ofMinutes(2), 1, 6);
            assertEquals(r1.getRound() + 1, r2.round());
        }
    }

    record Closed(long treeSize) {}

    static Closed waitForClosed(Scenario s, int round) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < end) {
            if ("closed".equals(s.admin.roundStatus(s.modelId, round).status())) {
                return new Closed(s.admin.signedTreeHead().getTreeSize());
            }
            Thread.sleep(200);
        }
        throw new AssertionError("registry never saw round " + round + " close");
    }
}
