package org.fedseal.coordinator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;

/**
 * Reads one record type from one topic (read_committed, from the start), as clients learn of rounds
 * and the combiner of aggregates and decryption shares. Records that do not decode are skipped:
 * the aggregator and the registry are the ones that judge and report them.
 */
public final class TopicFeed<T extends SpecificRecord> implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Class<T> type;
    private final String topic;

    public TopicFeed(String bootstrapServers, String topic, Class<T> type) {
        this.type = type;
        this.topic = topic;
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "fedseal-demo-" + topic + "-" + System.nanoTime());
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 64 << 20);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 << 20);
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topic));
    }

    /** The first record matching {@code match} from here on. */
    public T await(Predicate<T> match, Duration timeout) {
        return await(match, 1, timeout).get(0);
    }

    /** The next {@code count} records matching {@code match}. */
    public List<T> await(Predicate<T> match, int count, Duration timeout) {
        List<T> found = new ArrayList<>();
        long end = System.nanoTime() + timeout.toNanos();
        while (found.size() < count) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("only " + found.size() + " of " + count + " expected "
                        + type.getSimpleName() + " records on " + topic + " within " + timeout);
            }
            for (T record : poll(Duration.ofMillis(200))) {
                if (match.test(record) && found.size() < count) {
                    found.add(record);
                }
            }
        }
        return found;
    }

    /** The records that arrive within {@code wait}, in topic order. */
    public List<T> poll(Duration wait) {
        List<T> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(wait)) {
            try {
                out.add(WireCodec.UNBOUNDED.decode(r.value(), type));
            } catch (WireFormatException e) {
                // not ours to judge
            }
        }
        return out;
    }

    @Override
    public void close() {
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
    }
}
