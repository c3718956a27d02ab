/**
 * A real single-node Kafka broker in its own JVM process, for tests, integration tests and the demo.
 * Start with {@link org.fedseal.kafkalocal.LocalKafkaBroker}; tests can share one broker per JVM with
 * {@link org.fedseal.kafkalocal.junit.SharedKafkaBroker}.
 */
package org.fedseal.kafkalocal;
