package org.fedseal.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.fedseal.client.DjlTrainer;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.Mnist2500;
import org.fedseal.client.Partitioners;
import org.junit.jupiter.api.Test;

/** Two FedAvg rounds of 4 DJL clients on label-skewed MNIST through the full client pipeline. */
class SimulationTest {
    @Test
    void twoRoundsOfNonIidFedAvgLearn() throws Exception {
        LocalDataset all = Mnist2500.load();
        LocalDataset test = all.range(2000, 2500);
        DjlTrainer eval = DjlTrainer.builder()
                .block(DjlTrainer.mlp(784, 10, 128))
                .dataset(test)
                .build();
        float[] init = eval.initialParameters(1);
        try (Simulation sim = Simulation.builder()
                .trainSet(all.range(0, 2000))
                .clients(4)
                .partitioner(Partitioners.dirichlet(0.5, 11))
                .trainerFactory(d -> DjlTrainer.builder()
                        .block(DjlTrainer.mlp(784, 10, 128))
                        .dataset(d)
                        .build())
                .evaluator(p -> eval.accuracy(p, test))
                .build()) {
            List<Simulation.RoundReport> reports = sim.run(init, 2);
            assertEquals(2, reports.size());
            for (Simulation.RoundReport r : reports) {
                System.out.printf(
                        "round %d: %d clients, weight %d, accuracy %.3f, %d bytes, %.2fs%n",
                        r.round(), r.participants(), r.totalWeight(), r.metric(), r.bytesSent(), r.seconds());
                assertEquals(4, r.participants());
                assertEquals(2000, r.totalWeight());
            }
            assertTrue(
                    reports.get(1).metric() > 0.5, "accuracy " + reports.get(1).metric());
            assertEquals(
                    reports.get(0).model().versionHash(),
                    org.fedseal.protocol.Hash.of(
                            reports.get(1).model().version().getParentHash()));
        }
    }
}
