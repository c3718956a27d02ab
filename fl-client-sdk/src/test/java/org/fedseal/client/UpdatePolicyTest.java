package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;

class UpdatePolicyTest {
    static RoundOpened round(RoundBounds b) {
        return b.applyTo(RoundOpened.newBuilder())
                .setModelId("m")
                .setRound(1)
                .setBaseModelHash(java.nio.ByteBuffer.allocate(32))
                .setHeParamsId("ckks-8192-v1")
                .setPublicKeyHash(java.nio.ByteBuffer.allocate(32))
                .setQuorum(1)
                .setDeadlineEpochMillis(1)
                .setChunkLayout(ChunkLayout.newBuilder()
                        .setTotalValues(1)
                        .setValuesPerCiphertext(8192)
                        .setCiphertextCount(1)
                        .setCiphertextsPerChunk(1)
                        .setChunkCount(1)
                        .build())
                .setOpenedAtEpochMillis(0)
                .build();
    }

    @Test
    void clipScalesLargeDeltasToTheBoundAndKeepsDirection() {
        float[] d = {3, 4};
        float[] c = UpdatePolicy.clip(d, 1.0);
        assertEquals(1.0, UpdatePolicy.l2Norm(c), 1e-6);
        assertTrue(UpdatePolicy.l2Norm(c) <= 1.0);
        assertEquals(0.6f, c[0], 1e-6);
        assertEquals(0.8f, c[1], 1e-6);
        assertArrayEquals(new float[] {3, 4}, d, "input untouched");
    }

    @Test
    void clipLeavesSmallDeltasAlone() {
        float[] d = {0.1f, -0.2f, 0.3f};
        assertArrayEquals(d, UpdatePolicy.clip(d, 10.0));
    }

