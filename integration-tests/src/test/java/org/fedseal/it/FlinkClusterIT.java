package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.fedseal.aggregator.AggregatorConfig;
import org.fedseal.demo.FederatedDeployment;
import org.fedseal.flinklocal.LocalFlinkCluster;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.kafkalocal.LocalKafkaCluster;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.RoundInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The production topology on one machine, with faults: a stock Flink 2.2.1 standalone session
 * cluster (a JobManager and two TaskManagers, each its own JVM, from the PyPI distribution that
 * {@code scripts/flink-dist.sh} fetches) running the aggregator's shaded job jar submitted with
 * Flink's CLI front end at parallelism 2 (one slot per TaskManager: both run it), against a
 * 3-broker KRaft Kafka cluster (replication factor 3, {@code min.insync.replicas=2}); the registry
 * and the key holder as in the other tests. Every round's aggregate is decrypted and compared
 * with the plaintext mean of known deltas.
 *
 * <p>The tests run in order on one deployment: the job at parallelism 2, then cancelled and
 * resubmitted from its checkpoint into the same TaskManager JVMs (he-native's JNI library loaded
 * by a second user-code class loader in each); a TaskManager killed with SIGKILL mid-round; the
 * registry (moved into a process of its own) killed with SIGKILL mid-round and started again; a broker
 * killed with SIGKILL mid-round.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FlinkClusterIT {
    static final int PARAMS = FaultsIT.PARAMS;
    static final long WEIGHT = FaultsIT.WEIGHT;
    static final String MAX_BYTES = Integer.toString(64 << 20);

    static Path work;
    static LocalKafkaCluster kafka;
    static LocalFlinkCluster flink;
    static FederatedDeployment deployment;
    static Path jobJar;
    static Path aggregatorProperties;
    static String jobId;
    static Process registryProcess;

    @BeforeAll
    static void startDeployment() throws Exception {
        work = Files.createTempDirectory("fedseal-flink-cluster-it");
        jobJar = Path.of(System.getProperty("fedseal.aggregator.jobJar", "target/flink-job/aggregator-job.jar"))
                .toAbsolutePath();
        assertTrue(Files.isRegularFile(jobJar), "the aggregator's job jar (classifier job) at " + jobJar);
        Path flinkHome = flinkDistribution();

        kafka = LocalKafkaCluster.start(
                work.resolve("kafka"),
                3,
                LocalKafkaBroker.builder()
                        .heap("384m")
                        .brokerProperty("message.max.bytes", MAX_BYTES)
                        .brokerProperty("replica.fetch.max.bytes", MAX_BYTES));
        Map<String, Integer> topics = new LinkedHashMap<>();
        topics.put(Topics.ROUNDS, 1);
        topics.put(Topics.UPDATES, 2);
        topics.put(Topics.ACCEPTED, 1);
        topics.put(Topics.AGGREGATES, 1);
        topics.put(Topics.AGGREGATE_CHUNKS, 2);
        topics.put(Topics.REJECTS, 1);
        topics.put(Topics.MODEL_VERSIONS, 1);
        topics.put(Topics.DECRYPTION_SHARES, 1);
        kafka.createTopics(topics, Map.of("max.message.bytes", MAX_BYTES, "cleanup.policy", "delete"));
        kafka.createTopics(
                Map.of(Topics.ENROLLMENTS, 1), Map.of("max.message.bytes", MAX_BYTES, "cleanup.policy", "compact"));

        // Registry (and its Kafka consumers) on the cluster. FederatedDeployment also starts the job in an
        // in-process MiniCluster; that one is cancelled at once: here the job runs on the Flink cluster.
        deployment = FederatedDeployment.startOnKafka(work.resolve("deployment"), kafka.bootstrapServers(), Map.of());
        deployment.stopAggregator();

        flink = LocalFlinkCluster.builder()
                .flinkHome(flinkHome)
                .workDir(work.resolve("flink"))
                .taskManagers(2)
                .slotsPerTaskManager(1)
                .set("state.backend.type", "hashmap")
                .set(
                        "execution.checkpointing.dir",
                        work.resolve("checkpoints").toUri().toString())
                .set("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION")
                .set("restart-strategy.type", "fixed-delay")
                .set("restart-strategy.fixed-delay.attempts", "50")
                .set("restart-strategy.fixed-delay.delay", "2 s")
                .set("pipeline.generic-types", "false")
                .set("pipeline.object-reuse", "true")
                .set("taskmanager.memory.segment-size", "256kb")
                .set("taskmanager.memory.network.min", "128mb")
                .set("taskmanager.memory.network.max", "128mb")
                .set("taskmanager.memory.managed.fraction", "0.05") // heap state backend: managed memory unused
                .start();

        aggregatorProperties = writeAggregatorProperties();
        jobId = flink.submit(jobJar, 2, "--config", aggregatorProperties.toString());
        flink.awaitJobRunning(jobId, Duration.ofSeconds(120));
    }

    @AfterAll
    static void stopDeployment() throws Exception {
        if (registryProcess != null && registryProcess.isAlive()) {
            registryProcess.destroyForcibly();
            registryProcess.waitFor(30, TimeUnit.SECONDS);
        }
        try {
            if (deployment != null) {
                deployment.close();
            }
        } finally {
            try {
                if (flink != null) {
                    flink.close();
                }
            } finally {
                if (kafka != null) {
                    kafka.close();
                }
            }
        }
    }

    /** The Flink distribution, fetched by scripts/flink-dist.sh (a no-op once it is in ~/.cache/fedseal). */
    static Path flinkDistribution() throws Exception {
        Path script = Python.repo().resolve("scripts").resolve("flink-dist.sh");
        Process p =
                new ProcessBuilder(script.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES) && p.exitValue() == 0, script + " failed: " + out);
        // the path is the last line (progress messages, if it had to fetch, come before it)
        return Path.of(out.lines().reduce((a, b) -> b).orElseThrow());
    }

    /**
     * The job's configuration file (owner-only: it holds the aggregator's signing key): the
     * deployment's aggregator settings at parallelism 2, on the 3-broker cluster.
     */
    static Path writeAggregatorProperties() throws IOException {
        AggregatorConfig base = deployment.aggregatorConfig();
        Properties p = new Properties();
        for (String key : AggregatorConfig.keys()) {
            String value = base.get(key);
            if (value != null) {
                p.setProperty(key, value);
            }
        }
        p.setProperty(AggregatorConfig.PARALLELISM, "2");
        p.setProperty(AggregatorConfig.CHECKPOINT_INTERVAL_MS, "1000");
        p.setProperty(AggregatorConfig.PENDING_GRACE_MS, "3000");
        p.setProperty(AggregatorConfig.GROUP_ID, "fedseal-flink-cluster");
        p.setProperty(AggregatorConfig.TRANSACTIONAL_ID_PREFIX, "fedseal-flink-cluster");
        Path file = work.resolve("aggregator.properties");
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (Writer w = Files.newBufferedWriter(file)) {
            p.store(w, "FlinkClusterIT: the aggregator job's configuration");
        }
        return file;
    }

    // ----------------------------------------------------------------------------------------- helpers

    /** A model with {@code clients} enrolled clients, each with a known delta. */
    record Round(Scenario scenario, RoundOpened opened, List<Chunker.PreparedUpdate> updates, List<float[]> deltas) {}

    static Round openRound(Scenario s, String prefix, int clients, long seed) throws Exception {
        for (int c = 0; c < clients; c++) {
            FaultsIT.enrol(s, prefix + c);
        }
        RoundOpened round = s.open(clients, Duration.ofMinutes(4));
        List<Chunker.PreparedUpdate> updates = new ArrayList<>();
        List<float[]> deltas = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            float[] delta = Updates.delta(PARAMS, 0.01, seed + c);
            deltas.add(delta);
            updates.add(Updates.prepare(
                    s,
                    prefix + c,
                    round,
                    delta,
                    WEIGHT,
                    s.identities.get(prefix + c).privateKey()));
        }
        return new Round(s, round, updates, deltas);
    }

    /** Waits until {@code n} updates of the round are accepted (visible to read_committed: a checkpoint holds them). */
    static void awaitAccepted(Scenario s, int round, int n) {
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        int seen;
        while ((seen = FaultsIT.accepted(s, round)) < n) {
            assertTrue(System.nanoTime() < end, "only " + seen + " of " + n + " updates accepted");
        }
    }

    /** The round's aggregate is the exact mean, every update accepted once, one aggregate published. */
    static void assertExactlyOnce(Round r) throws Exception {
        Scenario s = r.scenario();
        AggregatePublished agg = s.aggregate(r.opened().getRound(), Duration.ofMinutes(3));
        FaultsIT.assertDecryptsTo(s, agg, r.deltas());
        Thread.sleep(2000);
        assertEquals(
                r.deltas().size(), FaultsIT.accepted(s, r.opened().getRound()), "each update accepted exactly once");
        assertEquals(
                1,
                s.collect(
                                Topics.AGGREGATES,
                                AggregatePublished.class,
                                a -> a.getModelId().equals(s.modelId),
                                Duration.ofSeconds(4))
                        .size(),
                "exactly one aggregate");
    }

    /** Failures in the job's exception history (each made it restart); -1 if the JobManager does not answer. */
    static int failures() {
        try {
            return flink.failures(jobId);
        } catch (IllegalStateException e) {
            return -1;
        }
    }

    /** Distinct copies of libfedseal_he mapped into a process (each class loader that loaded it has one). */
    static Set<String> heLibraryMappings(long pid) throws IOException {
        Set<String> copies = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/maps"))) {
            int at = line.indexOf('/');
            if (at >= 0 && line.contains("libfedseal_he")) {
                copies.add(line.substring(at));
            }
        }
        return copies;
    }

    static Path latestCheckpoint(String job) throws IOException {
        try (Stream<Path> files = Files.walk(work.resolve("checkpoints").resolve(job), 1)) {
            return files.filter(p -> p.getFileName().toString().startsWith("chk-"))
                    .filter(p -> Files.exists(p.resolve("_metadata")))
                    .max((a, b) -> Integer.compare(number(a), number(b)))
                    .orElseThrow(() -> new AssertionError("no retained checkpoint of job " + job));
        }
    }

    static int number(Path chk) {
        return Integer.parseInt(chk.getFileName().toString().substring(4));
    }

    static int count(String json, String regex) {
        Matcher m = Pattern.compile(regex).matcher(json);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The registry as its own process on the deployment's data, port, token and Kafka; waits until it listens. */
    static Process startRegistryProcess(int port) throws Exception {
        Properties p = new Properties();
        p.setProperty("fedseal.registry.bind", "127.0.0.1");
        p.setProperty("fedseal.registry.token", deployment.adminToken());
        p.setProperty("fedseal.registry.kafka.bootstrap-servers", kafka.bootstrapServers());
        p.setProperty(
                "fedseal.registry.aggregator.public-key",
                java.util.Base64.getEncoder().encodeToString(deployment.aggregatorPublicKey()));
        Path config = work.resolve("registry.properties");
        Files.deleteIfExists(config);
        Files.createFile(config, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (Writer w = Files.newBufferedWriter(config)) {
            p.store(w, "FlinkClusterIT: the registry process");
        }
        Path log = work.resolve("registry-process.log");
        Process process = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx512m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        "org.fedseal.registry.cli.FedsealCli",
                        "registry",
                        "serve",
                        "--config",
                        config.toString(),
                        "--port",
                        Integer.toString(port),
                        "--data-dir",
                        deployment.workDir().resolve("registry").toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!Files.readString(log).contains("registry listening")) {
            assertTrue(process.isAlive(), "registry process exited: " + Files.readString(log));
            assertTrue(System.nanoTime() < end, "registry process not listening: " + Files.readString(log));
            Thread.sleep(200);
        }
        return process;
    }

    // ----------------------------------------------------------------------------------------- tests

    @Test
    @Order(1)
    void jobRunsAtParallelismTwoOnBothTaskManagersAndAgainAfterResubmissionIntoTheSameJvms() throws Exception {
        String overview = flink.get("/overview");
        assertEquals(2, count(overview, "\"taskmanagers\":(\\d+)"), overview);
        assertEquals(2, count(overview, "\"slots-total\":(\\d+)"), overview);
        assertEquals(
                0,
                count(overview, "\"slots-available\":(\\d+)"),
                "the job holds both TaskManagers' slots: " + overview);
        assertTrue(flink.get("/jobs/" + jobId).contains("\"parallelism\":2"), "vertices at parallelism 2");
        List<Long> taskManagers = flink.taskManagerPids();

        try (Scenario s = new Scenario(deployment, "flink-p2", new float[PARAMS])) {
            Round r1 = openRound(s, "p2-a-", 2, 1000);
            for (Chunker.PreparedUpdate u : r1.updates()) {
                Updates.send(s, u);
            }
            assertExactlyOnce(r1);

            // A new job (a new user-code class loader) in the same TaskManager JVMs, from the retained checkpoint:
            // he-native's JNI library is loaded a second time in each of them.
            Path checkpoint = latestCheckpoint(jobId);
            flink.cancel(jobId);
            jobId = flink.submit(jobJar, 2, checkpoint, "--config", aggregatorProperties.toString());
            flink.awaitJobRunning(jobId, Duration.ofSeconds(120));
            assertEquals(taskManagers, flink.taskManagerPids(), "the same TaskManager JVMs");

            Round r2 = openRound(s, "p2-b-", 2, 1100);
            for (Chunker.PreparedUpdate u : r2.updates()) {
                Updates.send(s, u);
            }
            AggregatePublished agg = s.aggregate(r2.opened().getRound(), Duration.ofMinutes(3));
            FaultsIT.assertDecryptsTo(s, agg, r2.deltas());
            for (long pid : taskManagers) {
                System.out.println("TaskManager " + pid + " maps he-native copies: " + heLibraryMappings(pid));
                assertTrue(!heLibraryMappings(pid).isEmpty(), "TaskManager " + pid + " loaded he-native");
            }
        }
    }

    @Test
    @Order(2)
    void taskManagerKilledMidRoundJobRecoversFromItsCheckpointAndTheAggregateIsExactAndPublishedOnce()
            throws Exception {
        try (Scenario s = new Scenario(deployment, "flink-tm-kill", new float[PARAMS])) {
            Round r = openRound(s, "tm-", 4, 2000);
            Updates.send(s, r.updates().get(0));
            Updates.send(s, r.updates().get(1));
            awaitAccepted(s, r.opened().getRound(), 2);

            int before = failures();
            assertTrue(before >= 0, "exception history readable");
            long killed = flink.killTaskManager(0);
            long replacement = flink.startTaskManager();
            long end = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (failures() <= before) {
                assertTrue(System.nanoTime() < end, "the job never restarted after TaskManager " + killed + " died");
                Thread.sleep(200);
            }
            flink.awaitJobRunning(jobId, Duration.ofMinutes(2));
            assertTrue(flink.taskManagerPids().contains(replacement)
                    && !flink.taskManagerPids().contains(killed));

            Updates.send(s, r.updates().get(2));
            Updates.send(s, r.updates().get(3));
            assertExactlyOnce(r);
        }
    }

    @Test
    @Order(3)
    void registryKilledMidRoundLosesNoLogEntryAndTheAuditPasses() throws Exception {
        try (Scenario s = new Scenario(deployment, "flink-registry-restart", new float[PARAMS])) {
            Round r = openRound(s, "reg-", 4, 3000);
            int round = r.opened().getRound();
            Updates.send(s, r.updates().get(0));
            Updates.send(s, r.updates().get(1));
            awaitAccepted(s, round, 2);

            // The registry moves into a process of its own (`fedseal registry serve`, same data, port, token and
            // Kafka consumer group), takes in the third update, and is killed with SIGKILL mid-round.
            int port = deployment.registry().port();
            deployment.stopRegistry();
            registryProcess = startRegistryProcess(port);
            Updates.send(s, r.updates().get(2));
            awaitAccepted(s, round, 3);
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (s.admin.roundStatus(s.modelId, round).acceptedCount() < 3) {
                assertTrue(System.nanoTime() < end, "the registry process never logged the third update");
                Thread.sleep(200);
            }
            registryProcess.destroyForcibly();
            assertTrue(registryProcess.waitFor(30, TimeUnit.SECONDS));
            Updates.send(s, r.updates().get(3)); // while no registry runs
            awaitAccepted(s, round, 4);
            deployment.startRegistry();

            assertExactlyOnce(r);
            AggregatePublished agg = s.aggregate(r.opened().getRound(), Duration.ofSeconds(30));
            s.publishVersion(agg);
            FaultsIT.waitForClosed(s, r.opened().getRound());
            RoundInfo status =
                    deployment.adminClient().roundStatus(s.modelId, r.opened().getRound());
            assertEquals(4, status.acceptedCount(), "every accepted update is in the registry's log: " + status);
            assertTrue(status.published(), "the version is published: " + status);
            ProvenanceIT.Cli verify = ProvenanceIT.fedseal(
                    "audit", "verify", "--registry", deployment.registry().uri().toString());
            assertEquals(0, verify.code(), verify.out());
            assertTrue(verify.out().contains("PASS"), verify.out());
        }
    }

    @Test
    @Order(4)
    void brokerKilledMidRoundTheRoundCompletesWithNothingLostOrCountedTwice() throws Exception {
        try (Scenario s = new Scenario(deployment, "flink-broker-kill", new float[PARAMS])) {
            Round r = openRound(s, "broker-", 4, 4000);
            Updates.send(s, r.updates().get(0));
            Updates.send(s, r.updates().get(1));
            awaitAccepted(s, r.opened().getRound(), 2);

            kafka.kill(1);
            Updates.send(s, r.updates().get(2));
            Updates.send(s, r.updates().get(3));
            assertExactlyOnce(r);
            flink.awaitJobRunning(jobId, Duration.ofMinutes(1));
        }
    }
}
