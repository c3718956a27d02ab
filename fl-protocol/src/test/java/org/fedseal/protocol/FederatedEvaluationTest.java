package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FederatedEvaluationTest {
    /** Three clients' vectors weighted and summed as the pipeline does (float32 per client, double sum) decode to the example-weighted means. */
    @Test
    void weightedSumDecodesToExampleWeightedMeans() {
        long[] n = {200, 37, 513};
        long[] correct = {173, 11, 400};
        double[] lossSum = {61.25, 40.7, 170.0};
        double[] sum = new double[FederatedEvaluation.LENGTH + 3]; // unused ciphertext slots decrypt to ~0
        for (int k = 0; k < n.length; k++) {
            float[] v = FederatedEvaluation.encode(n[k], correct[k], lossSum[k]);
            for (int i = 0; i < v.length; i++) {
                sum[i] += (float) ((double) v[i] * n[k]);
            }
        }
        FederatedEvaluation.Metrics m = FederatedEvaluation.decode(sum, 750);
        assertEquals(750, m.examples());
        assertEquals(584.0 / 750, m.accuracy(), 1e-7);
        assertEquals(271.95 / 750, m.loss(), 1e-7);
    }

    @Test
    void modelsWithoutAccuracyDecodeToNullAccuracy() {
        float[] v = FederatedEvaluation.encode(10, null, 5.0);
        double[] sum = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            sum[i] = v[i] * 10.0;
        }
        FederatedEvaluation.Metrics m = FederatedEvaluation.decode(sum, 10);
        assertNull(m.accuracy());
        assertEquals(0.5, m.loss(), 1e-7);
    }

    @Test
    void clipNormCoversEveryVectorUpToTheLossBound() {
        double c = FederatedEvaluation.clipNormFor(10);
        assertTrue(
                FederatedEvaluation.norm(FederatedEvaluation.encode(7, 7L, 70.0)) <= c); // accuracy 1, loss exactly 10
        assertTrue(FederatedEvaluation.norm(FederatedEvaluation.encode(7, 7L, 70.1)) > c);
        assertEquals(10, Math.sqrt(c * c - 3), 1e-12);
    }

    @Test
    void aSumOfAnotherWeightIsRefused() {
        double[] sum = {100, 50, 20, 100};
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> FederatedEvaluation.decode(sum, 120));
        assertTrue(e.getMessage().contains("total weight 120"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> FederatedEvaluation.decode(new double[] {100, 150, 20, 100}, 100));
        assertThrows(IllegalArgumentException.class, () -> FederatedEvaluation.encode(5, 6L, 1));
        assertThrows(IllegalArgumentException.class, () -> FederatedEvaluation.encode(5, 1L, Double.NaN));
    }

    @Test
    void layoutIsOneCiphertext() {
        assertTrue(Chunker.isConsistent(FederatedEvaluation.layout(8192)));
        assertEquals(
                FederatedEvaluation.LENGTH, FederatedEvaluation.layout(8192).getTotalValues());
    }
}
