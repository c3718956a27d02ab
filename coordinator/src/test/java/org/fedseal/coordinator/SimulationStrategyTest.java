package org.fedseal.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.LocalTrainer;
import org.fedseal.client.LocalUpdate;
import org.fedseal.client.RoundConfig;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.StrategyState;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: {@link Simulation} runs the configured server strategy through real SEAL encryption
 * and decryption, and puts its round configuration (client learning rate, FedProx μ) into every
 * round the clients train in.
 */
class SimulationStrategyTest {
    private static final int PARAMS = 40;

    /** Returns a fixed delta per client and records the round configuration it was asked for. */
    static final class RecordingTrainer implements LocalTrainer {
        final float[] delta;
        final List<RoundConfig> seen = Collections.synchronizedList(new ArrayList<>());

        RecordingTrainer(int client) {
            delta = new float[PARAMS];
            for (int i = 0; i < PARAMS; i++) {
                delta[i] = 0.01f * (client + 1) * ((i % 7) - 3);
            }
        }

        @Override
        public int parameterCount() {
            return PARAMS;
        }

        @Override
        public long sampleCount() {
            return 100;
        }

        @Override
        public LocalUpdate fit(float[] base, int epochs) {
            return fit(base, RoundConfig.epochs(epochs));
        }

        @Override
        public LocalUpdate fit(float[] base, RoundConfig config) {
            seen.add(config);
            return new LocalUpdate(delta.clone(), 100, Map.of());
        }
    }

    private static List<RecordingTrainer> run(Strategy strategy, int rounds, float[][] finalWeights) throws Exception {
        List<RecordingTrainer> trainers = new ArrayList<>();
        float[] x = new float[PARAMS];
        LocalDataset data = new LocalDataset(new float[3], 1, new int[3]);
        try (Simulation sim = Simulation.builder()
                .trainSet(data)
                .clients(3)
                .strategy(strategy)
                .localEpochs(2)
                .partitioner((labels, k) -> List.of(new int[] {0}, new int[] {1}, new int[] {2}))
                .trainerFactory(d -> {
                    RecordingTrainer t = new RecordingTrainer(trainers.size());
                    trainers.add(t);
                    return t;
                })
                .build()) {
            List<Simulation.RoundReport> reports = sim.run(x, rounds);
            finalWeights[0] = reports.get(rounds - 1).model().parameters();
        }
        return trainers;
    }

    @Test
    void theStrategyStepsFromTheDecryptedMeanAndConfiguresTheRounds() throws Exception {
        Strategy adam = Strategy.of("FedAdam", Map.of("eta", 0.05, "eta_l", 0.02));
        float[][] got = new float[1][];
        List<RecordingTrainer> trainers = run(adam, 3, got);
        // the plaintext mean the clients' encrypted updates sum to
        double[] mean = new double[PARAMS];
        for (int i = 0; i < PARAMS; i++) {
            double s = 0;
            for (RecordingTrainer t : trainers) {
                s += 100.0 * t.delta[i];
            }
            mean[i] = s / 300.0;
        }
        float[] x = new float[PARAMS];
        StrategyState state = adam.initialState(PARAMS);
        for (int r = 0; r < 3; r++) {
            Strategy.Step step = adam.step(x, mean, state);
            x = step.weights();
            state = step.state();
        }
        float[] fedAvg = new float[PARAMS];
        for (int i = 0; i < PARAMS; i++) {
            fedAvg[i] = (float) (3 * mean[i]);
            // CKKS decrypts the mean to ~1e-6; FedAdam's step is eta·m/(√v+τ), insensitive to that
            assertEquals(x[i], got[0][i], 1e-3, "parameter " + i);
        }
        assertTrue(Math.abs(fedAvg[1] - got[0][1]) > 0.01, "FedAdam moved differently from FedAvg");
        for (RecordingTrainer t : trainers) {
            assertEquals(3, t.seen.size());
            for (RoundConfig c : t.seen) {
                assertEquals(new RoundConfig(2, 0.02, 0, 0.0), c);
            }
        }
        List<RecordingTrainer> prox = run(Strategy.fedProx(0.2), 1, got);
        for (RecordingTrainer t : prox) {
            assertEquals(List.of(new RoundConfig(2, 0, 0, 0.2)), t.seen, "FedProx's mu reaches the clients");
        }
    }
}
