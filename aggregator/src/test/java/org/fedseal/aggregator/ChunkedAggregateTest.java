package org.fedseal.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.kafkalocal.junit.SharedKafkaBroker;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * One model's round at parallelism 2: its chunk sums are spread over both subtasks of the summing
 * stage (read from the job's metrics), no record grows with the model (an aggregate that was
 * ~1.6 MB inline now fits the brokers' default 1 MiB limit record by record), and it decrypts.
 */
@ExtendWith(SharedKafkaBroker.class)
class ChunkedAggregateTest {
    static final String P = "sharded";
    static final int CHUNKS = 12;

    @Test
    void oneRoundsChunkSumsSpreadOverEverySubtaskAndEveryRecordFitsOneMebibyte(
            LocalKafkaBroker kafka, @TempDir Path tmp) throws Exception {
        kafka.createTopics(Fleet.topics(P, 2));
        try (Fleet fleet = new Fleet(kafka.bootstrapServers())) {
            AggregatorConfig config = fleet.config(P)
                    .set(AggregatorConfig.PARALLELISM, 2)
                    .set("flink.metrics.reporter.mem.factory.class", InMemoryMetricReporter.class.getName())
                    .build();
            String[] clients = {"s1", "s2", "s3"};
            fleet.enrol(P, clients);
            // 12 ciphertexts of ~131 KB, one per chunk: ~1.6 MB of sums, more than one Kafka record may hold
            RoundOpened round = fleet.round(
                    "sharded-model",
                    1,
                    clients.length,
                    System.currentTimeMillis() + 120_000,
                    Fleet.layout(8192 * CHUNKS - 100, 1));
            fleet.openRound(P, round);
            List<double[]> plains = new ArrayList<>();
            try (LocalAggregator job = AggregatorJob.runLocal(config, tmp.resolve("ckpt"));
                    Fleet.Reader aggregates = fleet.reader(P + ".aggregates");
                    Fleet.Reader chunkSums = fleet.reader(P + ".aggregate-chunks")) {
                for (String c : clients) {
                    Fleet.Update u = fleet.update(c, round, c + "-u", 3);
                    plains.add(u.plain());
                    fleet.sendUpdate(P, u);
                }
                AggregatePublished agg = aggregates
                        .await(AggregatePublished.class, v -> !v.isEmpty(), Duration.ofSeconds(90))
                        .get(0);
                assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
                assertTrue(Signatures.verify(agg, fleet.aggregatorKey.publicKey()));
                assertEquals(CHUNKS, Aggregates.chunkCount(agg));
                assertTrue(Fleet.maxError(Fleet.sum(plains), fleet.decrypt(agg)) < 1e-4);

                chunkSums.await(AggregateChunkSum.class, v -> v.size() == CHUNKS, Duration.ofSeconds(30));
                List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>(chunkSums.records);
                all.addAll(aggregates.records);
                for (ConsumerRecord<byte[], byte[]> r : all) {
                    assertTrue(
                            r.serializedValueSize() < 1_000_000,
                            r.topic() + " record of " + r.serializedValueSize() + " bytes");
                }

                long s0 = InMemoryMetricReporter.count("chunk-summer", "chunkSumsPublished", 0);
                long s1 = InMemoryMetricReporter.count("chunk-summer", "chunkSumsPublished", 1);
                assertEquals(CHUNKS, s0 + s1, "subtask 0 summed " + s0 + ", subtask 1 " + s1);
                for (long s : new long[] {s0, s1}) {
                    assertTrue(s >= 0.4 * CHUNKS && s <= 0.6 * CHUNKS, "subtask shares " + s0 + " / " + s1);
                }
            }
        }
    }
}
