package org.fedseal.aggregator.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.aggregator.AggregatorConfig;
import org.fedseal.aggregator.AggregatorJob;
import org.fedseal.aggregator.LocalAggregator;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.he.Packing;
import org.fedseal.he.VectorEncryptor;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.ClientEnrolled;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateEnvelope;

/**
 * Throughput of the aggregator job on a real local broker next to the single-thread ceiling one
 * of its slots can reach, all in one run. Not a test: run
 * {@code ./fedseal bench aggregator [--json] [--jfr FILE] [updates] [ciphertextsPerUpdate]}
 * ({@code --help} explains the options).
 *
 * <p>One round of {@code updates} signed, chunked updates is produced to the updates topic (every
 * client sends the same ciphertexts; encryption is the client's cost and not measured). Then, on
 * that topic's records (the bytes the job reads), {@link StageRates} measures, one thread each,
 * the stages every update needs: Kafka fetch, Avro decode, SHA-256 of the chunk, he-native's
 * validating load and the modular add; then the same stages chained in one thread, record by
 * record: the <em>chained single-thread ceiling</em>. A slot has one core and must do at least
 * this work per byte, so no job reaches more than this rate per slot; everything the job does
 * beyond it is overhead that a better job can remove. Then the Flink job
 * ({@link AggregatorJob#runLocal}, a MiniCluster in this JVM) sums {@code --warmup-rounds} rounds
 * and then {@code --rounds} measured rounds at parallelism 1 and, on a copy of the topics, as many
 * at parallelism 2. The warm-up rounds are readable when the job starts; the measured rounds are
 * written before, in one Kafka transaction that the bench commits once the warm-up is accepted, so
 * the job meets them warm and nothing else runs meanwhile; in between, the bench waits until the JIT
 * compiler has worked off what the warm-up queued (a fresh job's code keeps it busy for about 20 s). Rates are taken between the first and
 * the last {@code UpdateAccepted} ({@code acceptedAtEpochMillis}) of the rounds measured, back to
 * back, so start-up is excluded: the job's steady state, as the stages are measured warm (one round
 * lasts about a second, too short to average out checkpoints). The stages are measured on round 1
 * alone, before the other rounds are written. Round 1 is reported as the job's "cold" rate. The
 * report ends with the job at parallelism 1 as a share of the ceiling.
 *
 * <p>All rates are MB/s of ciphertext bytes (the serialized ciphertexts inside the chunks,
 * MB = 10^6 bytes). Reference rows, not in the chain: the chunk hash computed the generic way
 * ({@code CanonicalHash.of}: re-encode, then SHA-256), he-native load + load sum + add + save sum
 * per ciphertext (sums kept serialized between updates, as a job with heap state does), and a
 * plain Java {@code (a + b) mod p} loop over arrays of the same size (the memory-bandwidth
 * baseline). {@link MachineCpu} reports who else used the CPU while the figures were taken.
 *
 * <p>{@code --json} prints the figures as one JSON object, the only line this program writes to
 * stdout (the table and progress go to stderr). {@code --jfr FILE} records the parallelism-1 job
 * with JDK Flight Recorder and prints its profile over the measured rounds ({@link JfrProfile}); the job's
 * rate then includes the recording's overhead.
 *
 * <p>Uses only the aggregator's public API ({@link AggregatorJob#runLocal}, {@link AggregatorConfig},
 * {@link LocalAggregator}) and wire records, so it measures whatever job the module builds.
 */
public final class AggregatorBench {
    private static final HeParameters PARAMS = HeParameters.CKKS_8192;
    private static final int CIPHERTEXTS_PER_CHUNK = 6;
    /** The bench broker's record limit, and the fetch limits of its consumers. */
    private static final int MAX_MESSAGE_BYTES = 64 << 20;

    private static final String MODEL = "bench";

