package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeDecryptor;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, case 1 on real SEAL: the threshold parameter set (scale 2^50), clip bound 10, 8,192
 * parameters, every client's delta 10/√8192 in every coordinate (L2 norm exactly 10).
 */
class HeadroomTest {
    static final HeParameters T50 = HeParameters.CKKS_8192_T50;
    static final int PARAMS = 8192;
    static final float DELTA = (float) (10 / Math.sqrt(PARAMS));
    static final long NOW = 1_000_000L;

    static HeContext he;
    static HeKeyPair keys;
    static SealUpdateEncryptor encryptor;
    static BaseModel base = BaseModel.initial("m", new float[PARAMS], 0);
    static ChunkLayout layout = Chunker.layout(PARAMS, PARAMS, 1);

    @BeforeAll
    static void keys() {
        he = HeContext.create(T50);
        keys = he.generateKeys();
        encryptor = SealUpdateEncryptor.of(he, keys.publicKey());
    }

    @AfterAll
    static void free() {
        encryptor.close();
        keys.close();
        he.close();
    }

    static RoundOpened round(RoundOpened.Builder bounds) {
        return bounds.setModelId("m")
                .setRound(1)
                .setBaseModelHash(base.versionHash().toByteBuffer())
                .setHeParamsId(T50.id())
                .setPublicKeyHash(encryptor.publicKeyHash().toByteBuffer())
                .setQuorum(2)
                .setDeadlineEpochMillis(NOW + 60_000)
                .setChunkLayout(layout)
                .setLocalEpochs(1)
                .setOpenedAtEpochMillis(0)
                .build();
    }

    static float[] constantDelta() {
        float[] d = new float[PARAMS];
        Arrays.fill(d, DELTA);
        return d;
    }

    /** The decrypted sum of the clients' prepared, encrypted updates. */
    static double[] encryptedSum(RoundOpened round, long... weights) throws SubmissionException {
        UpdatePolicy policy = UpdatePolicy.roundDefaults();
        List<EncryptedVector> cts = new ArrayList<>();
        try (HeDecryptor dec = he.decryptor(keys.secretKey())) {
            for (long w : weights) {
                float[] v = policy.prepare(constantDelta(), w, round, new Random(0));
                cts.add(he.loadVector(encryptor.encrypt(v, layout).get(0)));
            }
            for (int i = 1; i < cts.size(); i++) {
                cts.get(0).addInPlace(cts.get(i));
            }
            return dec.decrypt(cts.get(0));
        } catch (org.fedseal.he.MalformedHeDataException e) {
            throw new AssertionError(e);
        } finally {
            cts.forEach(EncryptedVector::close);
        }
    }

    @Test
    void theDemosOldSettingsCannotOpenARoundAndNoClientEncryptsForThem() {
        // clip 10 and max total weight 20,000 (the demo's client settings before): sums up to 200,000 > 32,767
        RoundOpened forged = round(RoundOpened.newBuilder()
                .setClipNorm(10)
                .setMaxUpdateWeight(1500)
                .setMaxTotalWeight(20_000)
                .setSumNormBound(T50.maxSumNorm()));
        SubmissionException e = assertThrows(
                SubmissionException.class,
                () -> UpdatePolicy.roundDefaults().prepare(constantDelta(), 1500, forged, new Random()));
        assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, e.reason());
        assertTrue(e.getMessage().contains("sumNormBound"), e.getMessage());
    }

    @Test
    void whatTheBoundsAdmitDecryptsExactly() throws Exception {
        // the four clients of weight 1,500 do not fit 3,276; two do, and their sum is exact (it wrapped to -361 at
        // four)
        RoundBounds bounds =
                new RoundBounds(10, 1500, RoundBounds.largestTotalWeight(T50.maxSumNorm(), 10), T50.maxSumNorm());
        RoundOpened round = round(bounds.applyTo(RoundOpened.newBuilder()));
        double[] sum = encryptedSum(round, 1500, 1500);
        double expected = 2 * 1500 * (double) DELTA;
        for (int i = 0; i < PARAMS; i++) {
            assertEquals(expected, sum[i], 1e-3, "value " + i);
        }
        assertTrue(
                bounds.addWeight(3000, 1500).isEmpty(),
                "a third client of 1,500 must be refused where the sum is formed");
    }

    @Test
    void aWeightAboveTheRoundsBoundIsATypedRefusalNotAnEncoderCrash() throws Exception {
        // 2 clients x weight 3,000 made participate() throw the unchecked HeOperationException
        RoundOpened round = round(
                RoundBounds.withDefaults(T50.maxSumNorm(), 10.0, null, null, 2).applyTo(RoundOpened.newBuilder()));
        MockProducer<byte[], byte[]> producer =
                new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        LocalTrainer heavy = new LocalTrainer() {
            @Override
            public int parameterCount() {
                return PARAMS;
            }

            @Override
            public long sampleCount() {
                return 3000;
            }

            @Override
            public LocalUpdate fit(float[] baseParameters, int epochs) {
                return new LocalUpdate(constantDelta(), 3000, Map.of());
            }
        };
        try (FederatedClient client = FederatedClient.builder(Map.of(ClientConfig.CLIENT_ID, "heavy"))
                .trainer(heavy)
                .encryptor(encryptor)
                .signingKey(SigningKeyPair.generate().privateKey())
                .producer(producer)
                .clock(Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC))
                .build()) {
            LocalUpdate u = client.trainOnce(round, base);
            SubmissionException e = assertThrows(SubmissionException.class, () -> client.submit(round, u));
            assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, e.reason());
            assertTrue(e.getMessage().contains("maxUpdateWeight"), e.getMessage());
        }
        assertTrue(producer.history().isEmpty(), "nothing sent");
    }

    @Test
    void noiseMustFitTheHeadroomToo() {
        RoundOpened full = round(RoundBounds.loosest(T50.maxSumNorm(), 10).applyTo(RoundOpened.newBuilder()));
        SubmissionException e = assertThrows(
                SubmissionException.class,
                () -> new UpdatePolicy(Double.POSITIVE_INFINITY, 0.5).prepare(constantDelta(), 10, full, new Random()));
        assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, e.reason());
    }
}
