package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Submission logic against Kafka's MockProducer and a pure-Java fake trainer. */
class FederatedClientTest {
    static final int PARAMS = 20_000; // 3 ciphertexts at N=8192
    static final long NOW = 1_000_000L;
    static HeContext he;
    static HeKeyPair keys;
    static SealUpdateEncryptor encryptor;
    static SigningKeyPair signing = SigningKeyPair.generate();

    MockProducer<byte[], byte[]> producer;
    BaseModel base;
    ChunkLayout layout;

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

    @BeforeEach
    void setUp() {
        producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        float[] p = new float[PARAMS];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) Math.sin(i);
        }
        base = BaseModel.initial("m1", p, 0);
        // 1 ciphertext per chunk: 3 chunks
        layout = org.fedseal.protocol.Chunker.layout(PARAMS, 8192, 1);
    }

    /** A pure-Java trainer: delta[i] = 0.001 * (i % 7 - 3). */
    static final class FakeTrainer implements LocalTrainer {
        @Override
        public int parameterCount() {
            return PARAMS;
        }

        @Override
        public long sampleCount() {
            return 50;
        }

        @Override
        public LocalUpdate fit(float[] baseParameters, int epochs) {
            float[] d = new float[PARAMS];
            for (int i = 0; i < d.length; i++) {
                d[i] = 0.001f * (i % 7 - 3);
            }
            return new LocalUpdate(d, 50, Map.of(LocalUpdate.METRIC_LOSS, 1.0));
        }
    }

    Map<String, Object> config() {
        Map<String, Object> c = new HashMap<>();
        c.put(ClientConfig.CLIENT_ID, "alice");
        c.put(ClientConfig.CLIP_L2_BOUND, 5.0);
        return c;
    }

    FederatedClient client(Map<String, Object> config, ModelSource source, UpdateEncryptor enc) {
        return FederatedClient.builder(config)
                .trainer(new FakeTrainer())
                .encryptor(enc)
                .modelSource(source)
                .signingKey(signing.privateKey())
                .producer(producer)
                .clock(Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC))
                .build();
    }

    RoundOpened round(Hash baseHash, String params, Hash pk, long deadline) {
        return TestRecords.round("m1", 3, baseHash, params, pk, layout, deadline);
    }

    RoundOpened goodRound() {
        return round(base.versionHash(), HeParameters.CKKS_8192.id(), encryptor.publicKeyHash(), NOW + 60_000);
    }

    @Test
    void submitsChunksThenSignedCommitWithIdempotentKey() throws Exception {
        try (FederatedClient client = client(config(), null, encryptor)) {
            RoundOpened round = goodRound();
            LocalUpdate u = client.trainOnce(round, base);
            SubmissionReceipt receipt = client.submit(round, u);
            List<ProducerRecord<byte[], byte[]>> sent = producer.history();
            assertEquals(4, sent.size());
            assertEquals(3, receipt.chunkCount());
            for (ProducerRecord<byte[], byte[]> r : sent) {
                assertEquals("fedseal.updates", r.topic());
                assertArrayEquals(new UpdateKey("m1", 3, "alice").toBytes(), r.key());
                assertTrue(r.value().length < 1 << 20);
            }
            UpdateCommit commit = (UpdateCommit) WireCodec.DEFAULT
                    .decode(sent.get(3).value(), UpdateEnvelope.class)
                    .getPayload();
            assertTrue(Signatures.verify(commit, signing.publicKey()), "commit signature");
            assertEquals(50, commit.getWeight());
            assertEquals(NOW, commit.getCreatedAtEpochMillis());
            assertTrue(base.versionHash().matches(commit.getBaseModelHash()));
            assertEquals(receipt.commitHash(), CanonicalHash.of(commit));
            // chunk hashes bind the chunks; the weighted delta decrypts back
            double[] decrypted = new double[PARAMS];
            int at = 0;
            for (int i = 0; i < 3; i++) {
                UpdateChunk chunk = (UpdateChunk) WireCodec.DEFAULT
                        .decode(sent.get(i).value(), UpdateEnvelope.class)
                        .getPayload();
                assertEquals(i, chunk.getChunkIndex());
                assertTrue(
                        CanonicalHash.of(chunk).matches(commit.getChunkHashes().get(i)));
                byte[] ct = new byte[chunk.getCiphertexts().get(0).remaining()];
                chunk.getCiphertexts().get(0).duplicate().get(ct);
                try (EncryptedVector v = he.loadVector(ct);
                        var dec = he.decryptor(keys.secretKey())) {
                    double[] part = dec.decrypt(v);
                    System.arraycopy(part, 0, decrypted, at, part.length);
                    at += part.length;
                }
            }
            assertEquals(PARAMS, at);
            for (int i = 0; i < PARAMS; i++) {
                assertEquals(50 * u.delta()[i], decrypted[i], 1e-5);
            }
        }
    }

    @Test
    void closedRoundSendsNothing() throws Exception {
        try (FederatedClient client = client(config(), null, encryptor)) {
            RoundOpened open = goodRound();
            LocalUpdate u = client.trainOnce(open, base);
            RoundOpened closed =
                    round(base.versionHash(), HeParameters.CKKS_8192.id(), encryptor.publicKeyHash(), NOW - 1);
            SubmissionException e = assertThrows(SubmissionException.class, () -> client.submit(closed, u));
            assertEquals(SubmissionException.Reason.ROUND_CLOSED, e.reason());
            e = assertThrows(SubmissionException.class, () -> client.trainOnce(closed, base));
            assertEquals(SubmissionException.Reason.ROUND_CLOSED, e.reason());
            assertTrue(producer.history().isEmpty());
        }
    }

    @Test
    void wrongBaseModelSendsNothing() throws Exception {
        try (FederatedClient client = client(config(), null, encryptor)) {
            // round names another version
            RoundOpened other = round(
                    Hash.sha256(new byte[] {1}), HeParameters.CKKS_8192.id(), encryptor.publicKeyHash(), NOW + 60_000);
            SubmissionException e = assertThrows(SubmissionException.class, () -> client.trainOnce(other, base));
            assertEquals(SubmissionException.Reason.WRONG_BASE_MODEL, e.reason());
            // an update trained on the right base, submitted to a round with another base
            LocalUpdate u = client.trainOnce(goodRound(), base);
            e = assertThrows(SubmissionException.class, () -> client.submit(other, u));
            assertEquals(SubmissionException.Reason.WRONG_BASE_MODEL, e.reason());
            // tampered parameters under the right version record
            float[] tampered = base.parameters().clone();
            tampered[0] += 1;
            BaseModel fake = new BaseModel(base.version(), tampered);
            e = assertThrows(SubmissionException.class, () -> client.trainOnce(goodRound(), fake));
            assertEquals(SubmissionException.Reason.WRONG_BASE_MODEL, e.reason());
            // a served model that is not the one asked for (participate through a lying source)
            InMemoryModelSource liar = new InMemoryModelSource().putModel(Hash.sha256(new byte[] {1}), base);
            try (FederatedClient c2 = client(config(), liar, encryptor)) {
                e = assertThrows(SubmissionException.class, () -> c2.participate(other));
                assertEquals(SubmissionException.Reason.WRONG_BASE_MODEL, e.reason());
            }
            // an unbound update
            LocalUpdate unbound = new LocalUpdate(u.delta(), 50, Map.of());
            e = assertThrows(SubmissionException.class, () -> client.submit(goodRound(), unbound));
            assertEquals(SubmissionException.Reason.INVALID_UPDATE, e.reason());
            assertTrue(producer.history().isEmpty());
        }
    }

    @Test
    void wrongPublicKeyHashOrParamsSendsNothing() throws Exception {
        try (FederatedClient client = client(config(), null, encryptor)) {
            LocalUpdate u = client.trainOnce(goodRound(), base);
            RoundOpened wrongKey =
                    round(base.versionHash(), HeParameters.CKKS_8192.id(), Hash.sha256(new byte[] {2}), NOW + 60_000);
            SubmissionException e = assertThrows(SubmissionException.class, () -> client.submit(wrongKey, u));
            assertEquals(SubmissionException.Reason.WRONG_PUBLIC_KEY, e.reason());
            RoundOpened wrongParams =
                    round(base.versionHash(), HeParameters.CKKS_16384.id(), encryptor.publicKeyHash(), NOW + 60_000);
            e = assertThrows(SubmissionException.class, () -> client.submit(wrongParams, u));
            assertEquals(SubmissionException.Reason.WRONG_HE_PARAMS, e.reason());
            assertTrue(producer.history().isEmpty());
        }
    }

    @Test
    void keysFromModelSourceAreChecked() throws Exception {
        try (HeContext big = HeContext.create(HeParameters.CKKS_16384);
                HeKeyPair bigKeys = big.generateKeys()) {
            byte[] goodKey = keys.publicKey().toBytes();
            byte[] bigKey = bigKeys.publicKey().toBytes();
            InMemoryModelSource source = new InMemoryModelSource()
                    .putModel(base)
                    .putPublicKey(goodKey)
                    .putPublicKey(bigKey)
                    .putPublicKey(Hash.sha256(new byte[] {3}), goodKey); // served under a hash it does not have
            try (FederatedClient client = client(config(), source, null)) {
                // happy path through the source
                SubmissionReceipt r = client.participate(goodRound());
                assertEquals(3, r.chunkCount());
                int sent = producer.history().size();
                // a 16384 key where the round says 8192
                RoundOpened wrongParams =
                        round(base.versionHash(), HeParameters.CKKS_8192.id(), Hash.sha256(bigKey), NOW + 60_000);
                SubmissionException e = assertThrows(SubmissionException.class, () -> client.participate(wrongParams));
                assertEquals(SubmissionException.Reason.WRONG_HE_PARAMS, e.reason());
                assertTrue(e.getMessage().contains("ckks-16384"), e.getMessage());
                // a key that does not hash to what the round names
                RoundOpened lying = round(
                        base.versionHash(), HeParameters.CKKS_8192.id(), Hash.sha256(new byte[] {3}), NOW + 60_000);
                e = assertThrows(SubmissionException.class, () -> client.participate(lying));
                assertEquals(SubmissionException.Reason.WRONG_PUBLIC_KEY, e.reason());
                // an unknown parameter id
                RoundOpened unknown = round(base.versionHash(), "ckks-1-v9", Hash.sha256(goodKey), NOW + 60_000);
                e = assertThrows(SubmissionException.class, () -> client.participate(unknown));
                assertEquals(SubmissionException.Reason.WRONG_HE_PARAMS, e.reason());
                assertEquals(sent, producer.history().size());
            }
        }
    }

    @Test
    void badLayoutSendsNothing() throws Exception {
        try (FederatedClient client = client(config(), null, encryptor)) {
            LocalUpdate u = client.trainOnce(goodRound(), base);
            RoundOpened r = TestRecords.round(
                    "m1",
                    3,
                    base.versionHash(),
                    HeParameters.CKKS_8192.id(),
                    encryptor.publicKeyHash(),
                    org.fedseal.protocol.Chunker.layout(PARAMS + 1, 8192, 1),
                    NOW + 60_000);
            SubmissionException e = assertThrows(SubmissionException.class, () -> client.submit(r, u));
            assertEquals(SubmissionException.Reason.BAD_CHUNK_LAYOUT, e.reason());
            // 10 ciphertexts per chunk would exceed 1 MiB, but this model only has 3: use a tiny record limit instead
            Map<String, Object> c = config();
            c.put(ClientConfig.MAX_RECORD_BYTES, 100_000);
            try (FederatedClient small = client(c, null, encryptor)) {
                e = assertThrows(SubmissionException.class, () -> small.submit(goodRound(), u));
                assertEquals(SubmissionException.Reason.BAD_CHUNK_LAYOUT, e.reason());
            }
            assertTrue(producer.history().isEmpty());
        }
    }

    @Test
    void configIsValidatedWithTheKeyNamed() {
        Map<String, Object> c = config();
        c.put("clip.l2.bund", 1.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client(c, null, encryptor));
        assertTrue(e.getMessage().contains("clip.l2.bund"), e.getMessage());

        Map<String, Object> c2 = config();
        c2.put(ClientConfig.NOISE_MULTIPLIER, "lots");
        e = assertThrows(IllegalArgumentException.class, () -> client(c2, null, encryptor));
        assertTrue(e.getMessage().contains(ClientConfig.NOISE_MULTIPLIER), e.getMessage());

        Map<String, Object> c3 = config();
        c3.put(ClientConfig.CLIP_L2_BOUND, -10.0);
        e = assertThrows(IllegalArgumentException.class, () -> client(c3, null, encryptor));
        assertTrue(e.getMessage().contains(ClientConfig.CLIP_L2_BOUND), e.getMessage());

        Map<String, Object> c4 = config();
        c4.remove(ClientConfig.CLIENT_ID);
        e = assertThrows(IllegalArgumentException.class, () -> client(c4, null, encryptor));
        assertTrue(e.getMessage().contains(ClientConfig.CLIENT_ID), e.getMessage());

        Map<String, Object> c5 = config();
        e = assertThrows(
                IllegalArgumentException.class,
                () -> FederatedClient.builder(c5)
                        .encryptor(encryptor)
                        .signingKey(signing.privateKey())
                        .build());
        assertTrue(e.getMessage().contains(ClientConfig.BOOTSTRAP_SERVERS), e.getMessage());

        Map<String, Object> c6 = config();
        e = assertThrows(
                IllegalArgumentException.class,
                () -> FederatedClient.builder(c6)
                        .encryptor(encryptor)
                        .producer(producer)
                        .build());
        assertTrue(e.getMessage().contains(ClientConfig.SIGNING_KEY_FILE), e.getMessage());
    }

    @Test
    void permanentKafkaFailureIsTyped() throws Exception {
        MockProducer<byte[], byte[]> failing =
                new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer());
        failing.sendException = new org.apache.kafka.common.errors.AuthorizationException("denied");
        try (FederatedClient client = FederatedClient.builder(config())
                .trainer(new FakeTrainer())
                .encryptor(encryptor)
                .signingKey(signing.privateKey())
                .producer(failing)
                .clock(Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC))
                .build()) {
            LocalUpdate u = client.trainOnce(goodRound(), base);
            SubmissionException e = assertThrows(SubmissionException.class, () -> client.submit(goodRound(), u));
            assertEquals(SubmissionException.Reason.TRANSPORT_FAILED, e.reason());
        }
    }
}
