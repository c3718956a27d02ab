package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.client.BaseModel;
import org.fedseal.client.DjlTrainer;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.LocalUpdate;
import org.fedseal.client.Mnist2500;
import org.fedseal.client.Partitioners;
import org.fedseal.client.UpdatePolicy;
import org.fedseal.coordinator.RegistryModelSource;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.RegistryClient;
import org.junit.jupiter.api.Test;

/**
 * Real DJL clients train on MNIST, encrypt with SEAL and send over Kafka; the Flink job sums;
 * the decrypted aggregate equals the plaintext weighted FedAvg of the very same deltas.
 */
class FederatedAveragingIT {
    @Test
    void decryptedAggregateEqualsPlaintextFedAvgOfTheSameDeltas() throws Exception {
        LocalDataset all = Mnist2500.load();
        LocalDataset train = all.range(0, 1200);
        LocalDataset test = all.range(2000, 2500);
        List<int[]> parts = Partitioners.dirichlet(0.5, 3).partition(train.labels(), 4);
        DjlTrainer evaluator = DjlTrainer.builder()
                .block(DjlTrainer.mlp(784, 10, 64))
                .dataset(test)
                .build();
        float[] initial = evaluator.initialParameters(11);
        try (Scenario s = new Scenario(SharedDeployment.get(), "it-fedavg", initial)) {
            List<FederatedClient> clients = new ArrayList<>();
            for (int c = 0; c < parts.size(); c++) {
                clients.add(s.client(
                        "fedavg-" + c,
                        DjlTrainer.builder()
                                .block(DjlTrainer.mlp(784, 10, 64))
                                .dataset(train.subset(parts.get(c)))
                                .learningRate(0.1f)
                                .batchSize(32)
                                .build()));
            }
            RoundOpened round = s.open(clients.size(), Duration.ofMinutes(2));
            RegistryModelSource source = new RegistryModelSource(
                    RegistryClient.create(s.deployment.registry().uri()));
            BaseModel base = source.baseModel(s.modelId, Hash.of(round.getBaseModelHash()));

            double[] weightedSum = new double[initial.length];
            long totalWeight = 0;
            for (FederatedClient client : clients) {
                LocalUpdate update = client.trainOnce(round, base);
                float[] clipped =
                        UpdatePolicy.clip(update.delta(), client.policy().clipFor(RoundBounds.of(round)));
                for (int i = 0; i < clipped.length; i++) {
                    weightedSum[i] += (double) update.weight() * clipped[i];
                }
                totalWeight += update.weight();
                client.submit(round, update);
            }

            AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(2));
            assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
            assertEquals(clients.size(), agg.getParticipants().size());
            assertEquals(totalWeight, agg.getTotalWeight());
            double[] mean = s.keyHolder.decryptMean(agg, s.chunkSums());
            double maxError = 0;
            for (int i = 0; i < mean.length; i++) {
                maxError = Math.max(maxError, Math.abs(mean[i] - weightedSum[i] / totalWeight));
            }
            assertTrue(maxError < 1e-4, "decrypted FedAvg differs from the plaintext FedAvg by " + maxError);

            float[] next = s.keyHolder.apply(agg, s.chunkSums(), initial);
            double before = evaluator.accuracy(initial, test);
            double after = evaluator.accuracy(next, test);
            System.out.printf(
                    "FedAvg over Kafka+Flink: max error %.2e, accuracy %.3f -> %.3f%n", maxError, before, after);
            assertTrue(after > before + 0.1, "one averaged round should learn: " + before + " -> " + after);
        }
    }
}
