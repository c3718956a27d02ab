package org.fedseal.protocol.archfixture;

import org.apache.kafka.common.TopicPartition;
import org.fedseal.aggregator.internal.ShardKeys;
import org.fedseal.protocol.archfixture.internal.Helper;
import org.fedseal.registry.RegistryClient;

/**
 * Test fixture for {@code ArchitectureTest}: a class in an fl-protocol package that depends on the
 * registry (upwards), on the aggregator's internals and on a Kafka type, and forms an import cycle
 * with its own internal {@link Helper}. Never used at run time.
 */
public final class RuleBreaker {
    private RuleBreaker() {}

    /** Called back by {@link Helper}. */
    public static String name() {
        return "breaker";
    }

    static String breakAll(RegistryClient registry, TopicPartition tp) {
        return registry + " " + tp + " " + ShardKeys.class.getName() + Helper.help();
    }
}
