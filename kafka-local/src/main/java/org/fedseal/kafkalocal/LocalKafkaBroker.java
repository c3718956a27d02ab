package org.fedseal.kafkalocal;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.CodeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.fedseal.kafkalocal.internal.BrokerMain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker+controller) running in its own JVM process.
 *
 * <p>The broker runs from the {@code org.apache.kafka:kafka_2.13} jars this module was built against
 * (see {@link #brokerClasspath()}); they never share a classpath with the caller's kafka-clients.
 * Storage is formatted fresh on every start, listeners bind to {@code 127.0.0.1} on free ports, and the
 * broker's log goes to {@link #logFile()} in the work directory, never to the caller's stdout.
 *
 * <pre>{@code
 * try (LocalKafkaBroker kafka = LocalKafkaBroker.start(workDir)) {
 *     kafka.createTopics(Map.of("updates", 3));
 *     props.put("bootstrap.servers", kafka.bootstrapServers());
 *     ...
 * }
 * }</pre>
 *
 * <p>{@link #close()} stops the process (SIGTERM, then a forced kill after a grace period) and is
 * idempotent. A JVM shutdown hook closes brokers that were not closed, and a watchdog inside the broker
 * process stops it if the owning JVM dies without running its hooks (e.g. {@code kill -9}).
 * Instances are thread-safe.
 */
public final class LocalKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalKafkaBroker.class);

    /** Classpath resource written at build time: the broker's jars, absolute paths. */
    static final String CLASSPATH_RESOURCE = "org/fedseal/kafkalocal/broker.classpath";

    private static final int LOG_TAIL_LINES = 60;
    private static final int START_ATTEMPTS = 3;

    private final Builder config;
    /** This broker's place in a {@link LocalKafkaCluster}, or null for a single-node broker. */
    private final ClusterMember member;

    private final Path workDir;
    private final boolean deleteWorkDirOnClose;
    private final Path logFile;
    private final Object lock = new Object();

    private Process process;
    private String bootstrapServers;
    private Thread shutdownHook;
    private Admin admin;
    private boolean closed;

    private LocalKafkaBroker(Builder config, Path workDir, boolean deleteWorkDirOnClose) {
        this(config, workDir, deleteWorkDirOnClose, null);
    }

    private LocalKafkaBroker(Builder config, Path workDir, boolean deleteWorkDirOnClose, ClusterMember member) {
        this.config = config;
        this.member = member;
        this.workDir = workDir;
        this.deleteWorkDirOnClose = deleteWorkDirOnClose;
        this.logFile = workDir.resolve("broker.log");
    }

    /**
     * Starts a broker with default options, keeping its storage, configuration and log in {@code workDir}
     * (created if missing; a previous {@code data} directory inside it is wiped).
     *
     * @param workDir the broker's work directory
     * @return the running, ready broker
     * @throws IllegalStateException if the broker does not become ready; the message includes the tail
     *                               of the broker's log
     */
    public static LocalKafkaBroker start(Path workDir) {
        return builder().workDir(workDir).start();
    }

    /**
     * Returns a builder for a broker with non-default options.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns {@code host:port} of the PLAINTEXT listener, for {@code bootstrap.servers}.
     *
     * @return the bootstrap address, e.g. {@code 127.0.0.1:41234}
     */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /**
     * Returns the file receiving everything the broker process (and storage formatting) writes.
     *
     * @return the broker's log file in the work directory
     */
    public Path logFile() {
        return logFile;
    }

    /**
     * Returns the broker's work directory (configuration, storage in {@code data/}, log).
     *
     * @return the work directory
     */
    public Path workDir() {
        return workDir;
    }

    /**
     * Returns the operating-system process id of the broker JVM.
     *
     * @return the broker's pid
     */
    public long pid() {
        synchronized (lock) {
            return process.pid();
        }
    }

    /**
     * Tells whether the broker process is alive and {@link #close()} has not been called.
     *
     * @return {@code true} while the broker is running
     */
    public boolean isRunning() {
        synchronized (lock) {
            return !closed && process != null && process.isAlive();
        }
    }

    /**
     * Creates one topic (replication factor 1) and waits until every partition has a leader.
     * An existing topic of that name is left as it is.
     *
     * @param name       topic name
     * @param partitions number of partitions
     */
    public void createTopic(String name, int partitions) {
        createTopics(Map.of(name, partitions));
    }

    /**
     * Creates topics (replication factor 1) and waits until every partition has a leader.
     * Topics that already exist are left as they are.
     *
     * @param nameToPartitions topic name to number of partitions
     * @throws IllegalStateException if creation fails or times out
     */
    public void createTopics(Map<String, Integer> nameToPartitions) {
        List<NewTopic> topics = nameToPartitions.entrySet().stream()
                .map(e -> new NewTopic(e.getKey(), e.getValue(), (short) 1))
                .collect(Collectors.toList());
        Admin a = admin();
        long deadline = System.nanoTime() + config.startupTimeout.toNanos();
        try {
            for (Map.Entry<String, KafkaFuture<Void>> result :
                    a.createTopics(topics).values().entrySet()) {
                try {
                    result.getValue().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException(
                                "Could not create topic " + result.getKey() + ": " + e.getCause(), e.getCause());
                    }
                }
            }
            awaitLeaders(a, nameToPartitions.keySet(), deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while creating topics " + nameToPartitions.keySet(), e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Timed out creating topics " + nameToPartitions.keySet(), e);
        }
    }

    private static void awaitLeaders(Admin a, Collection<String> names, long deadline)
            throws InterruptedException, TimeoutException {
        while (true) {
            try {
                Map<String, TopicDescription> descriptions =
                        a.describeTopics(names).allTopicNames().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
                boolean ready = descriptions.values().stream()
                        .flatMap(d -> d.partitions().stream())
                        .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
                if (ready) {
                    return;
                }
            } catch (ExecutionException e) {
                // UnknownTopicOrPartition while metadata propagates: retry
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("partitions of " + names + " have no leader");
            }
            Thread.sleep(50);
        }
    }

    private static long remainingMillis(long deadline) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    private Admin admin() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("broker is closed");
            }
            if (admin == null) {
                admin = newAdmin(bootstrapServers);
            }
            return admin;
        }
    }

    static Admin newAdmin(String bootstrap) {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafka-local-admin");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return Admin.create(props);
    }

    /**
     * Stops the broker: SIGTERM, wait for a clean shutdown, then kill. Idempotent; later calls do
     * nothing. Deletes the work directory if the builder created it.
     */
    @Override
    public void close() {
        close(deleteWorkDirOnClose);
    }

    private void close(boolean deleteWorkDir) {
        Admin adminToClose;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            adminToClose = admin;
            admin = null;
        }
        if (adminToClose != null) {
            adminToClose.close(Duration.ofSeconds(2));
        }
        stopProcess();
        synchronized (lock) {
            if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException alreadyShuttingDown) {
                    // the hook is running or will run; stopProcess() is idempotent
                }
            }
        }
        if (deleteWorkDir) {
            deleteRecursively(workDir);
        }
    }

    private void stopProcess() {
        Process p;
        synchronized (lock) {
            p = process;
        }
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy(); // SIGTERM: Kafka shuts down cleanly
        try {
            if (!p.waitFor(config.shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("Kafka broker pid {} did not stop within {}; killing it", p.pid(), config.shutdownTimeout);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "LocalKafkaBroker[" + bootstrapServers + ", workDir=" + workDir + "]";
    }

    // ------------------------------------------------------------------------------------------ start

    private void doStart() {
        List<String> classpath = brokerClasspath();
        try {
            Files.createDirectories(workDir);
            Files.deleteIfExists(logFile);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot prepare " + workDir, e);
        }
        String cp = String.join(File.pathSeparator, classpath);
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            try {
                startOnce(cp);
                return;
            } catch (PortTakenException e) {
                // another process grabbed one of our free ports between probing and binding: retry
                last = e;
                LOG.info("Kafka broker could not bind its ports (attempt {}), retrying with new ports", attempt);
            }
        }
        throw last;
    }

    private void startOnce(String cp) {
        int[] ports = member != null ? new int[] {member.port(), member.controllerPort()} : freePorts(2);
        int port = ports[0];
        int controllerPort = ports[1];
        Path dataDir = workDir.resolve("data");
        Path serverProperties = workDir.resolve("server.properties");
        Path log4jConfig = workDir.resolve("log4j2.xml");
        deleteRecursively(dataDir);
        writeServerProperties(serverProperties, port, controllerPort, dataDir);
        writeLog4jConfig(log4jConfig);

        long deadline = System.nanoTime() + config.startupTimeout.toNanos();

        // 1. format storage (separate short-lived JVM)
        List<String> format = javaCommand(cp, "256m", log4jConfig);
        format.addAll(List.of("kafka.tools.StorageTool", "format"));
        if (member == null) {
            format.add("--standalone");
        }
        // A cluster member: static quorum (controller.quorum.voters), one cluster id for all members.
        format.addAll(List.of(
                "-t",
                member != null ? member.clusterId() : Uuid.randomUuid().toString(),
                "-c",
                serverProperties.toString(),
                "--feature",
                "transaction.version=" + config.transactionVersion));
        appendToLog(
                "=== kafka-local: formatting " + dataDir + " (transaction.version=" + config.transactionVersion + ")");
        Process formatter = launch(format);
        try {
            if (!formatter.waitFor(remainingMillis(deadline), TimeUnit.MILLISECONDS)) {
                formatter.destroyForcibly();
                throw failure("Formatting Kafka storage timed out after " + config.startupTimeout);
            }
        } catch (InterruptedException e) {
            formatter.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while formatting Kafka storage", e);
        }
        if (formatter.exitValue() != 0) {
            throw failure("Formatting Kafka storage failed (exit code " + formatter.exitValue() + ")");
        }

        // 2. the broker
        launchBroker(cp, port, controllerPort);
        if (member != null) {
            return; // a member alone has no quorum: LocalKafkaCluster waits for all of them together
        }

        // 3. readiness: port open, then describeCluster answers with our node
        try {
            awaitReady(port, deadline);
        } catch (RuntimeException e) {
            stopProcess();
            throw e;
        }
    }

    private void launchBroker(String cp, int port, int controllerPort) {
        Path serverProperties = workDir.resolve("server.properties");
        Path log4jConfig = workDir.resolve("log4j2.xml");
        List<String> broker = javaCommand(cp + ownCodeSource(), config.heap, log4jConfig);
        broker.add("-D" + BrokerMain.PARENT_PID_PROPERTY + "="
                + ProcessHandle.current().pid());
        broker.addAll(config.jvmArgs);
        broker.add(ownCodeSource().isEmpty() ? "kafka.Kafka" : BrokerMain.class.getName());
        broker.add(serverProperties.toString());
        appendToLog("=== kafka-local: starting broker on 127.0.0.1:" + port + " (controller " + controllerPort + ")");
        synchronized (lock) {
            process = launch(broker);
            if (shutdownHook == null) {
                shutdownHook = new Thread(this::stopProcess, "kafka-local-shutdown-" + port);
                Runtime.getRuntime().addShutdownHook(shutdownHook);
            }
            bootstrapServers = "127.0.0.1:" + port;
        }
        LOG.debug("Kafka broker pid {} starting on {}, log {}", process.pid(), bootstrapServers, logFile);
    }

    /** Kills the broker process with SIGKILL (no clean shutdown), as a crash. For {@link LocalKafkaCluster}. */
    void kill() {
        Process p;
        synchronized (lock) {
            p = process;
        }
        p.destroyForcibly();
        try {
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts the broker process again on its existing storage and ports (after {@link #kill()}). */
    void restart() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("broker is closed");
            }
            if (process != null && process.isAlive()) {
                return;
            }
        }
        appendToLog("=== kafka-local: restarting on the same storage");
        launchBroker(String.join(File.pathSeparator, brokerClasspath()), member.port(), member.controllerPort());
    }

    /** Formats storage and launches a cluster member without waiting for it. For {@link LocalKafkaCluster}. */
    static LocalKafkaBroker startMember(Builder config, Path workDir, ClusterMember member) {
        LocalKafkaBroker broker = new LocalKafkaBroker(config.copy(), workDir.toAbsolutePath(), false, member);
        try {
            broker.doStart();
        } catch (RuntimeException e) {
            broker.close(false);
            throw e;
        }
        return broker;
    }

    /** Waits until this member's PLAINTEXT port accepts connections or {@code deadline} (nanoTime) passes. */
    void awaitPortOpen(long deadline) {
        while (!isPortOpen(member.port())) {
            Process p;
            synchronized (lock) {
                p = process;
            }
            if (!p.isAlive()) {
                throw failure(
                        "Kafka broker " + member.nodeId() + " exited with code " + p.exitValue() + " during startup");
            }
            if (System.nanoTime() > deadline) {
                throw failure(
                        "Kafka broker " + member.nodeId() + " did not open its port within " + config.startupTimeout);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for the Kafka broker", e);
            }
        }
    }

    /** Where a member of a {@link LocalKafkaCluster} sits: its id, ports, the static voter set and cluster id. */
    record ClusterMember(int nodeId, int port, int controllerPort, String voters, String clusterId, int size) {}

    private void awaitReady(int port, long deadline) {
        Process p = process;
        boolean portOpen = false;
        while (true) {
            if (!p.isAlive()) {
                String tail = logTail();
                if (tail.contains("Address already in use")) {
                    throw new PortTakenException(failure("Kafka broker could not bind its ports", tail));
                }
                throw failure("Kafka broker exited with code " + p.exitValue() + " during startup", tail);
            }
            if (System.nanoTime() > deadline) {
                throw failure("Kafka broker did not become ready within " + config.startupTimeout);
            }
            if (!portOpen) {
                portOpen = isPortOpen(port);
            }
            if (portOpen) {
                try (Admin probe = newAdmin(bootstrapServers)) {
                    int nodes = probe.describeCluster(new DescribeClusterOptions().timeoutMs(3_000))
                            .nodes()
                            .get(4, TimeUnit.SECONDS)
                            .size();
                    if (nodes > 0) {
                        LOG.info("Kafka broker ready on {} (pid {}, log {})", bootstrapServers, p.pid(), logFile);
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // not ready yet
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while waiting for the Kafka broker", e);
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for the Kafka broker", e);
            }
        }
    }

    private static boolean isPortOpen(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private List<String> javaCommand(String cp, String heap, Path log4jConfig) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.add("-XX:+ExitOnOutOfMemoryError");
        cmd.add("-Djava.awt.headless=true");
        cmd.add("-Dlog4j2.configurationFile=" + log4jConfig.toUri());
        cmd.add("-Dkafka.logs.dir=" + workDir);
        cmd.add("-cp");
        cmd.add(cp);
        return cmd;
    }

    private Process launch(List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        try {
            return pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start " + command.get(0), e);
        }
    }

    /** Path separator plus the jar/directory holding this class (for {@link BrokerMain}), or "". */
    private static String ownCodeSource() {
        try {
            CodeSource source = BrokerMain.class.getProtectionDomain().getCodeSource();
            if (source == null || source.getLocation() == null) {
                return "";
            }
            Path path = Paths.get(source.getLocation().toURI());
            return Files.exists(path) ? File.pathSeparator + path : "";
        } catch (URISyntaxException | RuntimeException e) {
            return "";
        }
    }

    private void writeServerProperties(Path file, int port, int controllerPort, Path dataDir) {
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", member != null ? Integer.toString(member.nodeId()) : "1");
        if (member != null) {
            p.setProperty("controller.quorum.voters", member.voters());
        } else {
            p.setProperty("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
        }
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.setProperty("log.dirs", dataDir.toString());
        p.setProperty("num.partitions", "1");
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "5");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("transaction.state.log.num.partitions", "5");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("auto.create.topics.enable", "true");
        if (member != null) {
            // Internal topics replicated like the data topics: any one broker may die.
            String rf = Integer.toString(Math.min(3, member.size()));
            String isr = Integer.toString(Math.min(2, member.size()));
            p.setProperty("offsets.topic.replication.factor", rf);
            p.setProperty("transaction.state.log.replication.factor", rf);
            p.setProperty("transaction.state.log.min.isr", isr);
            p.setProperty("share.coordinator.state.topic.replication.factor", rf);
            p.setProperty("share.coordinator.state.topic.min.isr", isr);
            p.setProperty("default.replication.factor", rf);
            p.setProperty("min.insync.replicas", isr);
            // A killed node is fenced (and its partitions get new leaders) within seconds, not the default 9 s.
            p.setProperty("broker.heartbeat.interval.ms", "500");
            p.setProperty("broker.session.timeout.ms", "3000");
        }
        // transaction.max.timeout.ms stays at its 900000 default (clients use up to 60000)
        config.brokerProperties.forEach(p::setProperty);
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(w, "generated by kafka-local");
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file, e);
        }
    }

    private static void writeLog4jConfig(Path file) {
        String xml = String.join(
                "\n",
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                "<!-- generated by kafka-local: stdout of the broker process is redirected to broker.log -->",
                "<!-- shutdownHook=disable: keep logging while Kafka's own shutdown hook runs -->",
                "<Configuration status=\"WARN\" shutdownHook=\"disable\">",
                "  <Appenders>",
                "    <Console name=\"STDOUT\" target=\"SYSTEM_OUT\">",
                "      <PatternLayout pattern=\"[%d] %p %m (%c)%n\"/>",
                "    </Console>",
                "  </Appenders>",
                "  <Loggers>",
                "    <Root level=\"INFO\"><AppenderRef ref=\"STDOUT\"/></Root>",
                "    <Logger name=\"kafka.request.logger\" level=\"WARN\"/>",
                "    <Logger name=\"state.change.logger\" level=\"WARN\"/>",
                "    <Logger name=\"org.apache.kafka.common.utils.AppInfoParser\" level=\"WARN\"/>",
                "  </Loggers>",
                "</Configuration>",
                "");
        try {
            Files.writeString(file, xml, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file, e);
        }
    }

    private void appendToLog(String line) {
        try {
            Files.writeString(
                    logFile,
                    line + System.lineSeparator(),
                    StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            // diagnostics only
        }
    }

    private IllegalStateException failure(String what) {
        return failure(what, logTail());
    }

    private IllegalStateException failure(String what, String tail) {
        return new IllegalStateException(what + ". Log: " + logFile + System.lineSeparator() + "---- last "
                + LOG_TAIL_LINES + " lines ----" + System.lineSeparator() + tail);
    }

    private String logTail() {
        try {
            if (!Files.exists(logFile)) {
                return "(no log)";
            }
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join(
                    System.lineSeparator(), lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "(cannot read log: " + e + ")";
        }
    }

    static int[] freePorts(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket();
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot find free ports", e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("Could not delete {}: {}", dir, e.toString());
        }
    }

    /**
     * Returns the broker's classpath (absolute jar paths), as written into this module's resources
     * at build time by {@code maven-dependency-plugin:build-classpath}.
     *
     * @return the jars of {@code kafka_2.13} and its runtime dependencies
     * @throws IllegalStateException if the resource is missing or names a jar that no longer exists
     */
    public static List<String> brokerClasspath() {
        List<String> jars = new ArrayList<>();
        try (InputStream in = LocalKafkaBroker.class.getClassLoader().getResourceAsStream(CLASSPATH_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("Missing resource " + CLASSPATH_RESOURCE
                        + "; build kafka-local with Maven (mvn -f kafka-local/pom.xml install)");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                for (String entry : line.split(File.pathSeparator)) {
                    if (!entry.isBlank()) {
                        jars.add(entry.trim());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + CLASSPATH_RESOURCE, e);
        }
        List<String> missing =
                jars.stream().filter(j -> !Files.isRegularFile(Paths.get(j))).collect(Collectors.toList());
        if (jars.isEmpty() || !missing.isEmpty()) {
            throw new IllegalStateException(
                    "The Kafka broker classpath recorded when kafka-local was built is not usable"
                            + (jars.isEmpty() ? " (empty)" : "; missing jars: " + missing)
                            + ". Rebuild kafka-local on this machine (mvn -f kafka-local/pom.xml install) so Maven downloads them.");
        }
        return jars;
    }

    /** The broker died because a port we picked was taken meanwhile. */
    private static final class PortTakenException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortTakenException(IllegalStateException cause) {
            super(cause.getMessage());
        }
    }

    /**
     * Options for a {@link LocalKafkaBroker}; {@link #start()} starts it. All options have defaults.
     */
    public static final class Builder {
        private Path workDir;
        private String heap = "512m";
        private Duration startupTimeout = Duration.ofSeconds(90);
        private Duration shutdownTimeout = Duration.ofSeconds(20);
        private int transactionVersion = 1;
        private final Map<String, String> brokerProperties = new LinkedHashMap<>();
        private final List<String> jvmArgs = new ArrayList<>();

        private Builder() {}

        /**
         * Sets the work directory (configuration, {@code data/} storage, {@code broker.log}). It is created
         * if missing and kept after {@link LocalKafkaBroker#close()}; a previous {@code data/} is wiped.
         * Default: a new temporary directory, deleted on close.
         *
         * @param workDir the work directory
         * @return this builder
         */
        public Builder workDir(Path workDir) {
            this.workDir = Objects.requireNonNull(workDir, "workDir");
            return this;
        }

        /**
         * Sets the broker JVM's maximum heap, in {@code -Xmx} syntax. Default {@code 512m}.
         *
         * @param heap e.g. {@code "512m"} or {@code "1g"}
         * @return this builder
         */
        public Builder heap(String heap) {
            this.heap = Objects.requireNonNull(heap, "heap");
            return this;
        }

        /**
         * Sets (or overrides) a {@code server.properties} entry, e.g. {@code message.max.bytes}.
         *
         * @param key   broker property name
         * @param value its value
         * @return this builder
         */
        public Builder brokerProperty(String key, String value) {
            brokerProperties.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Sets (or overrides) several {@code server.properties} entries.
         *
         * @param properties broker property names to values
         * @return this builder
         */
        public Builder brokerProperties(Map<String, String> properties) {
            properties.forEach(this::brokerProperty);
            return this;
        }

        /**
         * Adds an extra argument for the broker JVM, e.g. {@code -XX:+UseSerialGC}.
         *
         * @param arg a JVM option
         * @return this builder
         */
        public Builder jvmArg(String arg) {
            jvmArgs.add(Objects.requireNonNull(arg, "arg"));
            return this;
        }

        /**
         * Sets the {@code transaction.version} feature the storage is formatted with. Default {@code 1}:
         * with version 2, Flink's KafkaCommitter logs a spurious ProducerFencedException after an
         * exactly-once restart.
         *
         * @param version 0, 1 or 2
         * @return this builder
         */
        public Builder transactionVersion(int version) {
            this.transactionVersion = version;
            return this;
        }

        /**
         * Sets how long formatting plus startup may take before {@link #start()} fails. Default 90 s.
         *
         * @param timeout the startup timeout
         * @return this builder
         */
        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Sets how long {@link LocalKafkaBroker#close()} waits after SIGTERM before killing. Default 20 s.
         *
         * @param timeout the grace period
         * @return this builder
         */
        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Formats storage, starts the broker process and waits until it serves requests.
         *
         * @return the running broker
         * @throws IllegalStateException if it does not become ready in time; the message includes the
         *                               tail of the broker's log
         */
        public LocalKafkaBroker start() {
            Path dir = workDir;
            boolean temporary = dir == null;
            if (temporary) {
                try {
                    dir = Files.createTempDirectory("kafka-local-");
                } catch (IOException e) {
                    throw new UncheckedIOException("Cannot create a temporary directory", e);
                }
            }
            Builder snapshot = copy();
            LocalKafkaBroker broker = new LocalKafkaBroker(snapshot, dir.toAbsolutePath(), temporary);
            try {
                broker.doStart();
            } catch (RuntimeException e) {
                broker.close(false); // keep the log the message points to
                throw e;
            }
            return broker;
        }

        long startupTimeoutNanos() {
            return startupTimeout.toNanos();
        }

        Builder copy() {
            Builder b = new Builder();
            b.workDir = workDir;
            b.heap = heap;
            b.startupTimeout = startupTimeout;
            b.shutdownTimeout = shutdownTimeout;
            b.transactionVersion = transactionVersion;
            b.brokerProperties.putAll(brokerProperties);
            b.jvmArgs.addAll(jvmArgs);
            return b;
        }
    }
}
