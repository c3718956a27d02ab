package org.fedseal.kafkalocal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three nodes, topics at replication factor 3 and min.insync.replicas 2; one node killed and restarted. */
class ClusterTest {

    @Test
    void threeNodesKeepEveryAcknowledgedRecordWhenOneIsKilled(@TempDir Path dir) throws Exception {
        List<Long> pids = new ArrayList<>();
        try (LocalKafkaCluster kafka =
                LocalKafkaCluster.start(dir, 3, LocalKafkaBroker.builder().heap("256m"))) {
            kafka.nodes().forEach(n -> pids.add(n.pid()));
            assertEquals(3, kafka.bootstrapServers().split(",").length);
            kafka.createTopics(Map.of("t", 2), Map.of());
            try (Admin admin =
                    Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                TopicDescription t = admin.describeTopics(List.of("t"))
                        .allTopicNames()
                        .get(30, TimeUnit.SECONDS)
                        .get("t");
                t.partitions().forEach(p -> assertEquals(3, p.replicas().size(), "replication factor 3"));
                String minIsr = admin.describeConfigs(List.of(new org.apache.kafka.common.config.ConfigResource(
                                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "t")))
                        .all()
                        .get(30, TimeUnit.SECONDS)
                        .values()
                        .iterator()
                        .next()
                        .get("min.insync.replicas")
                        .value();
                assertEquals("2", minIsr);
            }
            try (KafkaProducer<String, String> producer = producer(kafka)) {
                for (int i = 0; i < 50; i++) {
                    producer.send(new ProducerRecord<>("t", "k" + i, "before-" + i))
                            .get(30, TimeUnit.SECONDS);
                }
                kafka.kill(1);
                assertFalse(ProcessHandle.of(pids.get(1))
                        .map(ProcessHandle::isAlive)
                        .orElse(false));
                for (int i = 0; i < 50; i++) {
                    producer.send(new ProducerRecord<>("t", "k" + i, "after-" + i))
                            .get(60, TimeUnit.SECONDS);
                }
            }
            assertEquals(100, readAll(kafka, 100).size(), "every acknowledged record, once");
            kafka.restart(1);
            assertTrue(kafka.nodes().get(1).isRunning());
        }
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "node " + pid + " stopped");
        }
    }

    private static KafkaProducer<String, String> producer(LocalKafkaCluster kafka) {
        return new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ProducerConfig.ACKS_CONFIG,
                        "all",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                        true,
                        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                        60_000),
                new StringSerializer(),
                new StringSerializer());
    }

    private static List<String> readAll(LocalKafkaCluster kafka, int expected) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                        ConsumerConfig.GROUP_ID_CONFIG, "cluster-test",
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of("t"));
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (values.size() < expected && System.nanoTime() < end) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    values.add(r.value());
                }
            }
            // anything beyond the expected count would be a duplicate
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofSeconds(2))) {
                values.add(r.value());
            }
        }
        return values;
    }
}
