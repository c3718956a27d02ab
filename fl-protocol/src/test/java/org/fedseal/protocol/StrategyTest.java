package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.fedseal.protocol.wire.Hyperparameter;
import org.fedseal.protocol.wire.StrategySpec;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: every server strategy's step against a reference written here from the papers' update
 * equations (FedAvg: McMahan et al. 2017; FedAvgM: Hsu et al. 2019; FedAdagrad, FedAdam, FedYogi:
 * Reddi et al., ICLR 2021, Algorithm 2), two steps each so the carried state is checked too; the
 * state's canonical encoding; and spec parsing errors.
 */
class StrategyTest {
    private static final int N = 257;

    private static float[] parent(long seed) {
        Random r = new Random(seed);
        float[] w = new float[N];
        for (int i = 0; i < N; i++) {
            w[i] = (float) r.nextGaussian();
        }
        return w;
    }

    private static double[] delta(long seed) {
        Random r = new Random(seed);
        double[] d = new double[N];
        for (int i = 0; i < N; i++) {
            d[i] = 0.05 * r.nextGaussian();
        }
        d[3] = 0; // sign(v - 0) and a zero update
        return d;
    }

    /** Runs two steps of {@code s}, the second from the decoded state of the first. */
    private static Strategy.Step[] twoSteps(Strategy s, float[] x0, double[] d1, double[] d2) {
        Strategy.Step a = s.step(x0, d1, s.resume(StrategyState.EMPTY, N));
        Strategy.Step b =
                s.step(a.weights(), d2, s.resume(StrategyState.decode(a.state().encode()), N));
        return new Strategy.Step[] {a, b};
    }

    @Test
    void fedAvgIsTheParentPlusTheMeanBitForBitAsApplyMean() {
        float[] x = parent(1);
        double[] d = delta(2);
        Strategy.Step s = Strategy.fedAvg().step(x, d, StrategyState.EMPTY);
        float[] ref = new float[N];
        for (int i = 0; i < N; i++) {
            ref[i] = (float) (x[i] + d[i]);
        }
        assertArrayEquals(ref, s.weights());
        assertArrayEquals(ModelWeights.applyMean(x, d), s.weights());
        assertTrue(s.state().isEmpty());
        assertEquals(0, s.state().hashField().remaining());
        assertNull(Strategy.fedAvg().toRecordSpec(), "plain FedAvg versions keep strategy = null");
        // FedProx's server step is FedAvg's; mu is round configuration
        Strategy prox = Strategy.fedProx(0.1);
        assertArrayEquals(ref, prox.step(x, d, StrategyState.EMPTY).weights());
        assertEquals(0.1, prox.proximalMu());
        assertEquals(
                0.1,
                prox.configure(org.fedseal.protocol.wire.RoundOpened.newBuilder())
                        .getProximalMu());
        assertEquals(0.0, Strategy.fedAdam(0.1).proximalMu());
    }

    @Test
    void fedAvgMFollowsHsuEtAl() {
        double eta = 0.7;
        double beta = 0.9;
        float[] x = parent(3);
        double[] d1 = delta(4);
        double[] d2 = delta(5);
        Strategy.Step[] got = twoSteps(Strategy.fedAvgM(eta, beta), x, d1, d2);
        // v_t = beta v_{t-1} + Delta_t;  x_{t+1} = x_t + eta v_t;  v_0 = 0
        double[] v = new double[N];
        float[] xs = x.clone();
        for (double[] d : new double[][] {d1, d2}) {
            for (int i = 0; i < N; i++) {
                v[i] = beta * v[i] + d[i];
                xs[i] = (float) (xs[i] + eta * v[i]);
            }
        }
        assertArrayEquals(xs, got[1].weights());
        assertArrayEquals(v, got[1].state().vector(0));
        assertNotEquals(got[0].state().hash(), got[1].state().hash());
    }

    private enum Rule {
        ADAGRAD,
        ADAM,
        YOGI
    }

