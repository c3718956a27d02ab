package org.fedseal.coordinator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.fedseal.protocol.Topics;

/**
 * FedSeal's Kafka topics as a deployment creates them: partition counts, record limits and
 * clean-up policies, with the replication a cluster asks for. Every service that reads aggregates
 * raises its fetch sizes to {@link #MAX_MESSAGE_BYTES}.
 */
public final class FedsealTopics {
    /** Record limit of every topic: an aggregate carries every summed ciphertext (~131 KB each). */
    public static final String MAX_MESSAGE_BYTES = Integer.toString(64 << 20);

    private FedsealTopics() {}

    /** Partitions per topic, in creation order. */
    public static Map<String, Integer> partitions() {
        Map<String, Integer> partitions = new LinkedHashMap<>();
        partitions.put(Topics.ROUNDS, 1);
        partitions.put(Topics.UPDATES, 2);
        partitions.put(Topics.ENROLLMENTS, 1);
        partitions.put(Topics.ACCEPTED, 1);
        partitions.put(Topics.AGGREGATES, 1);
        partitions.put(Topics.AGGREGATE_CHUNKS, 2);
        partitions.put(Topics.REJECTS, 1);
        partitions.put(Topics.MODEL_VERSIONS, 1);
        partitions.put(Topics.DECRYPTION_SHARES, 1);
        return partitions;
    }

    /**
     * Creates the topics that do not exist yet (existing ones are left as they are).
     *
     * @param replicationFactor replicas per partition (1 on a single broker)
     * @param extraConfig further topic settings for every topic, e.g. {@code min.insync.replicas}
     */
    public static void create(String bootstrapServers, short replicationFactor, Map<String, String> extraConfig)
            throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> topics = new ArrayList<>();
            partitions().forEach((name, n) -> {
                if (!existing.contains(name)) {
                    Map<String, String> config = new LinkedHashMap<>(extraConfig);
                    config.put("max.message.bytes", MAX_MESSAGE_BYTES);
                    config.put("cleanup.policy", name.equals(Topics.ENROLLMENTS) ? "compact" : "delete");
                    topics.add(new NewTopic(name, n, replicationFactor).configs(config));
                }
            });
            admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
        }
    }
}