    private static final String USAGE = """
            Usage: ./fedseal bench aggregator [options] [updates=40] [ciphertextsPerUpdate=12]
                   aggregator/scripts/bench-aggregator.sh [options] [updates=40] [ciphertextsPerUpdate=12]

            Sums rounds of `updates` updates (ckks-8192, %d ciphertexts per chunk) with the aggregator
            Flink job at parallelism 1 and 2 on a local Kafka broker (round 1 warms the job up, the
            rounds after it are measured back to back), and measures on the same records the single-thread rate of each stage every
            update needs (Kafka fetch, Avro decode, SHA-256 of the chunk, he-native's validating load,
            modular add) and of those stages chained in one thread: the ceiling one slot can reach.
            Rates are MB/s of ciphertext bytes (MB = 10^6 bytes).

            Options:
              --json      print the figures as one JSON object: the only line this program writes to
                          stdout (the table goes to stderr)
              --warmup-rounds W  rounds summed before measuring, at each parallelism (default 6); then
                                 the bench waits until the JIT compiler is quiet
              --rounds N         rounds measured back to back after them (default 8)
              --jfr FILE  record the parallelism-1 job with JDK Flight Recorder into FILE and print its
                          profile over the measured rounds (the job's rate then includes the
                          recording's overhead)
              -h, --help  this text
            """.formatted(CIPHERTEXTS_PER_CHUNK);

    private AggregatorBench() {}