    /** Reddi et al., Algorithm 2, written out for one rule. */
    private static float[] reddi(
            Rule rule,
            float[] x0,
            List<double[]> deltas,
            double eta,
            double b1,
            double b2,
            double tau,
            double[] mOut,
            double[] vOut) {
        double[] m = new double[N];
        double[] v = new double[N];
        for (int i = 0; i < N; i++) {
            v[i] = tau * tau;
        }
        float[] x = x0.clone();
        for (double[] d : deltas) {
            for (int i = 0; i < N; i++) {
                m[i] = b1 * m[i] + (1 - b1) * d[i];
                double sq = d[i] * d[i];
                if (rule == Rule.ADAGRAD) {
                    v[i] = v[i] + sq;
                } else if (rule == Rule.ADAM) {
                    v[i] = b2 * v[i] + (1 - b2) * sq;
                } else {
                    double diff = v[i] - sq;
                    double sign = diff > 0 ? 1 : diff < 0 ? -1 : 0;
                    v[i] = v[i] - (1 - b2) * sq * sign;
                }
                x[i] = (float) (x[i] + eta * m[i] / (Math.sqrt(v[i]) + tau));
            }
        }
        System.arraycopy(m, 0, mOut, 0, N);
        System.arraycopy(v, 0, vOut, 0, N);
        return x;
    }

    private static void checkAdaptive(Rule rule, Strategy s, double eta, double b1, double b2, double tau) {
        float[] x = parent(6);
        double[] d1 = delta(7);
        double[] d2 = delta(8);
        Strategy.Step[] got = twoSteps(s, x, d1, d2);
        double[] m = new double[N];
        double[] v = new double[N];
        float[] ref = reddi(rule, x, List.of(d1, d2), eta, b1, b2, tau, m, v);
        assertArrayEquals(ref, got[1].weights(), s.name());
        assertArrayEquals(m, got[1].state().vector(0), s.name() + " first moment");
        assertArrayEquals(v, got[1].state().vector(1), s.name() + " second moment");
        // the step moved the model, and not as FedAvg would have
        assertNotEquals(ModelWeights.hash(ModelWeights.applyMean(x, d1)), ModelWeights.hash(got[0].weights()));
    }

    @Test
    void fedAdamFollowsReddiEtAlAlgorithm2() {
        checkAdaptive(Rule.ADAM, Strategy.fedAdam(0.1), 0.1, 0.9, 0.99, 1e-3);
        Strategy custom = Strategy.of("FedAdam", Map.of("eta", 0.03, "beta1", 0.5, "beta2", 0.9, "tau", 0.01));
        checkAdaptive(Rule.ADAM, custom, 0.03, 0.5, 0.9, 0.01);
    }

    @Test
    void fedYogiFollowsReddiEtAlAlgorithm2() {
        checkAdaptive(Rule.YOGI, Strategy.fedYogi(0.01), 0.01, 0.9, 0.99, 1e-3);
        checkAdaptive(Rule.YOGI, Strategy.of("FedYogi", Map.of("eta", 0.05, "tau", 0.05)), 0.05, 0.9, 0.99, 0.05);
    }

    @Test
    void fedAdagradFollowsReddiEtAlAlgorithm2() {
        checkAdaptive(Rule.ADAGRAD, Strategy.fedAdagrad(0.1), 0.1, 0.0, 0.0, 1e-3);
        checkAdaptive(Rule.ADAGRAD, Strategy.of("FedAdagrad", Map.of("eta", 0.2, "beta1", 0.9)), 0.2, 0.9, 0.0, 1e-3);
    }

    @Test
    void publishedDefaultsAndRoundConfiguration() {
        assertEquals(
                Map.of("beta1", 0.9, "beta2", 0.99, "eta", 0.1, "eta_l", 0.1, "tau", 1e-3),
                Strategy.of("FedAdam", Map.of()).hyperparameters());
        assertEquals(
                Map.of("beta1", 0.9, "beta2", 0.99, "eta", 0.01, "eta_l", 0.0316, "tau", 1e-3),
                Strategy.of("FedYogi", Map.of()).hyperparameters());
        assertEquals(
                0.0316,
                Strategy.of("FedYogi", Map.of())
                        .configure(org.fedseal.protocol.wire.RoundOpened.newBuilder())
                        .getLearningRate());
    }

