package org.fedseal.registry.internal;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.protocol.wire.KeyCeremonyEnvelope;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.protocol.wire.UpdateRejected;
import org.fedseal.registry.RegistryConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's Kafka side: an idempotent producer for RoundOpened, ClientEnrolled,
 * KeyCeremonyOpened and ModelVersionPublished, and one consumer thread
 * ({@code isolation.level=read_committed}) for aggregates, accepted and rejected updates, key
 * ceremony messages, decryption shares and (when archiving) the updates topic. Offsets are
 * committed after a batch is stored, so every record is processed at least once; the service's
 * ingestion is idempotent.
 */
public final class KafkaBridge implements EventPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaBridge.class);
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final RegistryService service;
    private final RegistryConfig config;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    /** Connects to {@code config}'s bootstrap servers and starts consuming. */
    public KafkaBridge(RegistryConfig config, RegistryService service) {
        this.config = config;
        this.service = service;
        String bootstrap = config.get(RegistryConfig.KAFKA_BOOTSTRAP);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "fedseal-registry-producer");
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, config.get(RegistryConfig.KAFKA_GROUP));
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(16 << 20));
        c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(64 << 20));
        c.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "5000");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "fedseal-registry-consumer");
        consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<String> topics = new java.util.ArrayList<>(List.of(
                config.get(RegistryConfig.TOPIC_AGGREGATES),
                config.get(RegistryConfig.TOPIC_AGGREGATE_CHUNKS),
                config.get(RegistryConfig.TOPIC_ACCEPTED),
                config.get(RegistryConfig.TOPIC_REJECTS),
                config.get(RegistryConfig.TOPIC_KEY_CEREMONY),
                config.get(RegistryConfig.TOPIC_DECRYPTION_SHARES)));
        if (config.getBoolean(RegistryConfig.ARCHIVE_UPDATES)) {
            topics.add(config.get(RegistryConfig.TOPIC_UPDATES));
        }
        consumer.subscribe(topics);
        thread = new Thread(this::run, "fedseal-registry-kafka");
        thread.setDaemon(true);
        thread.start();
        LOG.info("consuming {} from {}", topics, bootstrap);
    }

    private void run() {
        try {
            while (running.get()) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    handle(r);
                }
                if (!batch.isEmpty()) {
                    consumer.commitSync();
                }
            }
        } catch (WakeupException e) {
            if (running.get()) {
                LOG.error("unexpected wakeup", e);
            }
        } catch (RuntimeException e) {
            LOG.error("Kafka consumer stopped: {}", e.toString(), e);
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
        }
    }

    private void handle(ConsumerRecord<byte[], byte[]> r) {
        String topic = r.topic();
        try {
            if (topic.equals(config.get(RegistryConfig.TOPIC_AGGREGATES))) {
                service.onAggregate(RegistryService.LARGE.decode(r.value(), AggregatePublished.class));
            } else if (topic.equals(config.get(RegistryConfig.TOPIC_AGGREGATE_CHUNKS))) {
                service.onAggregateChunkSum(RegistryService.LARGE.decode(r.value(), AggregateChunkSum.class));
            } else if (topic.equals(config.get(RegistryConfig.TOPIC_ACCEPTED))) {
                service.onAccepted(WireCodec.DEFAULT.decode(r.value(), UpdateAccepted.class));
            } else if (topic.equals(config.get(RegistryConfig.TOPIC_REJECTS))) {
                service.onRejected(WireCodec.DEFAULT.decode(r.value(), UpdateRejected.class));
            } else if (topic.equals(config.get(RegistryConfig.TOPIC_KEY_CEREMONY))) {
                service.onKeyCeremony(WireCodec.DEFAULT.decode(r.value(), KeyCeremonyEnvelope.class));
            } else if (topic.equals(config.get(RegistryConfig.TOPIC_DECRYPTION_SHARES))) {
                service.onDecryptionShares(RegistryService.LARGE.decode(r.value(), DecryptionSharesPublished.class));
            } else if (topic.equals(config.get(RegistryConfig.TOPIC_UPDATES))) {
                service.onUpdateEnvelope(RegistryService.LARGE.decode(r.value(), UpdateEnvelope.class));
            }
        } catch (WireFormatException | IllegalArgumentException e) {
            LOG.warn("skipping malformed record {}-{}@{}: {}", topic, r.partition(), r.offset(), e.getMessage());
        }
    }

    @Override
    public boolean publish(String topic, byte[] key, SpecificRecord value) {
        try {
            producer.send(new ProducerRecord<>(topic, key, WireCodec.UNBOUNDED.encode(value)))
                    .get(30, TimeUnit.SECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted publishing to " + topic, e);
        } catch (Exception e) {
            throw new IllegalStateException("publishing to " + topic + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean enabled() {
        return true;
    }

    @Override
    public void close() {
        running.set(false);
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }
}
