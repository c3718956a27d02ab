package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;

/**
 * Round configuration on the client: the round's learning rate, batch size and FedProx μ reach the
 * trainer; the pure-Java trainer's FedProx step equals the hand-derived one, a large μ keeps the
 * weights near the base; an unsampled client trains and sends nothing.
 */
class RoundConfigTest {
    /** One row x = [1] of class 0, softmax regression with 2 classes: parameters [W0, W1, b0, b1]. */
    static final LocalDataset ONE = new LocalDataset(new float[] {1f}, 1, new int[] {0});

    /**
     * Hand derivation (lr η = 1, batch 1, 2 epochs = 2 steps, base w0 = 0):
     * step 1: logits (0, 0), softmax (½, ½), dL/dz = (−½, ½), so grad = (−½, ½, −½, ½) and
     * w1 = (½, −½, ½, −½); the proximal gradient μ·(w − w0) is 0 at the base.
     * step 2: logits (W0 + b0, W1 + b1) = (1, −1), softmax₀ = 1/(1 + e⁻²) = s, dL/dz = (s − 1, 1 − s),
     * the proximal gradient is μ·w1, so w2 = w1 − η·(grad + μ·w1), e.g. W0 = ½ + (1 − s) − μ·½.
     */
    @Test
    void javaTrainerFedProxStepMatchesTheHandDerivedGradient() {
        double s = 1 / (1 + Math.exp(-2));
        for (double mu : new double[] {0, 0.5, 1}) {
            JavaMlpTrainer t = new JavaMlpTrainer(ONE, 0, 2, 1, 1f, 3);
            LocalUpdate u = t.fit(new float[4], new RoundConfig(2, 0, 0, mu));
            double w0 = 0.5 + (1 - s) - mu * 0.5;
            assertArrayEquals(
                    new float[] {(float) w0, (float) -w0, (float) w0, (float) -w0}, u.delta(), 1e-6f, "mu " + mu);
        }
    }

    @Test
    void javaTrainerTakesTheRoundsLearningRateAndBatchSize() {
        JavaMlpTrainer t = new JavaMlpTrainer(ONE, 0, 2, 1, 1f, 3);
        // one step of gradient (−½, ½, −½, ½) at learning rate 0.25 instead of the trainer's 1
        assertArrayEquals(
                new float[] {0.125f, -0.125f, 0.125f, -0.125f},
                t.fit(new float[4], new RoundConfig(1, 0.25, 0, 0)).delta(),
                1e-7f);
        LocalDataset two = new LocalDataset(new float[] {1f, 1f}, 1, new int[] {0, 0});
        JavaMlpTrainer b1 = new JavaMlpTrainer(two, 0, 2, 1, 1f, 3);
        // batch 2: one step with the mean gradient of two equal rows = the single-row step
        assertArrayEquals(
                new float[] {0.5f, -0.5f, 0.5f, -0.5f},
                b1.fit(new float[4], new RoundConfig(1, 0, 2, 0)).delta(),
                1e-7f);
        // its own batch 1: two steps
        assertTrue(b1.fit(new float[4], 1).delta()[0] > 0.6f);
        assertArrayEquals(
                b1.fit(new float[4], 1).delta(),
                b1.fit(new float[4], RoundConfig.epochs(1)).delta(),
                "0 = the trainer's own");
    }

    @Test
    void javaTrainerLargeMuKeepsWeightsNearTheBase() {
        LocalDataset data = Mnist2500.load().range(0, 600);
        JavaMlpTrainer t = new JavaMlpTrainer(data, 16, 10, 32, 0.1f, 5);
        float[] base = t.initialParameters(2);
        double plain = norm(t.fit(base, new RoundConfig(3, 0, 0, 0)).delta());
        double some = norm(t.fit(base, new RoundConfig(3, 0, 0, 1)).delta());
        double large =
                norm(t.fit(base, new RoundConfig(3, 0, 0, 10)).delta()); // η·μ = 1: each step restarts from the base
        assertTrue(some < plain && large < 0.3 * plain, plain + " > " + some + " > " + large);
    }

