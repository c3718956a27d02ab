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
        return b.applyTo(RoundOpened.newBuilder()).setModelId("m").setRound(1).setBaseModelHash(java.nio.ByteBuffer.allocate(32))
                .setHeParamsId("ckks-8192-v1").setPublicKeyHash(java.nio.ByteBuffer.allocate(32)).setQuorum(1)
                .setDeadlineEpochMillis(1).setChunkLayout(ChunkLayout.newBuilder().setTotalValues(1).setValuesPerCiphertext(8192)
                        .setCiphertextCount(1).setCiphertextsPerChunk(1).setChunkCount(1).build())
                .setOpenedAtEpochMillis(0).build();
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
        float[] v = p.prepare(new float[] {0.5f, -0.25f}, 40, round(new RoundBounds(200, 1000, 1000, 1e6)), new Random(0));
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
        SubmissionException s = assertThrows(SubmissionException.class, () -> ok.prepare(new float[] {1}, 1001, r, new Random()));
        assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, s.reason());
        s = assertThrows(SubmissionException.class, () -> ok.prepare(new float[] {1}, 0, r, new Random()));
        assertEquals(SubmissionException.Reason.INVALID_UPDATE, s.reason());
        s = assertThrows(SubmissionException.class, () -> ok.prepare(new float[] {Float.NaN}, 1, r, new Random()));
        assertEquals(SubmissionException.Reason.INVALID_UPDATE, s.reason());
        assertTrue(s.getMessage().contains("[0]"), s.getMessage());
        // σ = 0.1 fits (1 + 0.6 = 1.6), σ = 0.2 does not
        assertEquals(1, assertDoesNotThrowPrepare(new UpdatePolicy(Double.POSITIVE_INFINITY, 0.1), r).length);
        s = assertThrows(SubmissionException.class, () -> new UpdatePolicy(Double.POSITIVE_INFINITY, 0.2)
                .prepare(new float[] {1}, 1, r, new Random()));
        assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, s.reason());
        assertThrows(IllegalArgumentException.class, () -> new UpdatePolicy(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new UpdatePolicy(1, Double.NaN));
    }

    private static float[] assertDoesNotThrowPrepare(UpdatePolicy p, RoundOpened r) {
        try {
            return p.prepare(new float[] {0.5f}, 1, r, new Random(1));
        } catch (SubmissionException e) {
            throw new AssertionError(e);
        }
    }
}
