package org.fedseal.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.fedseal.client.DjlTrainer;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.LocalUpdate;
import org.fedseal.client.Mnist2500;
import org.fedseal.client.Partitioners;
import org.fedseal.client.SealUpdateEncryptor;
import org.fedseal.client.UpdatePolicy;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;

/**
 * Five clients train one real DJL epoch each on their MNIST partition, encrypt with real SEAL; the
 * homomorphic sum (he-native addInPlace), decrypted and divided by the KeyHolder, equals the
 * plaintext weighted mean of the (clipped) deltas. No Kafka, no aggregator.
 */
class DjlSealAggregationTest {
    @Test
    void encryptedWeightedMeanEqualsPlaintextMean() throws Exception {
        long t0 = System.nanoTime();
        LocalDataset all = Mnist2500.load();
        LocalDataset train = all.range(0, 2000);
        LocalDataset test = all.range(2000, 2500);
        int clients = 5;
        List<int[]> parts = Partitioners.iid(7).partition(train.labels(), clients);
        UpdatePolicy policy = UpdatePolicy.of(10.0);
        long tLoad = System.nanoTime();

        try (HeContext he = HeContext.create(HeParameters.CKKS_8192);
                HeKeyPair keys = he.generateKeys();
                SealUpdateEncryptor encryptor = SealUpdateEncryptor.of(he, keys.publicKey());
                KeyHolder keyHolder = KeyHolder.of(he, keys.secretKey())) {
            float[] base = null;
            ChunkLayout layout = null;
            double[] expectedSum = null;
            long totalWeight = 0;
            List<EncryptedVector> sums = new ArrayList<>();
            double trainSeconds = 0;
            DjlTrainer evaluator = null;
            for (int c = 0; c < clients; c++) {
                DjlTrainer trainer = DjlTrainer.builder()
                        .block(DjlTrainer.mlp(784, 10, 128))
                        .dataset(train.subset(parts.get(c)))
                        .learningRate(0.1f)
                        .batchSize(32)
                        .build();
                if (base == null) {
                    base = trainer.initialParameters(42);
                    layout = SealUpdateEncryptor.defaultLayout(HeParameters.CKKS_8192, base.length);
                    expectedSum = new double[base.length];
                    evaluator = trainer;
                }
                long s = System.nanoTime();
                LocalUpdate u = trainer.fit(base, 1);
                trainSeconds += (System.nanoTime() - s) / 1e9;
                assertEquals(parts.get(c).length, u.weight());
                assertTrue(u.metrics().get(LocalUpdate.METRIC_LOSS) > 0);

                RoundOpened round = TestRecords.round(
                        "djl",
                        1,
                        Hash.sha256(new byte[1]),
                        HeParameters.CKKS_8192.id(),
                        Hash.sha256(new byte[2]),
                        layout,
                        Long.MAX_VALUE);
                float[] clipped = UpdatePolicy.clip(u.delta(), policy.clipFor(RoundBounds.of(round)));
                float[] weighted = policy.prepare(u.delta(), u.weight(), round, new Random(c));
                for (int i = 0; i < clipped.length; i++) {
                    expectedSum[i] += (double) u.weight() * clipped[i];
                }
                totalWeight += u.weight();
                List<byte[]> cts = encryptor.encrypt(weighted, layout);
                assertEquals(layout.getCiphertextCount(), cts.size());
                for (int i = 0; i < cts.size(); i++) {
                    EncryptedVector v = he.loadVector(cts.get(i));
                    if (c == 0) {
                        sums.add(v);
                    } else {
                        try (v) {
                            sums.get(i).addInPlace(v);
                        }
                    }
                }
            }
            List<byte[]> summed = new ArrayList<>();
            for (EncryptedVector v : sums) {
                summed.add(v.toBytes());
                v.close();
            }
            AggregatePublished agg = TestRecords.aggregate(
                    "mnist-mlp", 1, HeParameters.CKKS_8192.id(), layout, summed, totalWeight, clients);
            double[] mean = keyHolder.decryptMean(agg, Aggregates.INLINE);
            assertEquals(base.length, mean.length);
            double maxErr = 0;
            for (int i = 0; i < mean.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(mean[i] - expectedSum[i] / totalWeight));
            }
            assertTrue(maxErr < 1e-4, "max |decrypted - plaintext| = " + maxErr);

            float[] next = keyHolder.apply(agg, Aggregates.INLINE, base);
            double accBefore = evaluator.accuracy(base, test);
            double accAfter = evaluator.accuracy(next, test);
            System.out.printf(
                    "params=%d ciphertexts=%d chunks=%d maxErr=%.3g load=%.2fs train(5 epochs)=%.2fs"
                            + " total=%.2fs acc %.3f -> %.3f%n",
                    base.length,
                    layout.getCiphertextCount(),
                    layout.getChunkCount(),
                    maxErr,
                    (tLoad - t0) / 1e9,
                    trainSeconds,
                    (System.nanoTime() - t0) / 1e9,
                    accBefore,
                    accAfter);
            assertTrue(
                    accAfter > accBefore + 0.2, "FedAvg of one epoch should learn: " + accBefore + " -> " + accAfter);
        }
    }
}