    @Test
    void djlTrainerFollowsTheRoundsLearningRateBatchSizeAndProximalTerm() {
        LocalDataset data = Mnist2500.load().range(0, 256);
        try (DjlTrainer t = DjlTrainer.builder()
                .block(DjlTrainer.mlp(784, 10, 16))
                .dataset(data)
                .learningRate(0.1f)
                .batchSize(32)
                .build()) {
            float[] base = t.initialParameters(11);
            // batch = the whole set: one full-batch step, so the delta is −η·∇L(base), linear in η
            float[] lr1 = t.fit(base, new RoundConfig(1, 0.1, 256, 0)).delta();
            float[] lr2 = t.fit(base, new RoundConfig(1, 0.2, 256, 0)).delta();
            assertTrue(
                    relDiff(lr2, scaled(lr1, 2)) < 1e-4,
                    "one full-batch step at 0.2 is twice the step at 0.1: " + relDiff(lr2, scaled(lr1, 2)));
            float[] own = t.fit(base, new RoundConfig(1, 0.2, 0, 0)).delta(); // the trainer's batch 32: 8 steps
            assertTrue(relDiff(own, scaled(lr1, 2)) > 1e-2, "the round's batch size was not applied");
            // FedProx: two full-batch steps; step 1 is the same, step 2 adds −η·μ·(w1 − w0) = −η·μ·step1
            float mu = 3f;
            float[] plain2 = t.fit(base, new RoundConfig(2, 0.1, 256, 0)).delta();
            float[] prox2 = t.fit(base, new RoundConfig(2, 0.1, 256, mu)).delta();
            float[] expected = plain2.clone();
            for (int i = 0; i < expected.length; i++) {
                expected[i] -= 0.1f * mu * lr1[i];
            }
            assertTrue(relDiff(prox2, expected) < 1e-4, "proximal gradient: " + relDiff(prox2, expected));
            // a large μ keeps the trained weights near the base over many minibatch steps
            double far = norm(t.fit(base, new RoundConfig(3, 0.1, 32, 0)).delta());
            double near = norm(t.fit(base, new RoundConfig(3, 0.1, 32, 10)).delta());
            assertTrue(near < 0.3 * far, far + " vs " + near);
        }
    }

    /** A trainer that records what the client asks of it. */
    static final class Recording implements LocalTrainer {
        RoundConfig seen;

        @Override
        public int parameterCount() {
            return 100;
        }

        @Override
        public long sampleCount() {
            return 10;
        }

        @Override
        public LocalUpdate fit(float[] baseParameters, int epochs) {
            throw new AssertionError("the client must call fit(base, RoundConfig)");
        }

        @Override
        public LocalUpdate fit(float[] baseParameters, RoundConfig config) {
            seen = config;
            return new LocalUpdate(new float[100], 10, Map.of());
        }
    }

    /** A trainer written before round configuration: only fit(base, epochs). */
    static final class Legacy implements LocalTrainer {
        int epochs;

        @Override
        public int parameterCount() {
            return 100;
        }

        @Override
        public long sampleCount() {
            return 10;
        }

        @Override
        public LocalUpdate fit(float[] baseParameters, int epochs) {
            this.epochs = epochs;
            return new LocalUpdate(new float[100], 10, Map.of());
        }
    }

