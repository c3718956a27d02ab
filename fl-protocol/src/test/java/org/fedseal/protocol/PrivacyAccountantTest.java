package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.fedseal.protocol.PrivacyAccountant.Conversion;
import org.fedseal.protocol.PrivacyAccountant.Epsilon;
import org.junit.jupiter.api.Test;

class PrivacyAccountantTest {
    /**
     * TensorFlow Privacy's own expected values for {@code compute_dp_sgd_privacy(n, batch_size,
     * noise_multiplier, epochs, delta)} (q = batch/n, ceil(epochs·n/batch) steps, its default
     * orders, the improved conversion), from
     * https://github.com/tensorflow/privacy/blob/master/tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py
     * ("Test0", "Test1", "Test2": ε and the optimal order).
     */
    @Test
    void reproducesTensorFlowPrivacysComputeDpSgdPrivacyValues() {
        check(60000, 150, 1.3, 15, 1e-5, 0.7242234026109595, 19.0);
        check(100000, 100, 1.0, 30, 1e-7, 1.4154988495444842, 13.0);
        check(100_000_000, 1024, 0.1, 10, 1e-7, 5907982.3113978775, 1.25); // a fractional order wins
    }

    private static void check(
            double n, double batch, double z, double epochs, double delta, double expectedEps, double expectedOrder) {
        long steps = (long) Math.ceil(epochs * n / batch);
        Epsilon e = PrivacyAccountant.create().compose(batch / n, z, steps).epsilon(delta);
        assertEquals(expectedEps, e.epsilon(), expectedEps * 0.01, "within 1 %");
        assertEquals(expectedEps, e.epsilon(), expectedEps * 1e-9, "in fact to 1e-9");
        assertEquals(expectedOrder, e.order());
    }

    /**
     * The published table of TensorFlow Privacy's MNIST tutorial (ε at δ = 1e-5, 60,000 examples,
     * batch 256, 60000 // 256 steps per epoch; computed in 2019 with the classic conversion and the
     * tutorial's orders 1.1, 1.2, …, 10.9, 12, …, 63):
     * https://github.com/tensorflow/privacy/blob/master/tutorials/README.md ("Select Parameters").
     */
    @Test
    void reproducesTheMnistTutorialTableWithTheClassicConversion() {
        double[] orders = new double[99 + 52];
        for (int x = 1; x < 100; x++) {
            orders[x - 1] = 1 + x / 10.0;
        }
        for (int a = 12; a < 64; a++) {
            orders[99 + a - 12] = a;
        }
        double q = 256 / 60000.0;
        double[][] table = {{1.12, 60, 2.92}, {0.6, 30, 9.74}, {1.2, 10, 1.20}};
        for (double[] row : table) {
            long steps = (long) row[1] * (60000 / 256);
            double eps = PrivacyAccountant.create(orders)
                    .compose(q, row[0], steps)
                    .epsilon(1e-5, Conversion.CLASSIC)
                    .epsilon();
            assertEquals(row[2], eps, row[2] * 0.01, "z=" + row[0] + ", " + row[1] + " epochs");
        }
    }

    @Test
    void fullParticipationIsThePlainGaussianMechanism() {
        // q = 1: RDP alpha/(2 z^2) exactly, and composition adds
        assertEquals(3 / (2 * 1.5 * 1.5), PrivacyAccountant.rdp(1, 1.5, 3), 1e-15);
        PrivacyAccountant one = PrivacyAccountant.create(2, 4, 8).compose(1, 2, 5);
        assertEquals(5 * 8 / 8.0, one.rdp()[2], 1e-12);
        // the integer-order binomial sum agrees with the fractional series near an integer
        assertEquals(PrivacyAccountant.rdp(0.01, 1.1, 3), PrivacyAccountant.rdp(0.01, 1.1, 3 + 1e-9), 1e-6);
    }

    @Test
    void roundsOfDifferentNoiseComposeByAddingTheirCurves() {
        PrivacyAccountant a = PrivacyAccountant.create().compose(1, 1.0, 3).compose(0.1, 2.0, 4);
        PrivacyAccountant b = PrivacyAccountant.create().compose(0.1, 2.0, 4).compose(1, 1.0, 3);
        assertEquals(a.epsilon(1e-5).epsilon(), b.epsilon(1e-5).epsilon(), 1e-12);
        double one = PrivacyAccountant.create().compose(1, 1.0, 1).epsilon(1e-5).epsilon();
        double two = PrivacyAccountant.create().compose(1, 1.0, 2).epsilon(1e-5).epsilon();
        assertTrue(two > one && two < 2 * one, "composition costs more than one round, less than twice (RDP)");
        assertEquals(0, PrivacyAccountant.create().epsilon(1e-5).epsilon(), "nothing spent");
        assertEquals(
                Double.POSITIVE_INFINITY,
                PrivacyAccountant.create().compose(1, 0, 1).epsilon(1e-5).epsilon(),
                "no noise");
    }

    @Test
    void aFedsealRoundIsChargedAtSamplingRateOneAndUnnoisedReleasesAreUnbounded() {
        org.fedseal.protocol.wire.RoundOpened r = Fixtures.round("m", 1);
        r.setNoiseMultiplier(1.5);
        r.setSamplingFraction(0.1); // public sample: no amplification
        assertEquals(
                PrivacyAccountant.create().compose(1, 1.5, 1).epsilon(1e-5).epsilon(),
                PrivacyAccountant.create().charge(r).epsilon(1e-5).epsilon(),
                1e-12);
        r.setNoiseMultiplier(0.0);
        assertEquals(
                Double.POSITIVE_INFINITY,
                PrivacyAccountant.create().charge(r).epsilon(1e-5).epsilon());
        r.setNoiseMultiplier(1.5);
        r.setTask(org.fedseal.protocol.wire.RoundTask.EVALUATE);
        assertEquals(
                Double.POSITIVE_INFINITY,
                PrivacyAccountant.create().charge(r).epsilon(1e-5).epsilon());
    }

    @Test
    void logErfcMatchesKnownValuesAndDoesNotUnderflow() {
        assertEquals(Math.log(0.4795001221869535), PrivacyAccountant.logErfc(0.5), 1e-13);
        assertEquals(Math.log(0.004677734981047266), PrivacyAccountant.logErfc(2.0), 1e-12);
        assertEquals(Math.log(2.088487583762545e-45), PrivacyAccountant.logErfc(10.0), 1e-12);
        assertEquals(Math.log(1.8427007929497148), PrivacyAccountant.logErfc(-1.0), 1e-13);
        assertTrue(Double.isFinite(PrivacyAccountant.logErfc(40.0)));
    }

    @Test
    void refusesBadArguments() {
        assertThrows(
                IllegalArgumentException.class, () -> PrivacyAccountant.create().compose(1.5, 1, 1));
        assertThrows(
                IllegalArgumentException.class, () -> PrivacyAccountant.create().compose(0.5, -1, 1));
        assertThrows(
                IllegalArgumentException.class, () -> PrivacyAccountant.create().compose(0.5, 1, -1));
        assertThrows(
                IllegalArgumentException.class, () -> PrivacyAccountant.create().epsilon(0));
        assertThrows(IllegalArgumentException.class, () -> PrivacyAccountant.create(1.0));
    }
}
