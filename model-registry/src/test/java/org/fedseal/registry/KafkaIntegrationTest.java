package org.fedseal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.kafkalocal.junit.SharedKafkaBroker;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.ClientEnrolled;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The registry against a real Kafka broker (kafka-local): publishes RoundOpened/ClientEnrolled, ingests aggregates and updates. */
@ExtendWith(SharedKafkaBroker.class)
class KafkaIntegrationTest {
    @TempDir
    Path dir;

    @Test
    void opensRoundsOnKafkaAndLogsConsumedEvents(LocalKafkaBroker kafka) throws Exception {
        String p = "regtest.";
        Map<String, String> topics = Fixture.kafkaTopics(kafka, p);
        try (RegistryServer s = RegistryServer.builder()
                .dataDir(dir)
                .port(0)
                .adminToken("t")
                .kafkaBootstrapServers(kafka.bootstrapServers())
                .set(RegistryConfig.KAFKA_GROUP, "regtest-registry")
                .setAll(topics)
                .build()
                .start()) {
            RegistryClient c = Fixture.client(s);
            SigningKeyPair holder = Fixture.setUpModel(c, "km");
            assertTrue(c.enrollClient("km-c9", SigningKeyPair.generate().publicKey(), List.of("km")));
            RoundInfo opened = c.openRound("km", 2, Duration.ofMinutes(10), 1, 6);
            assertTrue(opened.published());

            List<ConsumerRecord<byte[], byte[]>> rounds = consume(kafka, p + "rounds", 1);
            RoundOpened ro = WireCodec.DEFAULT.decode(rounds.get(0).value(), RoundOpened.class);
            assertEquals("km", ro.getModelId());
            assertEquals(1, ro.getRound());
            assertTrue(Hash.fromHex(opened.baseModelHash()).matches(ro.getBaseModelHash()));
            assertEquals("km/1", new String(rounds.get(0).key(), java.nio.charset.StandardCharsets.UTF_8));
            List<ConsumerRecord<byte[], byte[]>> enrolled = consume(kafka, p + "enrollments", 2);
            assertEquals(
                    "km-c9",
                    WireCodec.DEFAULT
                            .decode(enrolled.get(1).value(), ClientEnrolled.class)
                            .getClientId());

            long logBefore = c.signedTreeHead().getTreeSize();
            Fixture.RoundRun run = Fixture.simulateRound("km", 1, Hash.fromHex(opened.baseModelHash()), 2, false);
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "regtest-aggregator");
            pp.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(4 << 20));
            try (KafkaProducer<byte[], byte[]> prod =
                    new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
                prod.initTransactions();
                prod.beginTransaction();
                for (UpdateEnvelope e : run.envelopes()) {
                    String client = e.getPayload() instanceof UpdateChunk ch
                            ? ch.getClientId()
                            : ((org.fedseal.protocol.wire.UpdateCommit) e.getPayload()).getClientId();
                    prod.send(new ProducerRecord<>(
                            p + "updates", new UpdateKey("km", 1, client).toBytes(), WireCodec.UNBOUNDED.encode(e)));
                }
                for (UpdateAccepted a : run.accepted()) {
                    prod.send(new ProducerRecord<>(
                            p + "accepted", Topics.roundKey("km", 1), WireCodec.DEFAULT.encode(a)));
                }
                prod.send(new ProducerRecord<>(
                        p + "aggregates", Topics.roundKey("km", 1), WireCodec.UNBOUNDED.encode(run.aggregate())));
                prod.commitTransaction();
            }
            long deadline = System.currentTimeMillis() + 60_000;
            RoundInfo r = c.roundStatus("km", 1);
            while (!"closed".equals(r.status()) && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
                r = c.roundStatus("km", 1);
            }
            assertEquals("closed", r.status());
            assertEquals(List.of("km-c0", "km-c1"), r.participants());
            long waitLog = System.currentTimeMillis() + 30_000;
            while (c.signedTreeHead().getTreeSize() < logBefore + 3 && System.currentTimeMillis() < waitLog) {
                Thread.sleep(200);
            }
            // topics are consumed independently, so the order across them is not fixed
            List<String> kinds = c.logEntries(logBefore, c.signedTreeHead().getTreeSize()).stream()
                    .map(LogEntryInfo::kind)
                    .sorted()
                    .toList();
            assertEquals(List.of("AGGREGATE_PUBLISHED", "UPDATE_ACCEPTED", "UPDATE_ACCEPTED"), kinds);
            // the archived chunks consumed from the updates topic re-sum to the aggregate
            Fixture.Cli rec = Fixture.cli(s, "audit", "recompute", "--model", "km", "--round", "1");
            assertEquals(0, rec.code(), rec.out());
            byte[] w = new byte[Fixture.PARAMS * 4];
            c.publishVersion(
                    Fixture.nextVersion("km", Hash.fromHex(opened.baseModelHash()), run, w, holder),
                    "km-holder",
                    w,
                    0.6);
            assertEquals(0, Fixture.cli(s, "audit", "verify").code());
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> consume(LocalKafkaBroker kafka, String topic, int n) {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, "regtest-reader-" + topic);
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> cons =
                new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            cons.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 30_000;
            while (out.size() < n && System.currentTimeMillis() < deadline) {
                cons.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        assertEquals(n, out.size(), "records on " + topic);
        return out;
    }
}