    @Test
    void clientPassesTheRoundConfigAndSkipsRoundsThatDidNotSampleIt() throws Exception {
        long now = 1_000_000L;
        try (HeContext he = HeContext.create(HeParameters.CKKS_8192);
                HeKeyPair keys = he.generateKeys();
                SealUpdateEncryptor enc = SealUpdateEncryptor.of(he, keys.publicKey())) {
            BaseModel base = BaseModel.initial("m1", new float[100], 0);
            ChunkLayout layout = Chunker.layout(100, 8192, 1);
            RoundOpened round = RoundOpened.newBuilder(TestRecords.round(
                            "m1",
                            2,
                            base.versionHash(),
                            HeParameters.CKKS_8192.id(),
                            enc.publicKeyHash(),
                            layout,
                            now + 60_000))
                    .setLocalEpochs(3)
                    .setLearningRate(0.05)
                    .setBatchSize(16)
                    .setProximalMu(0.01)
                    .build();
            MockProducer<byte[], byte[]> producer =
                    new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
            Recording trainer = new Recording();
            Legacy legacy = new Legacy();
            InMemoryModelSource source = new InMemoryModelSource().putModel(base);
            Clock clock = Clock.fixed(Instant.ofEpochMilli(now), ZoneOffset.UTC);
            SigningKeyPair signing = SigningKeyPair.generate();
            try (FederatedClient alice = FederatedClient.builder(Map.of(ClientConfig.CLIENT_ID, "alice"))
                            .trainer(trainer)
                            .encryptor(enc)
                            .modelSource(source)
                            .signingKey(signing.privateKey())
                            .producer(producer)
                            .clock(clock)
                            .build();
                    FederatedClient old = FederatedClient.builder(Map.of(ClientConfig.CLIENT_ID, "alice"))
                            .trainer(legacy)
                            .encryptor(enc)
                            .modelSource(source)
                            .signingKey(signing.privateKey())
                            .producer(producer)
                            .clock(clock)
                            .build()) {
                alice.trainOnce(round, base);
                assertEquals(new RoundConfig(3, 0.05, 16, 0.01), trainer.seen);
                old.trainOnce(round, base);
                assertEquals(
                        3, legacy.epochs, "a trainer without fit(base, RoundConfig) still gets the round's epochs");

                trainer.seen = null;
                RoundOpened others = RoundOpened.newBuilder(round)
                        .setSamplingFraction(0.5)
                        .setSampledClients(List.of("bob", "carol"))
                        .build();
                SubmissionException e = assertThrows(SubmissionException.class, () -> alice.participate(others));
                assertEquals(SubmissionException.Reason.NOT_SAMPLED, e.reason());
                assertTrue(e.getMessage().contains("alice"), e.getMessage());
                assertThrows(SubmissionException.class, () -> alice.trainOnce(others, base));
                assertNull(trainer.seen, "an unsampled client does not train");
                assertTrue(producer.history().isEmpty(), "an unsampled client sends nothing");

                RoundOpened mine = RoundOpened.newBuilder(others)
                        .setSampledClients(List.of("alice", "bob"))
                        .build();
                assertNotNull(alice.participate(mine));
                assertEquals(2, producer.history().size(), "one chunk and the commit");

                RoundOpened bad =
                        RoundOpened.newBuilder(round).setLearningRate(-1).build();
                assertEquals(
                        SubmissionException.Reason.BAD_ROUND_CONFIG,
                        assertThrows(SubmissionException.class, () -> alice.trainOnce(bad, base))
                                .reason());
            }
        }
    }

