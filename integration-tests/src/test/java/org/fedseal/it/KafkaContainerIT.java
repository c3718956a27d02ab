package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fedseal.aggregator.AggregatorConfig;
import org.fedseal.demo.FederatedDeployment;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The same round as the jar-started broker runs, against a Kafka container, for machines with
 * Docker. Without a Docker engine (as on the CI machines) it is skipped.
 */
@Testcontainers(disabledWithoutDocker = true)
class KafkaContainerIT {
    @Container
    static final KafkaContainer KAFKA =
            new KafkaContainer("apache/kafka:4.0.0").withEnv("KAFKA_MESSAGE_MAX_BYTES", Integer.toString(64 << 20));

    @Test
    void roundOnAContainerBroker() throws Exception {
        try (FederatedDeployment d = FederatedDeployment.startOnKafka(
                        Files.createTempDirectory("fedseal-tc"),
                        KAFKA.getBootstrapServers(),
                        Map.of(AggregatorConfig.CHECKPOINT_INTERVAL_MS, "1000"));
                Scenario s = new Scenario(d, "it-container", new float[FaultsIT.PARAMS])) {
            List<float[]> deltas = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                float[] delta = Updates.delta(FaultsIT.PARAMS, 0.01, 300 + c);
                deltas.add(delta);
                s.client("tc-" + c, new FixedDeltaTrainer(delta, FaultsIT.WEIGHT));
            }
            RoundOpened round = s.open(3, Duration.ofMinutes(2));
            for (var c : s.clients) {
                c.participate(round);
            }
            AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(2));
            FaultsIT.assertDecryptsTo(s, agg, deltas);
            assertEquals(3, agg.getParticipants().size());
        }
    }
}