    @Test
    void stateEncodingRoundTripsAndIsCanonical() {
        Strategy s = Strategy.fedYogi(0.01);
        StrategyState st = s.step(parent(9), delta(10), s.initialState(N)).state();
        byte[] enc = st.encode();
        assertEquals(4 + 1 + 2 + "FedYogi".length() + 4 + 2 * (4 + 8 * N), enc.length);
        StrategyState back = StrategyState.decode(enc);
        assertEquals(st, back);
        assertEquals(st.hash(), back.hash());
        assertEquals(Hash.sha256(enc), st.hash());
        assertTrue(st.matches(st.hash().toByteBuffer()));
        assertSame(StrategyState.EMPTY, StrategyState.decode(new byte[0]));
        // -0.0 kept bit for bit
        StrategyState neg = StrategyState.of("FedAvgM", List.of(new double[] {-0.0, 0.0}));
        assertEquals(
                Double.doubleToRawLongBits(-0.0),
                Double.doubleToRawLongBits(StrategyState.decode(neg.encode()).vector(0)[0]));
        // malformed: truncated, trailing, wrong magic, non-finite
        assertThrows(
                IllegalArgumentException.class,
                () -> StrategyState.decode(java.util.Arrays.copyOf(enc, enc.length - 1)));
        assertThrows(
                IllegalArgumentException.class,
                () -> StrategyState.decode(java.util.Arrays.copyOf(enc, enc.length + 1)));
        byte[] bad = enc.clone();
        bad[0] = 'X';
        assertThrows(IllegalArgumentException.class, () -> StrategyState.decode(bad));
        byte[] nan = neg.encode();
        long bits = Double.doubleToRawLongBits(Double.NaN);
        for (int i = 0; i < 8; i++) {
            nan[nan.length - 16 + i] = (byte) (bits >>> (8 * i));
        }
        assertThrows(IllegalArgumentException.class, () -> StrategyState.decode(nan));
        // a strategy resumes only its own state
        assertEquals(s.initialState(N), s.resume(Strategy.fedAvgM(1, 0.9).initialState(N), N));
        assertEquals(st, s.resume(st, N));
        assertEquals(s.initialState(N + 1), s.resume(st, N + 1));
        assertThrows(
                IllegalArgumentException.class,
                () -> s.step(parent(1), delta(1), Strategy.fedAvgM(1, 0.9).initialState(N)));
    }

    private static StrategySpec spec(String name, Object... kv) {
        List<Hyperparameter> hp = new java.util.ArrayList<>();
        for (int i = 0; i < kv.length; i += 2) {
            hp.add(Hyperparameter.newBuilder()
                    .setName((String) kv[i])
                    .setValue((Double) kv[i + 1])
                    .build());
        }
        return StrategySpec.newBuilder().setName(name).setHyperparameters(hp).build();
    }

    @Test
    void specsRoundTripSortedAndBadOnesAreRefusedClearly() {
        for (String name : Strategy.names()) {
            Strategy s = Strategy.of(name, Map.of());
            StrategySpec spec = s.toSpec();
            List<String> keys = spec.getHyperparameters().stream()
                    .map(h -> h.getName().toString())
                    .toList();
            assertEquals(keys.stream().sorted().toList(), keys, name);
            assertEquals(s.hyperparameters(), Strategy.fromSpec(spec).hyperparameters());
        }
        assertEquals("FedAvg", Strategy.fromSpec(null).name());
        assertEquals(
                0.02,
                Strategy.parse("fedadam:eta=0.02, tau=0.01").hyperparameters().get("eta"));
        String unknown = assertThrows(IllegalArgumentException.class, () -> Strategy.fromSpec(spec("FedLion")))
                .getMessage();
        assertTrue(unknown.contains("FedLion") && unknown.contains("FedAdam"), unknown);
        String badKey = assertThrows(
                        IllegalArgumentException.class, () -> Strategy.fromSpec(spec("FedAdam", "gamma", 0.1)))
                .getMessage();
        assertTrue(badKey.contains("gamma") && badKey.contains("beta1"), badKey);
        String unsorted = assertThrows(
                        IllegalArgumentException.class,
                        () -> Strategy.fromSpec(spec("FedAdam", "tau", 0.1, "eta", 0.1)))
                .getMessage();
        assertTrue(unsorted.contains("sorted"), unsorted);
        assertThrows(IllegalArgumentException.class, () -> Strategy.fromSpec(spec("FedAdam", "eta", 0.1, "eta", 0.2)));
        for (Object[] bad : new Object[][] {
            {"FedAdam", "beta1", 1.0},
            {"FedAdam", "beta2", -0.1},
            {"FedAdam", "eta", 0.0},
            {"FedYogi", "tau", -1.0},
            {"FedProx", "mu", -0.01},
            {"FedAvgM", "beta", Double.NaN},
            {"FedAdam", "eta", Double.POSITIVE_INFINITY},
            {"FedAvg", "eta_l", -1.0}
        }) {
            String msg = assertThrows(
                            IllegalArgumentException.class,
                            () -> Strategy.fromSpec(spec((String) bad[0], bad[1], bad[2])))
                    .getMessage();
            assertTrue(msg.contains((String) bad[1]) && msg.contains((String) bad[0]), msg);
        }
        assertThrows(IllegalArgumentException.class, () -> Strategy.parse("FedAdam:eta"));
        assertThrows(IllegalArgumentException.class, () -> Strategy.parse("FedAdam:eta=x"));
    }
}