    @Test
    void clipNeverExceedsBoundOnRandomVectors() {
        Random r = new Random(1);
        for (int t = 0; t < 50; t++) {
            float[] d = new float[1 + r.nextInt(5000)];
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) (r.nextGaussian() * 3);
            }
            assertTrue(UpdatePolicy.l2Norm(UpdatePolicy.clip(d, 0.37)) <= 0.37);
        }
    }

    @Test
    void prepareMultipliesByWeight() throws Exception {
        UpdatePolicy p = UpdatePolicy.of(100.0);
        float[] v =
                p.prepare(new float[] {0.5f, -0.25f}, 40, round(new RoundBounds(200, 1000, 1000, 1e6)), new Random(0));
        assertArrayEquals(new float[] {20f, -10f}, v);
        // the smaller of the client's and the round's clip bound is in force
        float[] clipped = p.prepare(new float[] {3f, 4f}, 1, round(new RoundBounds(1, 1000, 1000, 1e6)), new Random(0));
        assertEquals(1.0, UpdatePolicy.l2Norm(clipped), 1e-6);
    }

    @Test
    void noiseHasStdSigmaTimesClip() throws Exception {
        UpdatePolicy p = new UpdatePolicy(2.0, 0.5);
        float[] v = p.privatize(new float[20000], 2.0, new Random(3));
        double s = 0;
        for (float x : v) {
            s += x * x;
        }
        assertEquals(1.0, Math.sqrt(s / v.length), 0.03); // std = 0.5 * 2.0
    }

    @Test
    void weightsAndNoiseAreCheckedAgainstTheRound() {
        RoundOpened r = round(new RoundBounds(1.0, 1000, 4000, 4000 * 1.6));
        UpdatePolicy ok = UpdatePolicy.roundDefaults();
        SubmissionException s =
                assertThrows(SubmissionException.class, () -> ok.prepare(new float[] {1}, 1001, r, new Random()));
        assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, s.reason());
        s = assertThrows(SubmissionException.class, () -> ok.prepare(new float[] {1}, 0, r, new Random()));
        assertEquals(SubmissionException.Reason.INVALID_UPDATE, s.reason());
        s = assertThrows(SubmissionException.class, () -> ok.prepare(new float[] {Float.NaN}, 1, r, new Random()));
        assertEquals(SubmissionException.Reason.INVALID_UPDATE, s.reason());
        assertTrue(s.getMessage().contains("[0]"), s.getMessage());
        // σ = 0.1 fits (1 + 0.6 = 1.6), σ = 0.2 does not
        assertEquals(1, assertDoesNotThrowPrepare(new UpdatePolicy(Double.POSITIVE_INFINITY, 0.1), r).length);
        s = assertThrows(
                SubmissionException.class,
                () -> new UpdatePolicy(Double.POSITIVE_INFINITY, 0.2).prepare(new float[] {1}, 1, r, new Random()));
        assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, s.reason());
        assertThrows(IllegalArgumentException.class, () -> new UpdatePolicy(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new UpdatePolicy(1, Double.NaN));
    }

    private static RoundOpened dpRound(RoundBounds b, double z, int quorum) {
        return RoundOpened.newBuilder(round(b))
                .setNoiseMultiplier(z)
                .setQuorum(quorum)
                .build();
    }

    @Test
    void quorumClientsTogetherAddTheRoundsNoiseAndDeclareWeightOne() throws Exception {
        double clip = 2.0;
        RoundOpened r = dpRound(new RoundBounds(clip, 1000, 4000, 1e6), 1.5, 4);
        UpdatePolicy p = UpdatePolicy.roundDefaults();
        assertEquals(1.5 / 2, p.clientNoiseMultiplier(r), 1e-12, "each of 4 adds z^2/4 of the variance");
        assertEquals(1, UpdatePolicy.weightFor(40, r), "fixed weight under DP");
        assertEquals(
                40, UpdatePolicy.weightFor(40, round(new RoundBounds(clip, 1000, 4000, 1e6))), "FedAvg weight without");
        int d = 20_000;
        double[] sum = new double[d];
        Random rnd = new Random(11);
        for (int c = 0; c < 4; c++) {
            float[] v = p.prepare(new float[d], 40, r, rnd); // weight 40 is declared as 1: the values are not scaled
            for (int i = 0; i < d; i++) {
                sum[i] += v[i];
            }
        }
        double sq = 0;
        for (double x : sum) {
            sq += x * x;
        }
        // the sum of the 4 shares has std z*C = 3.0 (sample std's relative error ~ 1/sqrt(2d) = 0.5 %)
        assertEquals(1.5 * clip, Math.sqrt(sq / d), 0.03 * 1.5 * clip);
    }

    @Test
    void localNoiseAddsToTheRoundsShare() {
        RoundOpened r = dpRound(new RoundBounds(1.0, 1000, 4000, 1e6), 2.0, 16);
        assertEquals(
                Math.sqrt(0.3 * 0.3 + 4.0 / 16),
                new UpdatePolicy(Double.POSITIVE_INFINITY, 0.3).clientNoiseMultiplier(r),
                1e-12);
        assertEquals(
                0.3,
                new UpdatePolicy(Double.POSITIVE_INFINITY, 0.3)
                        .clientNoiseMultiplier(round(new RoundBounds(1, 1, 1, 1))));
    }

    @Test
    void noisyValuesLieOnAPowerOfTwoGridAndTheSnappedDeltaStaysWithinTheClip() {
        int d = 1000;
        double c = 1.0;
        double gamma = UpdatePolicy.granularity(c, 0.5, d);
        assertEquals(Math.scalb(1.0, Math.getExponent(gamma)), gamma, "a power of two");
        assertTrue(gamma <= c / (512 * Math.sqrt(d)) && gamma > c / (1024 * Math.sqrt(d)), "gamma " + gamma);
        assertEquals(Math.scalb(1.0, -9), UpdatePolicy.granularity(1.0, 0.5, 1), "c/512 binds for one coordinate");
        assertEquals(
                Math.scalb(1.0, -11),
                UpdatePolicy.granularity(1.0, 0.01, 1),
                "s*c/16 = 0.000625 binds for little noise");
        float[] delta = new float[d];
        for (int i = 0; i < d; i++) {
            delta[i] = (float) Math.sin(i); // norm ~ 22, clipped to ~1
        }
        float[] v = UpdatePolicy.privatize(delta, c, 0.5, new Random(4));
        for (float x : v) {
            double k = x / gamma;
            assertEquals(Math.rint(k), k, 0.0, "multiple of gamma");
        }
        // the expected output is the snapped clipped delta: average many noisy copies and compare norms
        double[] mean = new double[d];
        int runs = 400;
        Random rnd = new Random(5);
        for (int r = 0; r < runs; r++) {
            float[] w = UpdatePolicy.privatize(delta, c, 0.5, rnd);
            for (int i = 0; i < d; i++) {
                mean[i] += w[i] / (double) runs;
            }
        }
        double sq = 0;
        for (double x : mean) {
            sq += x * x;
        }
        // E||mean||^2 = ||snapped||^2 + d * (0.5 c)^2 / runs; ||snapped|| <= c
        double snapped = Math.sqrt(Math.max(0, sq - d * 0.25 / runs));
        assertEquals(1.0, snapped, 0.05);
    }

    @Test
    void aRoundsNoiseMustFitTheHeadroom() {
        // C (1 + 6 s) maxTotalWeight <= sumNormBound: s = z/sqrt(quorum) = 0.5 needs 4 x 4000 = 16000
        RoundOpened tight = dpRound(new RoundBounds(1.0, 1000, 4000, 15_000), 1.0, 4);
        SubmissionException s = assertThrows(
                SubmissionException.class,
                () -> UpdatePolicy.roundDefaults().prepare(new float[] {0.5f}, 1, tight, new Random()));
        assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, s.reason());
        assertTrue(s.getMessage().contains("round 1.0 over quorum 4"), s.getMessage());
        RoundOpened bad = dpRound(new RoundBounds(1.0, 1000, 4000, 1e6), Double.NaN, 4);
        assertEquals(
                SubmissionException.Reason.HEADROOM_EXCEEDED,
                assertThrows(
                                SubmissionException.class,
                                () -> UpdatePolicy.roundDefaults().prepare(new float[] {0.5f}, 1, bad, new Random()))
                        .reason());
    }

    private static float[] assertDoesNotThrowPrepare(UpdatePolicy p, RoundOpened r) {
        try {
            return p.prepare(new float[] {0.5f}, 1, r, new Random(1));
        } catch (SubmissionException e) {
            throw new AssertionError(e);
        }
    }
}
