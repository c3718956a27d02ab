/**
 * JUnit 5 support: one {@link org.fedseal.kafkalocal.LocalKafkaBroker} per test JVM, shared by all test classes.
 * Needs junit-jupiter-api on the classpath (kafka-local declares it optional).
 */
package org.fedseal.kafkalocal.junit;
