package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.client.BaseModel;
import org.fedseal.client.DjlTrainer;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.LocalEvaluation;
import org.fedseal.client.LocalUpdate;
import org.fedseal.client.Mnist2500;
import org.fedseal.client.Partitioners;
import org.fedseal.coordinator.RegistryModelSource;
import org.fedseal.coordinator.RegistryVersionPublisher;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.FederatedEvaluation;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.RoundTask;
import org.fedseal.registry.FederatedEvaluationInfo;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RegistryException;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.VersionInfo;
import org.junit.jupiter.api.Test;

/**
 * Federated evaluation on the real pipeline (issue 19): after a trained version exists, the registry opens
 * an evaluation round of it; real DJL clients evaluate it on their own MNIST digits and send encrypted sums
 * (SEAL) over Kafka; the Flink job adds them like updates; the key holder decrypts only the totals. The
 * federated accuracy and loss equal the example-weighted means of the clients' plaintext local figures,
 * and the registry records them with the aggregate's participants and refuses to make a version of them.
 */
class FederatedEvaluationIT {
    @Test
    void decryptedFederatedAccuracyIsTheExampleWeightedMeanOfTheClients() throws Exception {
        LocalDataset all = Mnist2500.load();
        LocalDataset train = all.range(0, 900);
        List<int[]> parts = Partitioners.dirichlet(0.5, 8).partition(train.labels(), 3);
        List<DjlTrainer> trainers = new ArrayList<>();
        for (int[] part : parts) {
            trainers.add(DjlTrainer.builder()
                    .block(DjlTrainer.mlp(784, 10, 32))
                    .dataset(train.subset(part))
                    .learningRate(0.1f)
                    .batchSize(32)
                    .build());
        }
        float[] initial = trainers.get(0).initialParameters(5);
        try (Scenario s = new Scenario(SharedDeployment.get(), "it-fedeval", initial)) {
            List<FederatedClient> clients = new ArrayList<>();
            for (int c = 0; c < trainers.size(); c++) {
                clients.add(s.client("fedeval-" + c, trainers.get(c)));
            }
            // a trained version to evaluate
            RoundOpened training = s.open(clients.size(), Duration.ofMinutes(2));
            for (FederatedClient c : clients) {
                c.participate(training);
            }
            VersionInfo v1 = s.publishVersion(s.aggregate(training.getRound(), Duration.ofMinutes(2)));
            Hash v1Hash = Hash.fromHex(v1.versionHash());

            RoundInfo opened =
                    s.admin.openEvaluationRound(s.modelId, v1Hash, clients.size(), Duration.ofMinutes(2), 0, 0, 0);
            RoundOpened round = s.await(
                            Topics.ROUNDS,
                            RoundOpened.class,
                            o -> o.getModelId().equals(s.modelId) && o.getRound() == opened.round(),
                            Duration.ofSeconds(30))
                    .get(0);
            assertEquals(RoundTask.EVALUATE, round.getTask());
            assertTrue(v1Hash.matches(round.getBaseModelHash()));

            // plaintext local figures, for the comparison only: they never leave the clients
            BaseModel base = new RegistryModelSource(
                            RegistryClient.create(s.deployment.registry().uri()))
                    .baseModel(s.modelId, v1Hash);
            long examples = 0;
            long correct = 0;
            double lossSum = 0;
            double[] localAccuracy = new double[trainers.size()];
            for (int c = 0; c < trainers.size(); c++) {
                LocalEvaluation e = trainers.get(c).evaluate(base.parameters());
                localAccuracy[c] = e.accuracy();
                examples += e.examples();
                correct += e.correct();
                lossSum += e.lossSum();
            }
            // client 0 step by step, the others as participate() (what listener mode runs) does it
            LocalUpdate first = clients.get(0).evaluateOnce(round, base);
            assertEquals(localAccuracy[0], first.metrics().get(LocalUpdate.METRIC_ACCURACY), 1e-12);
            clients.get(0).submit(round, first);
            for (int c = 1; c < clients.size(); c++) {
                clients.get(c).participate(round);
            }

            AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(2));
            assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
            assertEquals(examples, agg.getTotalWeight());
            FederatedEvaluation.Metrics m = s.keyHolder.decryptEvaluation(agg, s.chunkSums());
            double expectedAccuracy = (double) correct / examples; // = Σ nᵢ·accᵢ / Σ nᵢ
            double expectedLoss = lossSum / examples;
            System.out.printf(
                    "federated evaluation over Kafka+Flink+SEAL: accuracy %.8f (plaintext %.8f), loss %.8f (plaintext %.8f), "
                            + "%d examples; local accuracies %s%n",
                    m.accuracy(),
                    expectedAccuracy,
                    m.loss(),
                    expectedLoss,
                    examples,
                    java.util.Arrays.toString(localAccuracy));
            assertEquals(expectedAccuracy, m.accuracy(), 1e-6);
            assertEquals(expectedLoss, m.loss(), 1e-6);

            // what the key holder posts; the registry takes the participants from the aggregate
            FederatedEvaluationInfo recorded = s.admin.recordEvaluation(
                    s.modelId,
                    round.getRound(),
                    CanonicalHash.of(agg),
                    m.examples(),
                    m.accuracy(),
                    m.loss(),
                    s.keyHolderId());
            assertEquals(List.of("fedeval-0", "fedeval-1", "fedeval-2"), recorded.participants());
            VersionInfo shown = s.admin.version(v1Hash);
            assertEquals(m.accuracy(), shown.federated().accuracy(), 0.0);
            assertEquals(round.getRound(), shown.federated().round());

            // an evaluation aggregate never becomes a version
            RegistryVersionPublisher publisher =
                    new RegistryVersionPublisher(s.admin, s.keyHolderId(), s.keyHolderIdentity.privateKey(), null);
            RegistryException refused =
                    assertThrows(RegistryException.class, () -> publisher.publish(base, agg, base.parameters()));
            assertTrue(refused.getMessage().contains("evaluation_round"), refused.getMessage());
            assertEquals(409, refused.status());
            assertEquals(2, s.admin.versions(s.modelId).size());
        }
    }
}
