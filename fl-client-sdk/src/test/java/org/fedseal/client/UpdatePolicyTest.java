package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class UpdatePolicyTest {
    @Test
    void clipScalesLargeDeltasToTheBoundAndKeepsDirection() {
        UpdatePolicy p = UpdatePolicy.of(1.0, 1000);
        float[] d = {3, 4};
        float[] c = p.clip(d);
        assertEquals(1.0, UpdatePolicy.l2Norm(c), 1e-6);
        assertTrue(UpdatePolicy.l2Norm(c) <= 1.0);
        assertEquals(0.6f, c[0], 1e-6);
        assertEquals(0.8f, c[1], 1e-6);
        assertArrayEquals(new float[] {3, 4}, d, "input untouched");
    }

    @Test
    void clipLeavesSmallDeltasAlone() {
        UpdatePolicy p = UpdatePolicy.of(10.0, 1000);
        float[] d = {0.1f, -0.2f, 0.3f};
        assertArrayEquals(d, p.clip(d));
    }

    @Test
    void clipNeverExceedsBoundOnRandomVectors() {
        Random r = new Random(1);
        UpdatePolicy p = UpdatePolicy.of(0.37, 1000);
        for (int t = 0; t < 50; t++) {
            float[] d = new float[1 + r.nextInt(5000)];
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) (r.nextGaussian() * 3);
            }
            assertTrue(UpdatePolicy.l2Norm(p.clip(d)) <= 0.37);
        }
    }

    @Test
    void prepareMultipliesByWeight() throws Exception {
        UpdatePolicy p = UpdatePolicy.of(100.0, 1000);
        float[] v = p.prepare(new float[] {0.5f, -0.25f}, 40, new Random(0));
        assertArrayEquals(new float[] {20f, -10f}, v);
    }

    @Test
    void noiseHasStdSigmaTimesClip() throws Exception {
        UpdatePolicy p = new UpdatePolicy(2.0, 0.5, 1000);
        float[] v = p.privatize(new float[20000], new Random(3));
        double s = 0;
        for (float x : v) {
            s += x * x;
        }
        assertEquals(1.0, Math.sqrt(s / v.length), 0.03); // std = 0.5 * 2.0
    }

    @Test
    void headroomIsCheckedAtConstructionAndPerClient() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UpdatePolicy.of(1.0, 600_000));
        assertTrue(e.getMessage().contains(ClientConfig.MAX_TOTAL_WEIGHT), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new UpdatePolicy(1.0, 1.0, 100_000)); // 7e5 > 2^19
        UpdatePolicy ok = UpdatePolicy.of(1.0, 1000);
        SubmissionException s = assertThrows(SubmissionException.class, () -> ok.prepare(new float[] {1}, 1001, new Random()));
        assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, s.reason());
        s = assertThrows(SubmissionException.class, () -> ok.prepare(new float[] {Float.NaN}, 1, new Random()));
        assertEquals(SubmissionException.Reason.INVALID_UPDATE, s.reason());
    }
}
