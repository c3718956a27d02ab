package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The pure-Java trainer learns real MNIST digits (Mnist2500) and is deterministic. */
class JavaMlpTrainerTest {
    private static final LocalDataset ALL = Mnist2500.load();
    private static final LocalDataset TRAIN = ALL.range(0, 2000);
    private static final LocalDataset TEST = ALL.range(2000, 2500);

    private static float[] apply(float[] base, float[] delta) {
        float[] p = base.clone();
        for (int i = 0; i < p.length; i++) {
            p[i] += delta[i];
        }
        return p;
    }

    @Test
    void softmaxRegressionLearnsMnist() {
        JavaMlpTrainer t = JavaMlpTrainer.softmax(TRAIN, 10, 7);
        assertEquals(784 * 10 + 10, t.parameterCount());
        float[] base = t.initialParameters(1);
        double before = t.accuracy(base, TEST);
        LocalUpdate u = t.fit(base, 3);
        double after = t.accuracy(apply(base, u.delta()), TEST);
        assertEquals(2000, u.weight());
        assertTrue(before < 0.2, "untrained accuracy " + before);
        assertTrue(after > 0.8, "held-out accuracy after 3 epochs " + after);
        assertTrue(
                u.metrics().get(LocalUpdate.METRIC_ACCURACY) > 0.75, u.metrics().toString());
    }

    @Test
    void hiddenLayerMlpLearnsMnistAndImprovesWithEpochs() {
        JavaMlpTrainer t = new JavaMlpTrainer(TRAIN, 32, 10, 32, 0.1f, 3);
        assertEquals(784 * 32 + 32 + 32 * 10 + 10, t.parameterCount());
        float[] base = t.initialParameters(5);
        double before = t.accuracy(base, TEST);
        double one = t.accuracy(apply(base, t.fit(base, 1).delta()), TEST);
        double four = t.accuracy(apply(base, t.fit(base, 4).delta()), TEST);
        assertTrue(before < 0.25, "untrained " + before);
        assertTrue(one > 0.7, "after 1 epoch " + one);
        assertTrue(four > 0.85 && four >= one - 0.02, "after 4 epochs " + four + " (1 epoch: " + one + ")");
    }

    @Test
    void deterministicGivenSeed() {
        LocalDataset small = ALL.range(0, 300);
        float[] base = new JavaMlpTrainer(small, 8, 10, 16, 0.05f, 1).initialParameters(9);
        float[] a = new JavaMlpTrainer(small, 8, 10, 16, 0.05f, 42).fit(base, 2).delta();
        float[] b = new JavaMlpTrainer(small, 8, 10, 16, 0.05f, 42).fit(base, 2).delta();
        float[] c = new JavaMlpTrainer(small, 8, 10, 16, 0.05f, 43).fit(base, 2).delta();
        assertArrayEquals(a, b);
        assertTrue(!java.util.Arrays.equals(a, c), "another seed shuffles differently");
        assertArrayEquals(base, new JavaMlpTrainer(small, 8, 10, 16, 0.05f, 1).initialParameters(9));
    }

    @Test
    void rejectsBadInput() {
        JavaMlpTrainer t = JavaMlpTrainer.softmax(ALL.range(0, 10), 10, 1);
        assertThrows(IllegalArgumentException.class, () -> t.fit(new float[5], 1));
        assertThrows(IllegalArgumentException.class, () -> t.fit(new float[t.parameterCount()], 0));
        assertThrows(IllegalArgumentException.class, () -> JavaMlpTrainer.softmax(ALL.range(0, 10), 3, 1));
    }
}