    /** The command line. */
    record Options(
            int updates, int ciphertextsPerUpdate, int warmupRounds, int rounds, boolean json, Path jfr, boolean help) {
        static Options parse(String[] args) {
            List<Integer> positional = new ArrayList<>();
            boolean json = false;
            boolean help = false;
            Path jfr = null;
            int warmupRounds = 6;
            int rounds = 8;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--json")) {
                    json = true;
                } else if (a.matches("--(warmup-)?rounds(=.*)?")) {
                    int eq = a.indexOf('=');
                    String name = eq < 0 ? a : a.substring(0, eq);
                    int n = positive(name, eq >= 0 ? a.substring(eq + 1) : ++i < args.length ? args[i] : "");
                    if (name.equals("--rounds")) {
                        rounds = n;
                    } else {
                        warmupRounds = n;
                    }
                } else if (a.equals("-h") || a.equals("--help")) {
                    help = true;
                } else if (a.equals("--jfr") || a.startsWith("--jfr=")) {
                    String v =
                            a.startsWith("--jfr=") ? a.substring("--jfr=".length()) : ++i < args.length ? args[i] : "";
                    if (v.isEmpty()) {
                        throw new IllegalArgumentException("--jfr needs a file name");
                    }
                    jfr = Path.of(v);
                } else if (a.startsWith("-")) {
                    throw new IllegalArgumentException("unknown option " + a);
                } else {
                    try {
                        positional.add(Integer.parseInt(a));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("not a number: " + a);
                    }
                }
            }
            if (positional.size() > 2) {
                throw new IllegalArgumentException("at most two numbers: updates and ciphertexts per update");
            }
            int updates = positional.size() > 0 ? positional.get(0) : 40;
            int cts = positional.size() > 1 ? positional.get(1) : 12;
            if (updates < 2 || cts < 1) {
                throw new IllegalArgumentException("need at least 2 updates and 1 ciphertext per update");
            }
            return new Options(updates, cts, warmupRounds, rounds, json, jfr, help);
        }

        /** Option {@code name}'s value {@code v}: a number, at least 1. */
        private static int positive(String name, String v) {
            int n;
            try {
                n = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " needs a number, not '" + v + "'");
            }
            if (n < 1) {
                throw new IllegalArgumentException(name + " must be at least 1");
            }
            return n;
        }

        /** Every round the bench sums per parallelism. */
        int totalRounds() {
            return warmupRounds + rounds;
        }
    }

    /** The rate of one or more rounds over their measurement window (first to last {@code UpdateAccepted}). */
    record RoundRun(double updatesPerSecond, Instant firstAccepted, Instant lastAccepted) {}

    /** A bench client: enrolled once, sends one update per round. */
    private record Client(String id, SigningKeyPair key) {}

    public static void main(String[] args) throws Exception {
        Options opts;
        try {
            opts = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (opts.help()) {
            System.out.print(USAGE);
            return;
        }
        // With --json, stdout carries the JSON object alone: everything else this JVM prints goes to stderr.
        PrintStream stdout = System.out;
        if (opts.json()) {
            System.setOut(System.err);
        }
        PrintStream out = System.out;
        int cores = Runtime.getRuntime().availableProcessors();
        int vpc = PARAMS.valuesPerCiphertext(Packing.COMPLEX);
        ChunkLayout layout = Chunker.layout((long) vpc * opts.ciphertextsPerUpdate(), vpc, CIPHERTEXTS_PER_CHUNK);
        out.printf(
                "updates=%d, %d ciphertexts (%d values) per update, %d chunks of <=%d ciphertexts, %d cores%n",
                opts.updates(),
                opts.ciphertextsPerUpdate(),
                opts.ciphertextsPerUpdate() * vpc,
                layout.getChunkCount(),
                CIPHERTEXTS_PER_CHUNK,
                cores);

        Path work = Files.createTempDirectory("fedseal-agg-bench");
        try {
            run(opts, work, layout, vpc, stdout, out, cores);
        } finally {
            org.apache.flink.util.FileUtils.deleteDirectoryQuietly(work.toFile()); // the broker's logs: GBs
        }
    }

    /** Everything after parsing: the broker and every figure, in {@code work}. */
    private static void run(
            Options opts, Path work, ChunkLayout layout, int vpc, PrintStream stdout, PrintStream out, int cores)
            throws Exception {
        try (HeContext he = HeContext.create(PARAMS);
                HeKeyPair keys = he.generateKeys();
                VectorEncryptor enc = he.encryptor(keys.publicKey());
                LocalKafkaBroker kafka = LocalKafkaBroker.builder()
                        .workDir(work.resolve("kafka"))
                        .brokerProperty("message.max.bytes", Integer.toString(MAX_MESSAGE_BYTES))
                        .start();
                MachineCpu cpu = new MachineCpu(kafka.pid())) {
            List<byte[]> cts = encryptRandom(enc, opts.ciphertextsPerUpdate(), vpc);
            long bytesPerUpdate = cts.stream().mapToLong(b -> b.length).sum();
            List<Client> clients = new ArrayList<>();
            for (int i = 0; i < opts.updates(); i++) {
                clients.add(new Client("client-" + i, SigningKeyPair.generate()));
            }

            Stages stages = null;
            long stagesFrom = 0;
            long stagesTo = 0;
            Map<Integer, List<RoundRun>> job = new java.util.TreeMap<>();
            // every topic before the first record: an idempotent producer racing a topic's creation
            // can wedge on OutOfOrderSequenceException
            for (int parallelism : new int[] {1, 2}) {
                createTopics(kafka, "bench" + parallelism);
            }
            for (int parallelism : new int[] {1, 2}) {
                String prefix = "bench" + parallelism;
                try (KafkaProducer<byte[], byte[]> producer = producer(kafka, null)) {
                    enroll(producer, prefix, clients);
                    produceRound(producer, prefix, 1, clients, layout, cts);
                    producer.flush();
                    if (parallelism == 1) {
                        String topic = topic(prefix, AggregatorConfig.TOPIC_UPDATES);
                        out.println("measuring the stages on round 1 of " + topic + " ...");
                        stagesFrom = System.currentTimeMillis();
                        stages = measureStages(kafka, topic, he, layout, bytesPerUpdate, opts.updates());
                        stagesTo = System.currentTimeMillis();
                        System.gc(); // the stages' copies of the topic are garbage now: keep their collection out of
                        // the job's window
                    }
                    for (int round = 2; round <= opts.warmupRounds(); round++) {
                        produceRound(producer, prefix, round, clients, layout, cts);
                    }
                    producer.flush();
                }
                // The measured rounds wait, written but uncommitted (the job reads read_committed), until the warm-up
                // is accepted.
                try (KafkaProducer<byte[], byte[]> held = producer(kafka, prefix + "-bench-held")) {
                    held.initTransactions();
                    held.beginTransaction();
                    for (int round = opts.warmupRounds() + 1; round <= opts.totalRounds(); round++) {
                        produceRound(held, prefix, round, clients, layout, cts);
                    }
                    held.flush();
                    boolean profiled = parallelism == 1 && opts.jfr() != null;
                    try (JfrProfile profile = profiled ? JfrProfile.start(opts.jfr()) : null) {
                        job.put(
                                parallelism,
                                runJob(
                                        kafka,
                                        work,
                                        prefix,
                                        parallelism,
                                        opts.updates(),
                                        opts.warmupRounds(),
                                        opts.totalRounds(),
                                        held,
                                        out));
                        if (profile != null) {
                            profile.stop();
                        }
                    }
                }
            }

            Thread.sleep(2 * MachineCpu.PERIOD_MILLIS); // a CPU sample after the last window
            Figures f = new Figures(
                    opts.warmupRounds(),
                    opts.totalRounds(),
                    bytesPerUpdate,
                    stages,
                    mbps(job.get(1).get(1), bytesPerUpdate),
                    mbps(job.get(2).get(1), bytesPerUpdate),
                    mbps(job.get(1).get(0), bytesPerUpdate),
                    mbps(job.get(2).get(0), bytesPerUpdate),
                    opts.jfr() != null,
                    Map.of(
                            "stages",
                            cpu.during(stagesFrom, stagesTo),
                            "p1",
                            cpuDuring(cpu, job.get(1).get(1)),
                            "p2",
                            cpuDuring(cpu, job.get(2).get(1))));
            f.printTable(out, opts, cores);
            if (opts.jfr() != null) {
                RoundRun measured = job.get(1).get(1);
                JfrProfile.summarise(opts.jfr(), measured.firstAccepted(), measured.lastAccepted(), cores, out);
            }
            if (opts.json()) {
                stdout.println(f.toJson(opts, cores));
                stdout.flush();
            }
        }
    }

    /** The single-thread rates in MB/s: the stages in the chain (by JSON key), their chain, and the reference rows. */
    private record Stages(Map<String, Double> stage, double ceiling, Map<String, Double> reference, long bytes) {}

    /** Measures every single-thread rate on the records of {@code topic} ({@link StageRates}). */
    private static Stages measureStages(
            LocalKafkaBroker kafka, String topic, HeContext he, ChunkLayout layout, long bytesPerUpdate, int updates)
            throws Exception {
        Map<String, Double> stage = new java.util.LinkedHashMap<>();
        Map<String, Double> reference = new java.util.LinkedHashMap<>();
        double ceiling;
        long bytes;
        try (StageRates s = new StageRates(kafka.bootstrapServers(), topic, MAX_MESSAGE_BYTES, he, layout)) {
            bytes = s.ciphertextBytes();
            if (bytes != bytesPerUpdate * updates) {
                throw new IllegalStateException(
                        topic + " holds " + bytes + " ciphertext bytes, expected " + bytesPerUpdate * updates);
            }
            stage.put("kafkaFetchMBps", s.kafkaFetch());
            stage.put("avroDecodeMBps", s.avroDecode());
            stage.put("sha256MBps", s.sha256());
            stage.put("heLoadMBps", s.heLoad());
            stage.put("heAddMBps", s.heAdd());
            ceiling = s.chained();
            reference.put("canonicalHashMBps", s.canonicalHash());
            reference.put("heLoadAddSaveMBps", s.heLoadAddSave());
        }
        reference.put("plainAddMBps", StageRates.plainAdd(bytesPerUpdate, updates));
        return new Stages(stage, ceiling, reference, bytes);
    }

    private static MachineCpu.Shares cpuDuring(MachineCpu cpu, RoundRun r) {
        return cpu.during(r.firstAccepted().toEpochMilli(), r.lastAccepted().toEpochMilli());
    }

    private static double mbps(RoundRun r, long bytesPerUpdate) {
        return r.updatesPerSecond() * bytesPerUpdate / 1e6;
    }

    /**
     * Every figure of one run: the single-thread rates, the job's MB/s in the measured rounds and round 1
     * (cold), and who used the CPU while the stages ("stages") and the measured rounds ("p1", "p2") ran.
     */
    private record Figures(
            int warmupRounds,
            int rounds,
            long bytesPerUpdate,
            Stages stages,
            double jobP1,
            double jobP2,
            double jobColdP1,
            double jobColdP2,
            boolean jobP1Profiled,
            Map<String, MachineCpu.Shares> cpu) {
        /** Other processes using more than this share of the machine disturb the figures. */
        private static final double DISTURBED = 0.10;

        private static final String[][] STAGE_ROWS = {
            {"kafkaFetchMBps", "Kafka fetch (1 consumer, read_committed, to the end)"},
            {"avroDecodeMBps", "Avro decode (WireCodec, UpdateEnvelope)"},
            {"sha256MBps", "SHA-256 of the chunk's canonical bytes"},
            {"heLoadMBps", "he-native validating load (HeContext.loadVector)"},
            {"heAddMBps", "he-native modular add (addInPlace, sums loaded)"},
        };
        private static final String[][] REFERENCE_ROWS = {
            {"canonicalHashMBps", "CanonicalHash.of(chunk): re-encode + SHA-256"},
            {"heLoadAddSaveMBps", "he-native load + load sum + add + save sum"},
            {"plainAddMBps", "plain Java (a + b) mod p (memory-bandwidth baseline)"},
        };

        /** What the stage rates predict for their chain if nothing overlapped: 1 / sum(1 / rate). */
        double predictedChain() {
            double secondsPerMB = 0;
            for (String[] r : STAGE_ROWS) {
                secondsPerMB += 1 / stages.stage().get(r[0]);
            }
            return 1 / secondsPerMB;
        }

        void printTable(PrintStream out, Options opts, int cores) {
            TextTable t = new TextTable("what", "MB/s", "updates/s", "JSON key");
            t.section(String.format(
                    "stages, 1 thread each, on the %.1f MB of ciphertext of round 1 (median of %d passes)",
                    stages.bytes() / 1e6, StageRates.MEASURED_PASSES));
            for (String[] r : STAGE_ROWS) {
                row(t, r[1], stages.stage().get(r[0]), r[0]);
            }
            row(t, "chained single-thread ceiling (the five, 1 thread)", stages.ceiling(), "chainedCeilingMBps");
            t.row("  predicted from the five rates: 1 / sum(1 / rate)", TextTable.num(predictedChain()), "", "");
            t.section("for reference, not in the chain");
            for (String[] r : REFERENCE_ROWS) {
                row(t, r[1], stages.reference().get(r[0]), r[0]);
            }
            t.section("the Flink job, first to last UpdateAccepted of a round");
            String measured =
                    rounds == warmupRounds + 1 ? "round " + rounds : "rounds " + (warmupRounds + 1) + "-" + rounds;
            row(
                    t,
                    "Flink job, parallelism 1, " + measured + (jobP1Profiled ? " (under JFR)" : ""),
                    jobP1,
                    "jobMBps_p1");
            row(t, "Flink job, parallelism 2, " + measured, jobP2, "jobMBps_p2");
            row(t, "Flink job, parallelism 1, round 1 (cold)", jobColdP1, "jobColdMBps_p1");
            row(t, "Flink job, parallelism 2, round 1 (cold)", jobColdP2, "jobColdMBps_p2");
            t.row("job p1 / chained ceiling", TextTable.percent(jobP1 / stages.ceiling()), "", "jobP1OfCeiling");
            out.println();
            t.print(out, "");
            out.printf(
                    "(%.2f MB of ciphertext per update; %d updates x %d ciphertexts; MB = 10^6 bytes; %d cores)%n",
                    bytesPerUpdate / 1e6, opts.updates(), opts.ciphertextsPerUpdate(), cores);
            out.printf(
                    "CPU of the machine while measuring: stages: %s; job p1: %s; job p2: %s%n",
                    cpu.get("stages"), cpu.get("p1"), cpu.get("p2"));
            cpu.forEach((what, shares) -> {
                if (shares.others() > DISTURBED) {
                    out.printf(
                            "WARNING: other processes used %.0f %% of the machine while measuring %s: those figures are disturbed%n",
                            100 * shares.others(), what);
                }
            });
        }

        private void row(TextTable t, String what, double mbps, String key) {
            t.row(what, TextTable.num(mbps), TextTable.num(mbps * 1e6 / bytesPerUpdate), key);
        }

        String toJson(Options opts, int cores) throws Exception {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            o.put("jobMBps_p1", round1(jobP1));
            o.put("jobMBps_p2", round1(jobP2));
            o.put("chainedCeilingMBps", round1(stages.ceiling()));
            o.put("jobP1OfCeiling", Math.round(jobP1 / stages.ceiling() * 1000) / 1000.0);
            for (String[] r : STAGE_ROWS) {
                o.put(r[0], round1(stages.stage().get(r[0])));
            }
            for (String[] r : REFERENCE_ROWS) {
                o.put(r[0], round1(stages.reference().get(r[0])));
            }
            o.put("jobColdMBps_p1", round1(jobColdP1));
            o.put("jobColdMBps_p2", round1(jobColdP2));
            o.put("jobP1Profiled", jobP1Profiled);
            for (String what :
                    List.of("stages", "p1", "p2")) { // share of the machine used by other processes; null if unknown
                double others = cpu.get(what).others();
                o.put(
                        "otherProcessesCpu_" + what,
                        Double.isNaN(cpu.get(what).busy()) ? null : Math.round(others * 1000) / 1000.0);
            }
            o.put("updates", opts.updates());
            o.put("warmupRounds", warmupRounds);
            o.put("measuredRounds", rounds - warmupRounds);
            o.put("ciphertextsPerUpdate", opts.ciphertextsPerUpdate());
            o.put("ciphertextBytesPerUpdate", bytesPerUpdate);
            o.put("cores", cores);
            return m.writeValueAsString(o);
        }

        private static double round1(double d) {
            return Math.round(d * 10) / 10.0;
        }
    }

    /** {@code count} ciphertexts of random values in [-0.5, 0.5). */
    private static List<byte[]> encryptRandom(VectorEncryptor enc, int count, int valuesPerCiphertext) {
        java.util.Random rnd = new java.util.Random(1);
        List<byte[]> cts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            double[] v = new double[valuesPerCiphertext];
            for (int j = 0; j < valuesPerCiphertext; j++) {
                v[j] = rnd.nextDouble() - 0.5;
            }
            try (EncryptedVector e = enc.encrypt(v)) {
                cts.add(e.toBytes());
            }
        }
        return cts;
    }

    /**
     * The topic of config key {@code topicKey} (one of the job's {@code topic.*} keys) under
     * {@code prefix}: {@code topic.updates} becomes {@code prefix.updates}.
     */
    private static String topic(String prefix, String topicKey) {
        return prefix + "." + topicKey.substring("topic.".length());
    }

    /** Every topic key the job's config has: the bench gives each its own topic under a prefix. */
    private static List<String> topicKeys() {
        return AggregatorConfig.keys().stream()
                .filter(k -> k.startsWith("topic."))
                .toList();
    }

    /** Creates the job's topics under {@code prefix}: 4 partitions for the updates, 1 for the others. */
    private static void createTopics(LocalKafkaBroker kafka, String prefix) {
        Map<String, Integer> topics = new java.util.HashMap<>();
        for (String k : topicKeys()) {
            topics.put(topic(prefix, k), k.equals(AggregatorConfig.TOPIC_UPDATES) ? 4 : 1);
        }
        kafka.createTopics(topics);
    }

    /** A producer of byte arrays; transactional if {@code transactionalId} is not null. */
    private static KafkaProducer<byte[], byte[]> producer(LocalKafkaBroker kafka, String transactionalId) {
        Properties pp = new Properties();
        pp.put("bootstrap.servers", kafka.bootstrapServers());
        pp.put("key.serializer", ByteArraySerializer.class.getName());
        pp.put("value.serializer", ByteArraySerializer.class.getName());
        pp.put("linger.ms", "5");
        if (transactionalId != null) {
            pp.put("transactional.id", transactionalId);
            pp.put("transaction.timeout.ms", "600000"); // measured rounds wait through the job's start and the warm-up
        }
        return new KafkaProducer<>(pp);
    }

    /** Enrolls every client (a {@code ClientEnrolled} with its signing key). */
    private static void enroll(KafkaProducer<byte[], byte[]> producer, String prefix, List<Client> clients) {
        for (Client c : clients) {
            ClientEnrolled e = ClientEnrolled.newBuilder()
                    .setClientId(c.id())
                    .setSigningPublicKey(ByteBuffer.wrap(c.key().publicKey().toX509()))
                    .setModelIds(List.of())
                    .setRevoked(false)
                    .setEnrolledAtEpochMillis(0)
                    .build();
            producer.send(new ProducerRecord<>(
                    topic(prefix, AggregatorConfig.TOPIC_ENROLLMENTS), c.id().getBytes(), WireCodec.DEFAULT.encode(e)));
        }
    }

    /** Produces round {@code round}: its {@code RoundOpened}, then every client's chunks and signed commit of the same ciphertexts. */
    private static void produceRound(
            KafkaProducer<byte[], byte[]> producer,
            String prefix,
            int round,
            List<Client> clients,
            ChunkLayout layout,
            List<byte[]> cts) {
        RoundOpened opened = RoundBounds.loosest(PARAMS.maxSumNorm(), 1.0)
                .applyTo(RoundOpened.newBuilder())
                .setModelId(MODEL)
                .setRound(round)
                .setBaseModelHash(Hash.sha256(new byte[] {(byte) round}).toByteBuffer())
                .setHeParamsId(PARAMS.id())
                .setPublicKeyHash(Hash.sha256(new byte[2]).toByteBuffer())
                .setQuorum(clients.size())
                .setDeadlineEpochMillis(System.currentTimeMillis() + 1_200_000)
                .setChunkLayout(layout)
                .setLocalEpochs(1)
                .setOpenedAtEpochMillis(System.currentTimeMillis())
                .build();
        producer.send(new ProducerRecord<>(
                topic(prefix, AggregatorConfig.TOPIC_ROUNDS), "k".getBytes(), WireCodec.DEFAULT.encode(opened)));
        String updates = topic(prefix, AggregatorConfig.TOPIC_UPDATES);
        for (Client c : clients) {
            Chunker.PreparedUpdate u = Chunker.prepare(
                    c.id(),
                    opened,
                    "u-" + round + "-" + c.id(),
                    cts,
                    1,
                    System.currentTimeMillis(),
                    c.key().privateKey(),
                    WireCodec.DEFAULT_MAX_RECORD_BYTES);
            byte[] key = new UpdateKey(MODEL, round, c.id()).toBytes();
            for (UpdateChunk chunk : u.chunks()) {
                producer.send(new ProducerRecord<>(updates, key, WireCodec.DEFAULT.encode(new UpdateEnvelope(chunk))));
            }
            producer.send(new ProducerRecord<>(updates, key, WireCodec.DEFAULT.encode(new UpdateEnvelope(u.commit()))));
        }
    }

    /**
     * Runs the job on the topics under {@code prefix}: rounds 1 to {@code warmup} are readable,
     * rounds after them up to {@code rounds} wait in {@code held}'s open transaction, committed here
     * once every update of the warm-up is accepted. Returns round 1's rate and that of the rounds
     * after the warm-up together, once every round is accepted in full.
     */
    private static List<RoundRun> runJob(
            LocalKafkaBroker kafka,
            Path work,
            String prefix,
            int parallelism,
            int updates,
            int warmup,
            int rounds,
            KafkaProducer<byte[], byte[]> held,
            PrintStream out)
            throws Exception {
        AggregatorConfig.Builder b = AggregatorConfig.builder()
                .bootstrapServers(kafka.bootstrapServers())
                .signingKey(SigningKeyPair.generate().privateKey())
                .set(AggregatorConfig.GROUP_ID, prefix)
                .set(AggregatorConfig.TRANSACTIONAL_ID_PREFIX, prefix + "-tx")
                .set(AggregatorConfig.PARALLELISM, parallelism); // checkpoints at the default interval, as users run it
        for (String k : topicKeys()) {
            b.set(k, topic(prefix, k));
        }
        AggregatorConfig config = b.build();
        Properties cp = new Properties();
        cp.put("bootstrap.servers", kafka.bootstrapServers());
        cp.put("key.deserializer", ByteArrayDeserializer.class.getName());
        cp.put("value.deserializer", ByteArrayDeserializer.class.getName());
        cp.put("isolation.level", "read_committed");
        cp.put("max.partition.fetch.bytes", Integer.toString(MAX_MESSAGE_BYTES));
        cp.put("fetch.max.bytes", Integer.toString(MAX_MESSAGE_BYTES));
        Map<Integer, List<Long>> acceptedAt = new java.util.HashMap<>();
        for (int r = 1; r <= rounds; r++) {
            acceptedAt.put(r, new ArrayList<>());
        }
        Map<Integer, AggregatePublished> aggregates = new java.util.HashMap<>();
        try (LocalAggregator job = AggregatorJob.runLocal(config, work.resolve("ckpt-" + prefix));
                KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp)) {
            TopicPartition acc = new TopicPartition(config.acceptedTopic(), 0);
            TopicPartition agg = new TopicPartition(config.aggregatesTopic(), 0);
            c.assign(List.of(acc, agg));
            c.seekToBeginning(List.of(acc, agg));
            boolean released = false;
            long end = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (!java.util.stream.IntStream.rangeClosed(1, rounds)
                    .allMatch(r -> finished(r, acceptedAt, aggregates))) {
                if (System.nanoTime() > end) {
                    throw new IllegalStateException(
                            "parallelism " + parallelism + ": not every round aggregated within 5 minutes; "
                                    + "accepted per round " + acceptedAt + " of " + updates);
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                    if (r.topic().equals(config.acceptedTopic())) {
                        UpdateAccepted a = WireCodec.UNBOUNDED.decode(r.value(), UpdateAccepted.class);
                        acceptedAt.get(a.getRound()).add(a.getAcceptedAtEpochMillis());
                    } else {
                        try {
                            AggregatePublished a = WireCodec.UNBOUNDED.decode(r.value(), AggregatePublished.class);
                            aggregates.put(a.getRound(), a);
                            out.printf(
                                    "parallelism %d, round %d: aggregate %s, %d accepted%n",
                                    parallelism, a.getRound(), a.getStatus(), a.getAcceptedCount());
                        } catch (org.fedseal.protocol.WireFormatException notAnAggregate) {
                            // another record kind on the aggregates topic: not needed here
                        }
                    }
                }
                if (!released
                        && java.util.stream.IntStream.rangeClosed(1, warmup)
                                .allMatch(r -> finished(r, acceptedAt, aggregates))) {
                    awaitQuietJit(out);
                    held.commitTransaction();
                    released = true;
                }
            }
        }
        List<Long> later = new ArrayList<>();
        for (int r = warmup + 1; r <= rounds; r++) {
            later.addAll(acceptedAt.get(r));
        }
        return List.of(
                roundRun(parallelism, "round 1", updates, acceptedAt.get(1)),
                roundRun(parallelism, "rounds " + (warmup + 1) + "-" + rounds, updates * (rounds - warmup), later));
    }

    /**
     * Waits until the JIT compiler has spent less than 5 % of a second compiling in the last second
     * (at most 60 s): the warm-up rounds leave a queue of compilations behind that would otherwise
     * run on the measured rounds' cores.
     */
    private static void awaitQuietJit(PrintStream out) throws InterruptedException {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long start = System.nanoTime();
        long before = jit.getTotalCompilationTime();
        while (System.nanoTime() - start < Duration.ofSeconds(60).toNanos()) {
            Thread.sleep(1000);
            long now = jit.getTotalCompilationTime();
            if (now - before < 50) {
                break;
            }
            before = now;
        }
        out.printf("JIT quiet after %.1f s%n", (System.nanoTime() - start) / 1e9);
    }

    /**
     * A round is finished when its aggregate is out and as many {@code UpdateAccepted} as it counts
     * have arrived (either may come first: they are on different topics, maybe in different sink
     * subtasks' transactions).
     */
    private static boolean finished(
            int round, Map<Integer, List<Long>> acceptedAt, Map<Integer, AggregatePublished> aggregates) {
        AggregatePublished a = aggregates.get(round);
        return a != null && acceptedAt.get(round).size() >= a.getAcceptedCount();
    }

    private static RoundRun roundRun(int parallelism, String rounds, int updates, List<Long> acceptedAt) {
        if (acceptedAt.size() != updates) {
            throw new IllegalStateException("parallelism " + parallelism + ", " + rounds + ": the job accepted "
                    + acceptedAt.size() + " of " + updates + " updates");
        }
        List<Long> sorted = new ArrayList<>(acceptedAt);
        sorted.sort(null);
        long first = sorted.get(0);
        long last = sorted.get(sorted.size() - 1);
        double seconds = (last - first) / 1000.0;
        return new RoundRun(
                (sorted.size() - 1) / Math.max(seconds, 1e-3), Instant.ofEpochMilli(first), Instant.ofEpochMilli(last));
    }
}
