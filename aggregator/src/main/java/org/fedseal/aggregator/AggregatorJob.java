package org.fedseal.aggregator;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.fedseal.aggregator.internal.ChunkSummer;
import org.fedseal.aggregator.internal.FailureInjector;
import org.fedseal.aggregator.internal.Inbound;
import org.fedseal.aggregator.internal.ManifestAssembler;
import org.fedseal.aggregator.internal.ManifestPart;
import org.fedseal.aggregator.internal.ModelKeySelector;
import org.fedseal.aggregator.internal.Outbound;
import org.fedseal.aggregator.internal.OutboundSerializer;
import org.fedseal.aggregator.internal.PreValidator;
import org.fedseal.aggregator.internal.RawRecordDeserializer;
import org.fedseal.aggregator.internal.RoundKeeper;
import org.fedseal.aggregator.internal.ShardKeySelector;
import org.fedseal.aggregator.internal.ShardKeys;

/**
 * The FedSeal aggregator Flink job: reads updates, rounds and enrollments from Kafka, validates,
 * de-duplicates, sums ciphertexts per chunk and publishes each round's aggregate as
 * {@code AggregateChunkSum} records plus a signed {@code AggregatePublished} manifest, with
 * {@code UpdateAccepted} and {@code UpdateRejected}, exactly once (checkpoints + Kafka
 * transactions, sources read_committed).
 *
 * <h2>Topology</h2>
 * <pre>
 *  updates → pre-validate (parallel, in the source's task: decode, shape, SEAL's validating load, hashes)
 *  rounds → pre-validate-rounds (decode)
 *     ├─ chunk bytes ────────────────────────────────────────────┐ keyBy shard
 *     └─ receipts, commits, rounds → keyBy model: round-keeper ──→ fold / drop / close → chunk-summer (every slot)
 *           (round rules, no ciphertext) │ accepted, rejects       │ chunk sums
 *                                        └ unsigned manifest → keyBy round: manifest-assembler ← chunk-sum hashes
 *                                                                   │ signed manifest
 *  every output → one exactly-once Kafka sink
 * </pre>
 * One model's round spreads its chunk sums evenly over all subtasks ({@code ShardKeys}); no
 * record grows with the model.
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
        env.enableCheckpointing(config.checkpointIntervalMs());
        if (config.parallelism() > 0) {
            env.setParallelism(config.parallelism());
        }
        DataStream<Inbound> updates = env.fromSource(
                        source(config, config.updatesTopic(), Inbound.UPDATE, "-updates"),
                        WatermarkStrategy.noWatermarks(),
                        "updates")
                .uid("source-updates");
        DataStream<Inbound> rounds = env.fromSource(
                        source(config, config.roundsTopic(), Inbound.ROUND, "-rounds"),
                        WatermarkStrategy.noWatermarks(),
                        "rounds")
                .uid("source-rounds")
                .setParallelism(1);
        DataStream<Inbound> enrollments = env.fromSource(
                        source(config, config.enrollmentsTopic(), Inbound.ENROLLMENT, "-enrollments"),
                        WatermarkStrategy.noWatermarks(),
                        "enrollments")
                .uid("source-enrollments")
                .setParallelism(1);

        // Updates are pre-validated in the source's own task (chained: a ~790 KB record is handed over
        // by reference, not copied through a network buffer); rounds, few and small, on their own.
        SingleOutputStreamOperator<Inbound> prevalidated = updates.process(
                        new PreValidator(config.heParamsIds(), config.maxRecordBytes()))
                .name("pre-validate")
                .uid("pre-validate");
        DataStream<Inbound> roundsChecked = rounds.process(
                        new PreValidator(config.heParamsIds(), config.maxRecordBytes()))
                .name("pre-validate-rounds")
                .uid("pre-validate-rounds")
                .setParallelism(1);
        DataStream<Inbound> checked = prevalidated.union(roundsChecked);
        if (config.testFailAfterRecords() > 0) {
            checked = checked.map(new FailureInjector(config.testFailAfterRecords()))
                    .name("test-failure-injector")
                    .uid("test-failure-injector");
        }
        BroadcastStream<Inbound> enrolled = enrollments.broadcast(RoundKeeper.ENROLLMENTS);
        SingleOutputStreamOperator<Outbound> kept = checked.keyBy(new ModelKeySelector())
                .connect(enrolled)
                .process(new RoundKeeper(config))
                .name("round-keeper")
                .uid("round-keeper")
                .setMaxParallelism(config.maxParallelism());

        int parallelism = config.parallelism() > 0 ? config.parallelism() : env.getParallelism();
        ShardKeys shards = new ShardKeys(parallelism, config.maxParallelism());
        SingleOutputStreamOperator<Outbound> summed = prevalidated
                .getSideOutput(PreValidator.CHUNKS)
                .keyBy(new ShardKeySelector.OfPayload(shards), Types.INT)
                .connect(kept.getSideOutput(RoundKeeper.DECISIONS)
                        .keyBy(new ShardKeySelector.OfDecision(shards), Types.INT))
                .process(new ChunkSummer(config))
                .name("chunk-summer")
                .uid("chunk-summer")
                .setParallelism(parallelism)
                .setMaxParallelism(config.maxParallelism());
        SingleOutputStreamOperator<Outbound> manifests = kept.getSideOutput(RoundKeeper.MANIFESTS)
                .union(summed.getSideOutput(ChunkSummer.CHUNK_SUMS))
                .keyBy(new ManifestPart.RoundKeySelector(), Types.STRING)
                .process(new ManifestAssembler(config))
                .name("manifest-assembler")
                .uid("manifest-assembler")
                .setMaxParallelism(config.maxParallelism());
        return kept.union(summed, manifests)
                .sinkTo(sink(config))
                .name("kafka-sink")
                .uid("kafka-sink");
    }

    // The Kafka connector (5.0.0-2.2) takes only the deprecated OffsetResetStrategy.
    @SuppressWarnings("deprecation")
    private static KafkaSource<Inbound> source(AggregatorConfig config, String topic, int kind, String groupSuffix) {
        return KafkaSource.<Inbound>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(topic)
                .setGroupId(config.groupId() + groupSuffix)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new RawRecordDeserializer(kind))
                .setProperty("isolation.level", "read_committed")
                // large fetches: a chunk record is up to 1 MiB, and every fetch round trip costs both sides CPU
                .setProperty(
                        "max.partition.fetch.bytes", Integer.toString(Math.max(config.maxRecordBytes() * 2, 8 << 20)))
                .build();
    }

    private static KafkaSink<Outbound> sink(AggregatorConfig config) {
        Properties p = new Properties();
        p.setProperty("transaction.timeout.ms", Integer.toString(config.transactionTimeoutMs()));
        p.setProperty("max.request.size", Integer.toString(config.maxOutputRecordBytes()));
        return KafkaSink.<Outbound>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setRecordSerializer(new OutboundSerializer(
                        config.aggregatesTopic(),
                        config.aggregateChunksTopic(),
                        config.acceptedTopic(),
                        config.rejectsTopic()))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(config.transactionalIdPrefix())
                .setKafkaProducerConfig(p)
                .build();
    }

    /**
     * The Flink configuration {@link #runLocal} uses: the configured state backend (heap, or RocksDB
     * with incremental checkpoints), file-system checkpoints under {@code checkpointDir},
     * fixed-delay restart (10 attempts, 1 s), Kryo off; then every {@code flink.*} key of the config
     * (e.g. {@code flink.metrics.reporter.x.factory.class}) without its prefix.
     */
    public static Configuration localConfiguration(AggregatorConfig config, Path checkpointDir) {
        Map<String, String> m = new HashMap<>();
        m.put("state.backend.type", config.stateBackend());
        if ("rocksdb".equals(config.stateBackend())) {
            m.put("execution.checkpointing.incremental", "true");
        }
        m.put("execution.checkpointing.storage", "filesystem");
        m.put("execution.checkpointing.dir", checkpointDir.toUri().toString());
        m.put("execution.checkpointing.interval", config.checkpointIntervalMs() + " ms");
        // Kept when the job is cancelled, so a restarted job can resume from it (runLocal(..., true)).
        m.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        m.put("restart-strategy.type", "fixed-delay");
        m.put("restart-strategy.fixed-delay.attempts", "10");
        m.put("restart-strategy.fixed-delay.delay", "1 s");
        m.put("pipeline.generic-types", "false");
        // no defensive copies of records between chained operators (none keeps a reference to its input)
        m.put("pipeline.object-reuse", "true");
        // a chunk record is ~790 KB: with Flink's 32 KB network buffers it crosses a channel in lock-step
        m.put("taskmanager.memory.segment-size", "256kb");
        // ... and Flink's 64 MB of local network memory is then too few buffers for the channels at parallelism 2
        m.put("taskmanager.memory.network.min", "128mb");
        m.put("taskmanager.memory.network.max", "128mb");
        m.put("rest.bind-port", "0");
        m.put("taskmanager.numberOfTaskSlots", Integer.toString(Math.max(4, config.parallelism())));
        m.putAll(config.flinkSettings());
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
    public static LocalAggregator runLocal(AggregatorConfig config, Path checkpointDir, boolean resume)
            throws Exception {
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
                    .max(java.util.Comparator.comparingLong(
                                    (Path p) -> p.toFile().lastModified())
                            .thenComparingInt(p ->
                                    Integer.parseInt(p.getFileName().toString().substring(4))));
        }
    }
}