    /** Listener mode: a round that did not sample this client is skipped (no callback, no records), the next one taken. */
    @Test
    void listenerSkipsRoundsThatDidNotSampleIt() throws Exception {
        try (HeContext he = HeContext.create(HeParameters.CKKS_8192);
                HeKeyPair keys = he.generateKeys();
                SealUpdateEncryptor enc = SealUpdateEncryptor.of(he, keys.publicKey())) {
            BaseModel base = BaseModel.initial("m1", new float[100], 0);
            RoundOpened open = TestRecords.round(
                    "m1",
                    1,
                    base.versionHash(),
                    HeParameters.CKKS_8192.id(),
                    enc.publicKeyHash(),
                    Chunker.layout(100, 8192, 1),
                    System.currentTimeMillis() + 60_000);
            RoundOpened notMe = RoundOpened.newBuilder(open)
                    .setSamplingFraction(0.5)
                    .setSampledClients(List.of("bob"))
                    .build();
            RoundOpened me = RoundOpened.newBuilder(open)
                    .setRound(2)
                    .setSamplingFraction(0.5)
                    .setSampledClients(List.of("alice"))
                    .build();
            org.apache.kafka.common.TopicPartition tp =
                    new org.apache.kafka.common.TopicPartition(org.fedseal.protocol.Topics.ROUNDS, 0);
            org.apache.kafka.clients.consumer.MockConsumer<byte[], byte[]> consumer =
                    new org.apache.kafka.clients.consumer.MockConsumer<>("earliest");
            consumer.schedulePollTask(() -> {
                consumer.rebalance(List.of(tp));
                consumer.updateBeginningOffsets(Map.of(tp, 0L));
                consumer.addRecord(new org.apache.kafka.clients.consumer.ConsumerRecord<>(
                        tp.topic(), 0, 0, new byte[0], org.fedseal.protocol.WireCodec.DEFAULT.encode(notMe)));
                consumer.addRecord(new org.apache.kafka.clients.consumer.ConsumerRecord<>(
                        tp.topic(), 0, 1, new byte[0], org.fedseal.protocol.WireCodec.DEFAULT.encode(me)));
            });
            MockProducer<byte[], byte[]> producer =
                    new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
            Recording trainer = new Recording();
            java.util.List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            try (FederatedClient alice = FederatedClient.builder(Map.of(ClientConfig.CLIENT_ID, "alice"))
                    .trainer(trainer)
                    .encryptor(enc)
                    .modelSource(new InMemoryModelSource().putModel(base))
                    .signingKey(SigningKeyPair.generate().privateKey())
                    .producer(producer)
                    .consumerFactory(() -> consumer)
                    .build()) {
                alice.startListening(new RoundListener() {
                    @Override
                    public void onSubmitted(RoundOpened round, SubmissionReceipt receipt) {
                        events.add("submitted " + round.getRound());
                    }

                    @Override
                    public void onFailed(RoundOpened round, SubmissionException error) {
                        events.add("failed " + round.getRound() + " " + error.reason());
                    }
                });
                long end = System.nanoTime() + 30_000_000_000L;
                while (events.isEmpty() && System.nanoTime() < end) {
                    Thread.sleep(20);
                }
            }
            assertEquals(List.of("submitted 2"), events, "round 1 skipped silently, round 2 taken");
            assertEquals(2, producer.history().size(), "only round 2's chunk and commit");
        }
    }

    /** The HTTP participant (Android) checks the sample before it fetches anything: a source that is never called proves it. */
    @Test
    void httpParticipantSkipsRoundsThatDidNotSampleIt() throws Exception {
        ModelSource untouchable = new ModelSource() {
            @Override
            public BaseModel baseModel(String modelId, org.fedseal.protocol.Hash versionHash) {
                throw new AssertionError("an unsampled participant fetched the base model");
            }

            @Override
            public byte[] publicKey(String heParamsId, org.fedseal.protocol.Hash publicKeyHash) {
                throw new AssertionError("an unsampled participant fetched the public key");
            }
        };
        UpdateSigner signer = UpdateSigner.of(SigningKeyPair.generate().privateKey());
        HttpParticipant p = new HttpParticipant(
                "phone-9",
                new Legacy(),
                UpdatePolicy.roundDefaults(),
                untouchable,
                new HttpUpdateTransport(java.net.URI.create("http://127.0.0.1:9"), "phone-9", signer),
                signer);
        RoundOpened round = RoundOpened.newBuilder(TestRecords.round(
                        "m1",
                        2,
                        org.fedseal.protocol.Hash.sha256(new byte[1]),
                        HeParameters.CKKS_8192.id(),
                        org.fedseal.protocol.Hash.sha256(new byte[2]),
                        Chunker.layout(100, 8192, 1),
                        System.currentTimeMillis() + 60_000))
                .setSamplingFraction(0.5)
                .setSampledClients(List.of("phone-1"))
                .build();
        SubmissionException e = assertThrows(SubmissionException.class, () -> p.participate(round, null));
        assertEquals(SubmissionException.Reason.NOT_SAMPLED, e.reason());
    }

    static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    static float[] scaled(float[] v, float k) {
        float[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] *= k;
        }
        return out;
    }

    static double relDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d += (double) (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(d) / Math.max(1e-30, norm(b));
    }
}
