package org.fedseal.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.fedseal.demo.FederatedDeployment;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;

/** Reads FedSeal records from a topic of a deployment, as any consumer would (read_committed, from the start). */
final class Topic {
    private Topic() {}

    /** The first matching record, waiting up to two minutes. */
    static <T extends SpecificRecord> T await(FederatedDeployment d, String topic, Class<T> type, Predicate<T> match) {
        return awaitAll(d, topic, type, match, Duration.ofMinutes(2)).get(0);
    }

    /** The matching records of the first poll that has any. */
    static <T extends SpecificRecord> List<T> awaitAll(
            FederatedDeployment d, String topic, Class<T> type, Predicate<T> match, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(d, topic)) {
            while (System.nanoTime() < end) {
                List<T> found = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    decode(r.value(), type).filter(match).ifPresent(found::add);
                }
                if (!found.isEmpty()) {
                    return found;
                }
            }
        }
        throw new AssertionError("no matching " + type.getSimpleName() + " on " + topic + " within " + timeout);
    }

    /** Every matching record, reading for {@code duration}. */
    static <T extends SpecificRecord> List<T> collect(
            FederatedDeployment d, String topic, Class<T> type, Predicate<T> match, Duration duration) {
        List<T> found = new ArrayList<>();
        long end = System.nanoTime() + duration.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(d, topic)) {
            while (System.nanoTime() < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    decode(r.value(), type).filter(match).ifPresent(found::add);
                }
            }
        }
        return found;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(FederatedDeployment d, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, d.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + topic + "-" + System.nanoTime());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 64 << 20);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 << 20);
        KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        c.subscribe(List.of(topic));
        return c;
    }

    private static <T extends SpecificRecord> Optional<T> decode(byte[] v, Class<T> type) {
        try {
            return Optional.of(WireCodec.UNBOUNDED.decode(v, type));
        } catch (WireFormatException e) {
            return Optional.empty();
        }
    }
}
