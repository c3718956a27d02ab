package org.fedseal.aggregator.internal;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Wraps Kafka records as {@link Inbound} without decoding anything: it cannot throw on bad input. */
public final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<Inbound> {
    private static final long serialVersionUID = 1L;
    private final int source;

    public RawRecordDeserializer(int source) {
        this.source = source;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Inbound> out) {
        Inbound in = new Inbound();
        in.source = source;
        in.key = record.key();
        in.value = record.value() == null ? new byte[0] : record.value();
        in.origin = record.topic() + "-" + record.partition() + "@" + record.offset();
        out.collect(in);
    }

    @Override
    public TypeInformation<Inbound> getProducedType() {
        return TypeInformation.of(Inbound.class);
    }
}
