package org.fedseal.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.fedseal.client.DjlTrainer;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.LocalEvaluation;
import org.fedseal.client.LocalTrainer;
import org.fedseal.client.Mnist2500;
import org.fedseal.client.Partitioners;
import org.fedseal.client.SubmissionException;
import org.fedseal.protocol.FederatedEvaluation;
import org.junit.jupiter.api.Test;

/** Federated evaluation in the in-JVM simulation: DJL clients' encrypted sums decrypt to the example-weighted means of their local figures. */
class SimulationEvaluationTest {
    @Test
    void decryptedMetricsAreTheExampleWeightedMeansOfTheClients() throws Exception {
        LocalDataset all = Mnist2500.load();
        try (Simulation sim = Simulation.builder()
                .trainSet(all.range(0, 1200))
                .clients(3)
                .partitioner(Partitioners.dirichlet(0.5, 5))
                .trainerFactory(d -> DjlTrainer.builder()
                        .block(DjlTrainer.mlp(784, 10, 32))
                        .dataset(d)
                        .build())
                .build()) {
            DjlTrainer first = (DjlTrainer) sim.trainers().get(0);
            float[] p = sim.run(first.initialParameters(3), 1).get(0).model().parameters();

            long examples = 0;
            long correct = 0;
            double lossSum = 0;
            for (LocalTrainer t : sim.trainers()) {
                LocalEvaluation e = t.evaluate(p);
                DjlTrainer d = (DjlTrainer) t;
                assertEquals(d.dataset().size(), e.examples());
                assertEquals(
                        d.accuracy(p, d.dataset()),
                        e.accuracy(),
                        1e-6,
                        "DjlTrainer.evaluate counts what accuracy() measures");
                examples += e.examples();
                correct += e.correct();
                lossSum += e.lossSum();
            }
            assertEquals(1200, examples);
            FederatedEvaluation.Metrics m = sim.evaluate(p, 10);
            System.out.printf(
                    "federated accuracy %.6f (plain %.6f), loss %.6f (plain %.6f)%n",
                    m.accuracy(), (double) correct / examples, m.loss(), lossSum / examples);
            assertEquals(examples, m.examples());
            assertEquals((double) correct / examples, m.accuracy(), 1e-6);
            assertEquals(lossSum / examples, m.loss(), 1e-6);
            assertTrue(m.accuracy() > 0.3, "one round learns something: " + m.accuracy());

            // a loss bound below the clients' losses: they refuse rather than send clipped sums
            SubmissionException ex = assertThrows(SubmissionException.class, () -> sim.evaluate(p, m.loss() / 100));
            assertEquals(SubmissionException.Reason.HEADROOM_EXCEEDED, ex.reason());
        }
    }
}
