package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Issue 14, case 3: no path that stores, publishes or starts from weights takes NaN or ±Inf. */
class ModelWeightsTest {
    @Test
    void nonFiniteValuesAreRefusedAtTheFirstBadIndex() {
        Random rnd = new Random(3);
        for (float bad : new float[] {
            Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7fc00001)
        }) {
            for (int trial = 0; trial < 20; trial++) {
                float[] w = new float[1 + rnd.nextInt(100)];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) rnd.nextGaussian();
                }
                int at = rnd.nextInt(w.length);
                w[at] = bad;
                if (at + 1 < w.length) {
                    w[w.length - 1] = bad; // a later one is not the one named
                }
                NonFiniteValueException e = assertThrows(
                        NonFiniteValueException.class, () -> ModelWeights.decodeFinite(ModelWeights.encode(w)));
                assertEquals(at, e.index());
                assertEquals(
                        at,
                        assertThrows(NonFiniteValueException.class, () -> ModelWeights.requireFinite(w, "w"))
                                .index());
            }
        }
        float[] ok = {0f, -0f, Float.MAX_VALUE, -Float.MIN_VALUE};
        assertArrayEquals(ok, ModelWeights.decodeFinite(ModelWeights.encode(ok)));
    }

    @Test
    void theUpdateRuleRefusesNonFiniteInputsAndResults() {
        float[] base = {1, 2, 3};
        assertEquals(
                1,
                assertThrows(
                                NonFiniteValueException.class,
                                () -> ModelWeights.applyMean(new float[] {1, Float.NaN, 3}, new double[3]))
                        .index());
        assertEquals(
                2,
                assertThrows(
                                NonFiniteValueException.class,
                                () -> ModelWeights.applyMean(base, new double[] {0, 0, Double.NaN}))
                        .index());
        // a finite double that overflows float32 (a wrapped or forged aggregate) is refused, not stored as Inf
        assertEquals(
                0,
                assertThrows(
                                NonFiniteValueException.class,
                                () -> ModelWeights.applyMean(base, new double[] {1e39, 0, 0}))
                        .index());
        assertArrayEquals(new float[] {1.5f, 2, 3}, ModelWeights.applyMean(base, new double[] {0.5, 0, 0}));
    }

    @Test
    void theMeanDividesByAPositiveTotalWeight() {
        assertArrayEquals(new double[] {1, 2}, ModelWeights.mean(new double[] {4, 8, 99}, 4, 2));
        assertThrows(IllegalArgumentException.class, () -> ModelWeights.mean(new double[] {1}, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> ModelWeights.mean(new double[] {1}, Long.MIN_VALUE, 1));
        assertThrows(IllegalArgumentException.class, () -> ModelWeights.mean(new double[] {1}, 1, 2));
    }
}
