package org.fedseal.registry.internal;

import org.apache.avro.specific.SpecificRecord;

/** Where the registry publishes records (Kafka, or nowhere). */
public interface EventPublisher extends AutoCloseable {
    /** Publishes {@code value} on {@code topic} under {@code key}; returns true once acknowledged. */
    boolean publish(String topic, byte[] key, SpecificRecord value);

    /** True if records actually leave the process. */
    boolean enabled();

    @Override
    void close();

    /** A publisher that drops everything (Kafka disabled). */
    EventPublisher NONE = new EventPublisher() {
        @Override
        public boolean publish(String topic, byte[] key, SpecificRecord value) {
            return false;
        }

        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public void close() {}
    };
}
