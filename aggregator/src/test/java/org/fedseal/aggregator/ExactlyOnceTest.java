package org.fedseal.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.aggregator.internal.FailureInjector;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.kafkalocal.junit.SharedKafkaBroker;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateRejected;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The job crashes mid-round, restarts from its last checkpoint, and still counts every update exactly once. */
@ExtendWith(SharedKafkaBroker.class)
class ExactlyOnceTest {
    static final String P = "eo";

    /** With the heap state backend (the default) and with RocksDB (large state, incremental checkpoints). */
    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void crashMidRoundCountsEveryUpdateExactlyOnce(String stateBackend, LocalKafkaBroker kafka, @TempDir Path tmp)
            throws Exception {
        String P = ExactlyOnceTest.P + "-" + stateBackend;
        kafka.createTopics(Fleet.topics(P, 2));
        int before = FailureInjector.INJECTED.get();
        try (Fleet fleet = new Fleet(kafka.bootstrapServers())) {
            // 2 clients x (2 chunks + commit) = 6 records before the crash point; the 8th update record fails the job
            AggregatorConfig config = fleet.config(P)
                    .set(AggregatorConfig.TEST_FAIL_AFTER_RECORDS, 7)
                    .set(AggregatorConfig.STATE_BACKEND, stateBackend)
                    .build();
            String[] clients = {"e1", "e2", "e3", "e4", "e5"};
            fleet.enrol(P, clients);
            RoundOpened round = fleet.round(
                    "eo-model-" + stateBackend, 1, 5, System.currentTimeMillis() + 120_000, Fleet.layout(20_000, 2));
            fleet.openRound(P, round);
            List<double[]> plains = new ArrayList<>();
            try (LocalAggregator job = AggregatorJob.runLocal(config, tmp.resolve("ckpt"));
                    Fleet.Reader aggregates = fleet.reader(P + ".aggregates");
                    Fleet.Reader accepted = fleet.reader(P + ".accepted");
                    Fleet.Reader rejects = fleet.reader(P + ".rejects")) {
                for (int i = 0; i < 2; i++) {
                    Fleet.Update u = fleet.update(clients[i], round, clients[i] + "-u", 1);
                    plains.add(u.plain());
                    fleet.sendUpdate(P, u);
                }
                // committed output = a checkpoint completed after the first two updates were folded
                accepted.await(UpdateAccepted.class, v -> v.size() == 2, Duration.ofSeconds(60));
                Thread.sleep(1200); // the failure injector must learn of a completed checkpoint too
                for (int i = 2; i < 5; i++) {
                    Fleet.Update u = fleet.update(clients[i], round, clients[i] + "-u", 1);
                    plains.add(u.plain());
                    fleet.sendUpdate(P, u);
                }
                List<AggregatePublished> aggs =
                        aggregates.await(AggregatePublished.class, v -> !v.isEmpty(), Duration.ofSeconds(90));
                // give a duplicate every chance to show up
                aggs = aggregates.drain(AggregatePublished.class, Duration.ofSeconds(3));
                assertEquals(1, aggs.size(), "exactly one aggregate");
                assertEquals(1, FailureInjector.INJECTED.get() - before, "the failure was injected once");
                AggregatePublished agg = aggs.get(0);
                assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
                assertEquals(5, agg.getAcceptedCount());
                assertEquals(5, agg.getTotalWeight());
                assertEquals(List.of(clients), agg.getParticipants());
                double err = Fleet.maxError(Fleet.sum(plains), fleet.decrypt(agg));
                assertTrue(err < 1e-4, "max error " + err);
                assertEquals(
                        5,
                        accepted.drain(UpdateAccepted.class, Duration.ofMillis(500))
                                .size(),
                        "5 UpdateAccepted, read_committed");
                assertEquals(
                        0,
                        rejects.drain(UpdateRejected.class, Duration.ofMillis(500))
                                .size(),
                        "no rejects: redelivery is not a duplicate");
            }
        }
    }

    /** The job crashes after a round's chunk sums went out and before its manifest: one aggregate, one set of chunk sums. */
    @Test
    void crashBetweenTheChunkSumsAndTheManifest(LocalKafkaBroker kafka, @TempDir Path tmp) throws Exception {
        String p = P + "2";
        kafka.createTopics(Fleet.topics(p, 2));
        int before = FailureInjector.INJECTED.get();
        try (Fleet fleet = new Fleet(kafka.bootstrapServers())) {
            AggregatorConfig config = fleet.config(p)
                    .set(AggregatorConfig.TEST_FAIL_BEFORE_MANIFEST, "true")
                    .set(AggregatorConfig.PARALLELISM, 2)
                    .build();
            String[] clients = {"m1", "m2", "m3"};
            fleet.enrol(p, clients);
            RoundOpened round =
                    fleet.round("eo-manifest", 1, 3, System.currentTimeMillis() + 120_000, Fleet.layout(8192 * 4, 1));
            fleet.openRound(p, round);
            List<double[]> plains = new ArrayList<>();
            try (LocalAggregator job = AggregatorJob.runLocal(config, tmp.resolve("ckpt"));
                    Fleet.Reader aggregates = fleet.reader(p + ".aggregates");
                    Fleet.Reader chunkSums = fleet.reader(p + ".aggregate-chunks")) {
                for (String c : clients) {
                    Fleet.Update u = fleet.update(c, round, c + "-u", 2);
                    plains.add(u.plain());
                    fleet.sendUpdate(p, u);
                }
                aggregates.await(AggregatePublished.class, v -> !v.isEmpty(), Duration.ofSeconds(90));
                List<AggregatePublished> aggs = aggregates.drain(AggregatePublished.class, Duration.ofSeconds(3));
                assertEquals(1, aggs.size(), "exactly one manifest");
                assertEquals(1, FailureInjector.INJECTED.get() - before, "the failure was injected once");
                AggregatePublished agg = aggs.get(0);
                assertEquals(AggregateStatus.COMPLETED, agg.getStatus());
                assertEquals(6, agg.getTotalWeight());
                assertEquals(
                        4,
                        chunkSums
                                .drain(AggregateChunkSum.class, Duration.ofSeconds(1))
                                .size(),
                        "one committed record per chunk sum: the aborted attempt's are invisible");
                double err = Fleet.maxError(Fleet.sum(plains), fleet.decrypt(agg));
                assertTrue(err < 1e-4, "max error " + err);
            }
        }
    }
}
