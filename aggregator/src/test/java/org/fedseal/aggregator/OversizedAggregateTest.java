package org.fedseal.aggregator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.kafkalocal.junit.SharedKafkaBroker;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sum larger than the aggregates topic accepts (here the broker's default of ~1 MiB) is published
 * as FAILED_TOO_LARGE without sums, once, instead of failing the job on every replay.
 */
@ExtendWith(SharedKafkaBroker.class)
class OversizedAggregateTest {
    static final String P = "big";

    @Test
    void aggregateOverTheTopicLimitIsReportedNotRetriedForever(LocalKafkaBroker kafka, @TempDir Path tmp) throws Exception {
        kafka.createTopics(Fleet.topics(P, 1));
        try (Fleet fleet = new Fleet(kafka.bootstrapServers())) {
            AggregatorConfig config = fleet.config(P).build();
            fleet.enrol(P, "b1");
            // 9 ciphertexts of ~131 KB: the sum is ~1.2 MB, the topic takes ~1 MiB.
            RoundOpened round = fleet.round("big-model", 1, 1, System.currentTimeMillis() + 120_000, Fleet.layout(8192 * 9, 2));
            fleet.openRound(P, round);
            try (LocalAggregator job = AggregatorJob.runLocal(config, tmp.resolve("ckpt"));
                 Fleet.Reader aggregates = fleet.reader(P + ".aggregates")) {
                fleet.sendUpdate(P, fleet.update("b1", round, "b1-u", 1));
                aggregates.await(AggregatePublished.class, v -> !v.isEmpty(), Duration.ofSeconds(60));
                List<AggregatePublished> aggs = aggregates.drain(AggregatePublished.class, Duration.ofSeconds(3));
                assertEquals(1, aggs.size(), "exactly one outcome");
                assertEquals(AggregateStatus.FAILED_TOO_LARGE, aggs.get(0).getStatus());
                assertTrue(aggs.get(0).getChunkSums().isEmpty());
                assertEquals(List.of("b1"), aggs.get(0).getParticipants());
                assertEquals(org.apache.flink.api.common.JobStatus.RUNNING, job.status(), "the job kept running");
            }
        }
    }
}
