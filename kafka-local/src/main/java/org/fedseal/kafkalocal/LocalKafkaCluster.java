package org.fedseal.kafkalocal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real multi-node Kafka cluster (KRaft, every node a combined broker+controller, static quorum of
 * all nodes), each node its own JVM process, as {@link LocalKafkaBroker} starts one. Internal topics
 * (consumer offsets, transaction state) get replication factor {@code min(3, n)} and
 * {@code min.insync.replicas} {@code min(2, n)}, and so do topics made by {@link #createTopics}: with
 * three nodes any one may die and every acknowledged ({@code acks=all}) record survives.
 *
 * <pre>{@code
 * try (LocalKafkaCluster kafka = LocalKafkaCluster.start(workDir, 3)) {
 *     kafka.createTopics(Map.of("updates", 2));     // replication factor 3, min.insync.replicas 2
 *     kafka.kill(1);                                // kill -9 of node 2
 *     kafka.restart(1);                             // back on its storage
 * }
 * }</pre>
 *
 * <p>Node {@code i} lives in {@code <workDir>/node-<i+1>} (its {@code broker.log} there). {@link
 * #close()} stops every node; the same shutdown hooks and parent watchdogs as a single broker apply.
 */
public final class LocalKafkaCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalKafkaCluster.class);

    private final List<LocalKafkaBroker> nodes;
    private final String bootstrapServers;
    private final int replicationFactor;
    private final int minInsyncReplicas;

    private LocalKafkaCluster(List<LocalKafkaBroker> nodes, String bootstrapServers) {
        this.nodes = nodes;
        this.bootstrapServers = bootstrapServers;
        this.replicationFactor = Math.min(3, nodes.size());
        this.minInsyncReplicas = Math.min(2, nodes.size());
    }

    /**
     * Starts {@code n} nodes with default options under {@code workDir} and waits until all of them are
     * in the cluster.
     *
     * @param workDir the cluster's work directory (one sub-directory per node; storage wiped)
     * @param n       number of nodes, e.g. 3
     * @return the running cluster
     */
    public static LocalKafkaCluster start(Path workDir, int n) {
        return start(workDir, n, LocalKafkaBroker.builder());
    }

    /**
     * Starts {@code n} nodes, each with the options of {@code options} (heap, broker properties, JVM
     * arguments, transaction version, timeouts; its work directory is ignored).
     *
     * @param workDir the cluster's work directory
     * @param n       number of nodes
     * @param options options for every node
     * @return the running cluster
     * @throws IllegalStateException if the nodes do not form a cluster in time
     */
    public static LocalKafkaCluster start(Path workDir, int n, LocalKafkaBroker.Builder options) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1");
        }
        LocalKafkaBroker.Builder config = options.copy();
        int[] ports = LocalKafkaBroker.freePorts(2 * n);
        String voters = java.util.stream.IntStream.range(0, n)
                .mapToObj(i -> (i + 1) + "@127.0.0.1:" + ports[2 * i + 1])
                .collect(Collectors.joining(","));
        String clusterId = Uuid.randomUuid().toString();
        List<LocalKafkaBroker> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                Path dir = workDir.resolve("node-" + (i + 1));
                Files.createDirectories(dir);
                nodes.add(LocalKafkaBroker.startMember(
                        config,
                        dir,
                        new LocalKafkaBroker.ClusterMember(
                                i + 1, ports[2 * i], ports[2 * i + 1], voters, clusterId, n)));
            }
            String bootstrap = java.util.stream.IntStream.range(0, n)
                    .mapToObj(i -> "127.0.0.1:" + ports[2 * i])
                    .collect(Collectors.joining(","));
            LocalKafkaCluster cluster = new LocalKafkaCluster(nodes, bootstrap);
            long deadline = System.nanoTime() + config.startupTimeoutNanos();
            for (LocalKafkaBroker node : nodes) {
                node.awaitPortOpen(deadline);
            }
            cluster.awaitNodes(n, deadline);
            LOG.info("Kafka cluster of {} nodes ready on {} (work dir {})", n, bootstrap, workDir);
            return cluster;
        } catch (IOException e) {
            nodes.forEach(LocalKafkaBroker::close);
            throw new UncheckedIOException("Cannot prepare " + workDir, e);
        } catch (RuntimeException e) {
            nodes.forEach(LocalKafkaBroker::close);
            throw e;
        }
    }

    /**
     * Returns every node's {@code host:port}, comma-separated, for {@code bootstrap.servers}.
     *
     * @return the bootstrap addresses
     */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /**
     * Returns the nodes, in node id order (node id = index + 1).
     *
     * @return the nodes
     */
    public List<LocalKafkaBroker> nodes() {
        return List.copyOf(nodes);
    }

    /**
     * Kills node {@code index} with SIGKILL ({@code kill -9}): no clean shutdown, as a crash.
     *
     * @param index 0-based node index
     * @return the killed pid
     */
    public long kill(int index) {
        LocalKafkaBroker node = nodes.get(index);
        long pid = node.pid();
        node.kill();
        LOG.info("killed Kafka node {} (pid {}, SIGKILL)", index + 1, pid);
        return pid;
    }

    /**
     * Starts node {@code index} again on its storage and ports (after {@link #kill(int)}) and waits
     * until the cluster has all its nodes again.
     *
     * @param index 0-based node index
     */
    public void restart(int index) {
        LocalKafkaBroker node = nodes.get(index);
        node.restart();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        node.awaitPortOpen(deadline);
        awaitNodes(nodes.size(), deadline);
    }

    /**
     * Creates topics with replication factor {@code min(3, n)} and {@code min.insync.replicas}
     * {@code min(2, n)} plus {@code configs}, and waits until every partition has a leader and a full
     * in-sync replica set. Existing topics are left as they are.
     *
     * @param nameToPartitions topic name to number of partitions
     * @param configs          extra topic configs for every topic (e.g. {@code max.message.bytes})
     */
    public void createTopics(Map<String, Integer> nameToPartitions, Map<String, String> configs) {
        Map<String, String> all = new LinkedHashMap<>(configs);
        all.put("min.insync.replicas", Integer.toString(minInsyncReplicas));
        List<NewTopic> topics = nameToPartitions.entrySet().stream()
                .map(e -> new NewTopic(e.getKey(), e.getValue(), (short) replicationFactor).configs(all))
                .collect(Collectors.toList());
        try (Admin admin = LocalKafkaBroker.newAdmin(bootstrapServers)) {
            for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> r :
                    admin.createTopics(topics).values().entrySet()) {
                try {
                    r.getValue().get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException(
                                "Could not create topic " + r.getKey() + ": " + e.getCause(), e.getCause());
                    }
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try {
                    Map<String, TopicDescription> d = admin.describeTopics(nameToPartitions.keySet())
                            .allTopicNames()
                            .get(10, TimeUnit.SECONDS);
                    if (d.values().stream()
                            .flatMap(t -> t.partitions().stream())
                            .allMatch(this::healthy)) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // metadata still propagating
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "topics " + nameToPartitions.keySet() + " not fully replicated in time");
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException | TimeoutException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("creating topics " + nameToPartitions.keySet() + ": " + e, e);
        }
    }

    private boolean healthy(TopicPartitionInfo p) {
        return p.leader() != null && !p.leader().isEmpty() && p.isr().size() == replicationFactor;
    }

    private void awaitNodes(int n, long deadline) {
        try (Admin admin = LocalKafkaBroker.newAdmin(bootstrapServers)) {
            while (true) {
                try {
                    Set<Integer> ids = admin
                            .describeCluster(new DescribeClusterOptions().timeoutMs(3_000))
                            .nodes()
                            .get(4, TimeUnit.SECONDS)
                            .stream()
                            .map(org.apache.kafka.common.Node::id)
                            .collect(Collectors.toSet());
                    if (ids.size() >= n) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // no quorum yet
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Kafka cluster: fewer than " + n + " nodes up in time; logs: "
                            + nodes.stream().map(b -> b.logFile().toString()).collect(Collectors.joining(", ")));
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the Kafka cluster", e);
        }
    }

    /** Stops every node (SIGTERM, then SIGKILL after the grace period). Idempotent. */
    @Override
    public void close() {
        // Brokers stop faster in parallel: a lone survivor waits for its controller quorum otherwise.
        nodes.parallelStream().forEach(LocalKafkaBroker::close);
    }

    @Override
    public String toString() {
        return "LocalKafkaCluster[" + bootstrapServers + "]";
    }
}
