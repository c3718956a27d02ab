package org.fedseal.aggregator.internal;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Routes {@link Outbound} records to the configured topics. */
public final class OutboundSerializer implements KafkaRecordSerializationSchema<Outbound> {
    private static final long serialVersionUID = 1L;
    private final String aggregates;
    private final String aggregateChunks;
    private final String accepted;
    private final String rejects;

    public OutboundSerializer(String aggregates, String aggregateChunks, String accepted, String rejects) {
        this.aggregates = aggregates;
        this.aggregateChunks = aggregateChunks;
        this.accepted = accepted;
        this.rejects = rejects;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(Outbound o, KafkaSinkContext context, Long timestamp) {
        String topic = switch (o.topic) {
            case Outbound.AGGREGATE -> aggregates;
            case Outbound.AGGREGATE_CHUNK -> aggregateChunks;
            case Outbound.ACCEPTED -> accepted;
            default -> rejects;
        };
        return new ProducerRecord<>(topic, o.key, o.value);
    }
}
