package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.FederatedEvaluation;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.RoundTask;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Evaluation rounds on the client: the trainer's local sums, the vector that is encrypted, and the refusal of a huge loss. */
class FederatedEvaluationClientTest {
    static final long NOW = 1_000_000L;
    static HeContext he;
    static HeKeyPair keys;
    static SealUpdateEncryptor encryptor;

    @BeforeAll
    static void keys() {
        he = HeContext.create(HeParameters.CKKS_8192);
        keys = he.generateKeys();
        encryptor = SealUpdateEncryptor.of(he, keys.publicKey());
    }

    @AfterAll
    static void free() {
        encryptor.close();
        keys.close();
        he.close();
    }

    static LocalDataset data(int n, int features, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * features];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
            for (int j = 0; j < features; j++) {
                x[i * features + j] = (float) (r.nextDouble() + (j == y[i] ? 1.5 : 0));
            }
        }
        return new LocalDataset(x, features, y);
    }

    @Test
    void javaMlpTrainerEvaluatesItsLocalData() {
        LocalDataset d = data(120, 4, 3, 1);
        JavaMlpTrainer t = new JavaMlpTrainer(d, 5, 3, 16, 0.1f, 7);
        float[] zero = new float[t.parameterCount()];
        LocalEvaluation e0 = t.evaluate(zero);
        assertEquals(120, e0.examples());
        assertEquals(120 * Math.log(3), e0.lossSum(), 1e-9); // equal logits: cross-entropy ln 3 per example
        float[] p = t.initialParameters(3);
        for (int i = 0; i < 3; i++) {
            p = DjlTrainer.add(p, t.fit(p, 1).delta());
        }
        LocalEvaluation e = t.evaluate(p);
        assertEquals(t.accuracy(p, d), e.accuracy(), 0.0);
        assertTrue(e.accuracy() > 0.6, "trained accuracy " + e.accuracy());
        assertTrue(e.meanLoss() < Math.log(3), "trained loss " + e.meanLoss());
        assertThrows(UnsupportedOperationException.class, () -> new FederatedClientTest.FakeTrainer().evaluate(zero));
    }

    RoundOpened evaluationRound(BaseModel base, double lossBound) {
        RoundBounds b =
                RoundBounds.loosest(HeParameters.CKKS_8192.maxSumNorm(), FederatedEvaluation.clipNormFor(lossBound));
        return b.applyTo(RoundOpened.newBuilder())
                .setModelId("m1")
                .setRound(4)
                .setBaseModelHash(base.versionHash().toByteBuffer())
                .setHeParamsId(HeParameters.CKKS_8192.id())
                .setPublicKeyHash(encryptor.publicKeyHash().toByteBuffer())
                .setQuorum(1)
                .setDeadlineEpochMillis(NOW + 60_000)
                .setChunkLayout(FederatedEvaluation.layout(encryptor.valuesPerCiphertext()))
                .setLocalEpochs(1)
                .setOpenedAtEpochMillis(0L)
                .setTask(RoundTask.EVALUATE)
                .build();
    }

    FederatedClient client(LocalTrainer trainer, MockProducer<byte[], byte[]> producer) {
        return FederatedClient.builder(Map.of(ClientConfig.CLIENT_ID, "alice", ClientConfig.CLIP_L2_BOUND, 0.5))
                .trainer(trainer)
                .encryptor(encryptor)
                .signingKey(SigningKeyPair.generate().privateKey())
                .producer(producer)
                .clock(Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC))
                .build();
    }

    @Test
    void evaluationRoundSendsTheWeightedVectorUnclipped() throws Exception {
        LocalDataset d = data(90, 4, 3, 2);
        JavaMlpTrainer t = new JavaMlpTrainer(d, 0, 3, 16, 0.1f, 7);
        float[] p = t.initialParameters(5);
        p = DjlTrainer.add(p, t.fit(p, 2).delta());
        BaseModel base = BaseModel.initial("m1", p, 0);
        MockProducer<byte[], byte[]> producer =
                new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        try (FederatedClient client = client(t, producer)) {
            RoundOpened round = evaluationRound(base, 10);
            assertEquals(
                    SubmissionException.Reason.INVALID_UPDATE,
                    assertThrows(SubmissionException.class, () -> client.trainOnce(round, base))
                            .reason());
            LocalUpdate u = client.evaluateOnce(round, base);
            LocalEvaluation e = t.evaluate(p);
            assertEquals(90, u.weight());
            assertEquals(e.accuracy(), u.metrics().get(LocalUpdate.METRIC_ACCURACY));
            client.submit(round, u);
            assertEquals(2, producer.history().size()); // one chunk, one commit
            UpdateCommit commit = (UpdateCommit) WireCodec.DEFAULT
                    .decode(producer.history().get(1).value(), UpdateEnvelope.class)
                    .getPayload();
            assertEquals(90, commit.getWeight());
            UpdateChunk chunk = (UpdateChunk) WireCodec.DEFAULT
                    .decode(producer.history().get(0).value(), UpdateEnvelope.class)
                    .getPayload();
            byte[] ct = new byte[chunk.getCiphertexts().get(0).remaining()];
            chunk.getCiphertexts().get(0).duplicate().get(ct);
            double[] sum;
            try (EncryptedVector v = he.loadVector(ct);
                    var dec = he.decryptor(keys.secretKey())) {
                sum = dec.decrypt(v);
            }
            // the client's own clip bound (0.5) is below the vector's norm (> 1): it must not apply to evaluation sums
            FederatedEvaluation.Metrics m = FederatedEvaluation.decode(sum, 90);
            assertEquals(e.accuracy(), m.accuracy(), 1e-6);
            assertEquals(e.meanLoss(), m.loss(), 1e-6);
        }
    }

    @Test
    void listenerModeEvaluatesInEvaluationRounds() throws Exception {
        LocalDataset d = data(60, 4, 3, 4);
        JavaMlpTrainer t = new JavaMlpTrainer(d, 0, 3, 16, 0.1f, 7);
        BaseModel base = BaseModel.initial("m1", t.initialParameters(9), 0);
        RoundOpened round = evaluationRound(base, 10);
        MockProducer<byte[], byte[]> producer =
                new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        org.apache.kafka.clients.consumer.MockConsumer<byte[], byte[]> consumer =
                new org.apache.kafka.clients.consumer.MockConsumer<>("earliest");
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition("fedseal.rounds", 0);
        consumer.schedulePollTask(() -> {
            consumer.rebalance(java.util.List.of(tp));
            consumer.updateBeginningOffsets(Map.of(tp, 0L));
            consumer.addRecord(new org.apache.kafka.clients.consumer.ConsumerRecord<>(
                    "fedseal.rounds", 0, 0L, new byte[0], WireCodec.DEFAULT.encode(round)));
        });
        java.util.concurrent.CompletableFuture<SubmissionReceipt> done = new java.util.concurrent.CompletableFuture<>();
        try (FederatedClient client = FederatedClient.builder(Map.of(ClientConfig.CLIENT_ID, "bob"))
                .trainer(t)
                .encryptor(encryptor)
                .modelSource(new InMemoryModelSource().putModel(base))
                .signingKey(SigningKeyPair.generate().privateKey())
                .producer(producer)
                .consumerFactory(() -> consumer)
                .clock(Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC))
                .build()) {
            client.startListening(new RoundListener() {
                @Override
                public void onSubmitted(RoundOpened r, SubmissionReceipt receipt) {
                    done.complete(receipt);
                }

                @Override
                public void onFailed(RoundOpened r, SubmissionException error) {
                    done.completeExceptionally(error);
                }
            });
            SubmissionReceipt receipt = done.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(1, receipt.chunkCount());
            UpdateCommit commit = (UpdateCommit) WireCodec.DEFAULT
                    .decode(producer.history().get(1).value(), UpdateEnvelope.class)
                    .getPayload();
            assertEquals(60, commit.getWeight(), "an evaluation sum weighs its examples");
        }
    }

    /** The Android path: HttpParticipant evaluates in an evaluation round and uploads the same sums over HTTP. */
    @Test
    void httpParticipantSendsEvaluationSums() throws Exception {
        LocalDataset d = data(50, 4, 3, 6);
        JavaMlpTrainer t = new JavaMlpTrainer(d, 0, 3, 16, 0.1f, 7);
        BaseModel base = BaseModel.initial("m1", t.initialParameters(2), 0);
        byte[] pk = keys.publicKey().toBytes();
        int perCiphertext =
                JavaUpdateEncryptor.load(pk, new java.security.SecureRandom()).valuesPerCiphertext();
        RoundBounds b = RoundBounds.loosest(HeParameters.CKKS_8192.maxSumNorm(), FederatedEvaluation.clipNormFor(10));
        RoundOpened round = b.applyTo(RoundOpened.newBuilder())
                .setModelId("m1")
                .setRound(5)
                .setBaseModelHash(base.versionHash().toByteBuffer())
                .setHeParamsId(HeParameters.CKKS_8192.id())
                .setPublicKeyHash(org.fedseal.protocol.Hash.sha256(pk).toByteBuffer())
                .setQuorum(1)
                .setDeadlineEpochMillis(System.currentTimeMillis() + 60_000)
                .setChunkLayout(FederatedEvaluation.layout(perCiphertext))
                .setLocalEpochs(1)
                .setOpenedAtEpochMillis(0L)
                .setTask(RoundTask.EVALUATE)
                .build();
        java.util.List<byte[]> posted = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        com.sun.net.httpserver.HttpServer server =
                com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 4);
        server.createContext("/", ex -> {
            posted.add(ex.getRequestBody().readAllBytes());
            byte[] ok = "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.sendResponseHeaders(202, ok.length);
            ex.getResponseBody().write(ok);
            ex.close();
        });
        server.start();
        try {
            UpdateSigner signer = UpdateSigner.of(SigningKeyPair.generate().privateKey());
            HttpParticipant phone = new HttpParticipant(
                    "phone-1",
                    t,
                    UpdatePolicy.of(0.5),
                    new InMemoryModelSource().putModel(base).putPublicKey(pk),
                    new HttpUpdateTransport(
                            java.net.URI.create(
                                    "http://127.0.0.1:" + server.getAddress().getPort()),
                            "phone-1",
                            signer),
                    signer);
            java.util.List<String> steps = new java.util.ArrayList<>();
            phone.participate(round, steps::add);
            assertTrue(steps.stream().anyMatch(m -> m.startsWith("evaluating")), steps.toString());
            assertEquals(2, posted.size());
            UpdateChunk chunk = (UpdateChunk) WireCodec.DEFAULT
                    .decode(posted.get(0), UpdateEnvelope.class)
                    .getPayload();
            UpdateCommit commit = (UpdateCommit) WireCodec.DEFAULT
                    .decode(posted.get(1), UpdateEnvelope.class)
                    .getPayload();
            assertEquals(50, commit.getWeight());
            byte[] ct = new byte[chunk.getCiphertexts().get(0).remaining()];
            chunk.getCiphertexts().get(0).duplicate().get(ct);
            double[] sum;
            try (EncryptedVector v = he.loadVector(ct);
                    var dec = he.decryptor(keys.secretKey())) {
                sum = dec.decrypt(v);
            }
            LocalEvaluation e = t.evaluate(base.parameters());
            FederatedEvaluation.Metrics m = FederatedEvaluation.decode(sum, 50);
            assertEquals(e.accuracy(), m.accuracy(), 1e-6);
            assertEquals(e.meanLoss(), m.loss(), 1e-6);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aLossAboveTheRoundsBoundIsRefusedNotClipped() throws Exception {
        LocalDataset d = data(30, 4, 3, 3);
        JavaMlpTrainer t = new JavaMlpTrainer(d, 0, 3, 16, 0.1f, 7);
        BaseModel base = BaseModel.initial("m1", new float[t.parameterCount()], 0); // loss ln 3 = 1.0986 per example
        MockProducer<byte[], byte[]> producer =
                new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        try (FederatedClient client = client(t, producer)) {
            RoundOpened round = evaluationRound(base, 1.0);
            SubmissionException ex = assertThrows(SubmissionException.class, () -> client.evaluateOnce(round, base));
            assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, ex.reason());
            assertTrue(ex.getMessage().contains("loss bound"), ex.getMessage());
            assertEquals(0, producer.history().size());
            LocalUpdate fits = client.evaluateOnce(evaluationRound(base, 1.1), base);
            assertEquals(30, fits.weight());
        }
    }
}
