package org.fedseal.aggregator;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.fedseal.aggregator.internal.AggregatorCli;
import org.fedseal.aggregator.internal.FailureInjector;
import org.fedseal.aggregator.internal.Inbound;
import org.fedseal.aggregator.internal.ModelKeySelector;
import org.fedseal.aggregator.internal.Outbound;
import org.fedseal.aggregator.internal.OutboundSerializer;
import org.fedseal.aggregator.internal.PreValidator;
import org.fedseal.aggregator.internal.RawRecordDeserializer;
import org.fedseal.aggregator.internal.RoundAggregator;

/**
 * The FedSeal aggregator Flink job: reads updates, rounds and enrollments from Kafka, validates,
 * de-duplicates, sums ciphertexts per round and publishes {@code AggregatePublished},
 * {@code UpdateAccepted} and {@code UpdateRejected} exactly once (checkpoints + Kafka transactions,
 * sources read_committed).
 *
 * <pre>{@code
 * StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
 * AggregatorJob.build(env, config);
 * env.execute("fedseal-aggregator");
 * // or, in-process:
 * try (LocalAggregator job = AggregatorJob.runLocal(config, checkpointDir)) { ... }
 * }</pre>
 */
public final class AggregatorJob {
    /** Name the job runs under. */
    public static final String JOB_NAME = "fedseal-aggregator";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AggregatorJob.class);

    private AggregatorJob() {}

    /**
     * Adds the aggregator's sources, operators and sink to {@code env} and enables checkpointing
     * (exactly-once) at the configured interval. Call {@code env.execute(...)} afterwards.
     *
     * @return the sink of the job (for further configuration, e.g. a uid prefix)
     */
    public static DataStreamSink<?> build(StreamExecutionEnvironment env, AggregatorConfig config) {
        config = withTopicRecordLimit(config);
        env.enableCheckpointing(config.checkpointIntervalMs());
        if (config.parallelism() > 0) {
            env.setParallelism(config.parallelism());
        }
        DataStream<Inbound> updates = env.fromSource(source(config, config.updatesTopic(), Inbound.UPDATE, "-updates"),
                WatermarkStrategy.noWatermarks(), "updates").uid("source-updates");
        DataStream<Inbound> rounds = env.fromSource(source(config, config.roundsTopic(), Inbound.ROUND, "-rounds"),
                WatermarkStrategy.noWatermarks(), "rounds").uid("source-rounds").setParallelism(1);
        DataStream<Inbound> enrollments = env.fromSource(
                source(config, config.enrollmentsTopic(), Inbound.ENROLLMENT, "-enrollments"),
                WatermarkStrategy.noWatermarks(), "enrollments").uid("source-enrollments").setParallelism(1);

        DataStream<Inbound> checked = updates.union(rounds)
                .process(new PreValidator(config.heParamsIds(), config.maxRecordBytes()))
                .name("pre-validate").uid("pre-validate");
        if (config.testFailAfterRecords() > 0) {
            checked = checked.map(new FailureInjector(config.testFailAfterRecords()))
                    .name("test-failure-injector").uid("test-failure-injector");
        }
        BroadcastStream<Inbound> enrolled = enrollments.broadcast(RoundAggregator.ENROLLMENTS);
        DataStream<Outbound> results = checked.keyBy(new ModelKeySelector())
                .connect(enrolled)
                .process(new RoundAggregator(config))
                .name("aggregate").uid("aggregate");
        return results.sinkTo(sink(config)).name("kafka-sink").uid("kafka-sink");
    }

    /**
     * Lowers {@code max.output.record.bytes} to the aggregates topic's {@code max.message.bytes}, so
     * that an aggregate too large for the topic is published as FAILED_TOO_LARGE instead of failing
     * the job on every replay. Keeps the configured value if the topic cannot be described yet.
     */
    static AggregatorConfig withTopicRecordLimit(AggregatorConfig config) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", config.bootstrapServers());
        p.setProperty("request.timeout.ms", "10000");
        p.setProperty("default.api.timeout.ms", "10000");
        try (Admin admin = Admin.create(p)) {
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, config.aggregatesTopic());
            ConfigEntry e = admin.describeConfigs(List.of(topic)).all().get(15, TimeUnit.SECONDS).get(topic)
                    .get("max.message.bytes");
            int topicMax = e == null ? Integer.MAX_VALUE : Integer.parseInt(e.value());
            if (topicMax < config.maxOutputRecordBytes()) {
                int topicLimit = topicMax - 1024; // room for the record batch's own overhead
                LOG.warn("aggregates topic {} accepts records of at most {} bytes: aggregates above that are published "
                        + "as FAILED_TOO_LARGE (raise its max.message.bytes for larger models)", config.aggregatesTopic(), topicLimit);
                return config.toBuilder().set(AggregatorConfig.MAX_OUTPUT_RECORD_BYTES, Integer.toString(topicLimit)).build();
            }
        } catch (Exception e) {
            LOG.warn("could not read the record limit of topic {} ({}); assuming max.output.record.bytes={}",
                    config.aggregatesTopic(), e.toString(), config.maxOutputRecordBytes());
        }
        return config;
    }

    private static KafkaSource<Inbound> source(AggregatorConfig config, String topic, int kind, String groupSuffix) {
        return KafkaSource.<Inbound>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(topic)
                .setGroupId(config.groupId() + groupSuffix)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new RawRecordDeserializer(kind))
                .setProperty("isolation.level", "read_committed")
                .setProperty("max.partition.fetch.bytes", Integer.toString(Math.max(config.maxRecordBytes() * 2, 1 << 20)))
                .build();
    }

    private static KafkaSink<Outbound> sink(AggregatorConfig config) {
        Properties p = new Properties();
        p.setProperty("transaction.timeout.ms", Integer.toString(config.transactionTimeoutMs()));
        p.setProperty("max.request.size", Integer.toString(config.maxOutputRecordBytes()));
        return KafkaSink.<Outbound>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setRecordSerializer(new OutboundSerializer(config.aggregatesTopic(), config.acceptedTopic(),
                        config.rejectsTopic()))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(config.transactionalIdPrefix())
                .setKafkaProducerConfig(p)
                .build();
    }

    /**
     * The Flink configuration {@link #runLocal} uses: heap state, file-system checkpoints under
     * {@code checkpointDir}, fixed-delay restart (10 attempts, 1 s), Kryo off.
     */
    public static Configuration localConfiguration(AggregatorConfig config, Path checkpointDir) {
        Map<String, String> m = new HashMap<>();
        m.put("state.backend.type", "hashmap");
        m.put("execution.checkpointing.storage", "filesystem");
        m.put("execution.checkpointing.dir", checkpointDir.toUri().toString());
        m.put("execution.checkpointing.interval", config.checkpointIntervalMs() + " ms");
        // Kept when the job is cancelled, so a restarted job can resume from it (runLocal(..., true)).
        m.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        m.put("restart-strategy.type", "fixed-delay");
        m.put("restart-strategy.fixed-delay.attempts", "10");
        m.put("restart-strategy.fixed-delay.delay", "1 s");
        m.put("pipeline.generic-types", "false");
        m.put("rest.bind-port", "0");
        m.put("taskmanager.numberOfTaskSlots", Integer.toString(Math.max(4, config.parallelism())));
        return Configuration.fromMap(m);
    }

    /**
     * Runs the job in an in-process Flink MiniCluster (the demo and the integration tests) and
     * returns once it is submitted. Close the handle to cancel the job and stop the cluster.
     *
     * @param checkpointDir where checkpoints go (created if needed)
     */
    public static LocalAggregator runLocal(AggregatorConfig config, Path checkpointDir) throws Exception {
        return runLocal(config, checkpointDir, false);
    }

    /**
     * Like {@link #runLocal(AggregatorConfig, Path)}; with {@code resume}, the job restores its state
     * (running sums, buffered chunks, seen updates) and Kafka offsets from the newest completed
     * checkpoint under {@code checkpointDir}, as after a crash of the process that ran it.
     */
    public static LocalAggregator runLocal(AggregatorConfig config, Path checkpointDir, boolean resume) throws Exception {
        java.nio.file.Files.createDirectories(checkpointDir);
        Configuration conf = localConfiguration(config, checkpointDir);
        if (resume) {
            latestCheckpoint(checkpointDir).ifPresent(chk -> {
                LOG.info("resuming from checkpoint {}", chk);
                conf.setString("execution.state-recovery.path", chk.toUri().toString());
            });
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        build(env, config);
        JobClient client = env.executeAsync(JOB_NAME);
        return new LocalAggregator(client, checkpointDir);
    }

    /** The newest completed checkpoint ({@code <job id>/chk-N} with its {@code _metadata}) under {@code dir}. */
    static java.util.Optional<Path> latestCheckpoint(Path dir) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(dir, 3)) {
            return files.filter(p -> p.getFileName().toString().startsWith("chk-"))
                    .filter(p -> java.nio.file.Files.exists(p.resolve("_metadata")))
                    .max(java.util.Comparator.comparingLong((Path p) -> p.toFile().lastModified())
                            .thenComparingInt(p -> Integer.parseInt(p.getFileName().toString().substring(4))));
        }
    }

    /** Command line entry point: {@code --help} lists the options. */
    public static void main(String[] args) {
        System.exit(AggregatorCli.run(args));
    }
}
