package org.fedseal.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import org.fedseal.aggregator.AggregatorConfig;
import org.fedseal.aggregator.AggregatorJob;
import org.fedseal.aggregator.LocalAggregator;
import org.fedseal.coordinator.FedsealTopics;
import org.fedseal.he.HeParameters;
import org.fedseal.kafkalocal.LocalKafkaBroker;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RegistryConfig;
import org.fedseal.registry.RegistryServer;

/**
 * The server side of a FedSeal deployment on one machine, all on 127.0.0.1: a real Kafka broker
 * (its own process), the registry (embedded SQLite) and the aggregation job (Flink MiniCluster).
 * Used by {@code fedseal demo} and the integration tests. Key holders and clients are separate.
 * {@link #close()} stops everything, in reverse order.
 */
public final class FederatedDeployment implements AutoCloseable {
    /** Broker-wide record limit: aggregates carry every summed ciphertext (~131 KB each). */
    static final String BROKER_MAX_MESSAGE_BYTES = FedsealTopics.MAX_MESSAGE_BYTES;

    private final Path workDir;
    /** The broker process this deployment started, or null on an external Kafka. */
    private final LocalKafkaBroker broker;

    private final String bootstrapServers;
    private final String adminToken;
    private final SigningKeyPair aggregatorKey;
    private final Map<String, String> aggregatorOverrides;
    private int registryPort;
    private RegistryServer registry;
    private LocalAggregator aggregator;
    private boolean closed;
    private boolean aggregatorStarted;

    private FederatedDeployment(
            Path workDir, String externalBootstrap, Map<String, String> aggregatorOverrides, int registryPort)
            throws Exception {
        this.workDir = workDir;
        this.aggregatorOverrides = Map.copyOf(aggregatorOverrides);
        this.registryPort = registryPort;
        this.adminToken =
                Base64.getUrlEncoder().withoutPadding().encodeToString(java.security.SecureRandom.getSeed(24));
        this.aggregatorKey = SigningKeyPair.generate();
        this.broker = externalBootstrap != null
                ? null
                : LocalKafkaBroker.builder()
                        .workDir(workDir.resolve("kafka"))
                        .brokerProperty("message.max.bytes", BROKER_MAX_MESSAGE_BYTES)
                        .brokerProperty("replica.fetch.max.bytes", BROKER_MAX_MESSAGE_BYTES)
                        .start();
        this.bootstrapServers = externalBootstrap != null ? externalBootstrap : broker.bootstrapServers();
        try {
            createTopics();
            startRegistry();
            startAggregator();
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    /**
     * Starts broker, registry and aggregator under {@code workDir}.
     *
     * @param aggregatorOverrides extra {@link AggregatorConfig} keys (e.g. pending grace, failure injection)
     * @param registryPort HTTP port of the registry, 0 for any free port
     */
    public static FederatedDeployment start(Path workDir, Map<String, String> aggregatorOverrides, int registryPort)
            throws Exception {
        Files.createDirectories(workDir);
        return new FederatedDeployment(workDir, null, aggregatorOverrides, registryPort);
    }

    /** Like {@link #start} on a Kafka cluster that already runs (e.g. a Testcontainers broker). */
    public static FederatedDeployment startOnKafka(
            Path workDir, String bootstrapServers, Map<String, String> aggregatorOverrides) throws Exception {
        Files.createDirectories(workDir);
        return new FederatedDeployment(workDir, Objects.requireNonNull(bootstrapServers), aggregatorOverrides, 0);
    }

    /** FedSeal's topics, one replica each; aggregates may be large (every summed ciphertext), so their record limit is raised. */
    private void createTopics() throws Exception {
        FedsealTopics.create(bootstrapServers, (short) 1, Map.of());
    }

    /** Starts (or restarts) the registry on its data directory; the same port when it had one. */
    public synchronized void startRegistry() {
        registry = RegistryServer.builder()
                .dataDir(workDir.resolve("registry"))
                .port(registryPort)
                .bindAddress("127.0.0.1")
                .adminToken(adminToken)
                .kafkaBootstrapServers(bootstrapServers)
                // Only aggregates signed by this deployment's aggregator are stored.
                .set(
                        RegistryConfig.AGGREGATOR_PUBLIC_KEY,
                        Base64.getEncoder()
                                .encodeToString(aggregatorKey.publicKey().toX509()))
                .build()
                .start();
        registryPort = registry.port(); // a restart comes back on the same address
    }

    /** Stops the registry (its data stays). */
    public synchronized void stopRegistry() {
        if (registry != null) {
            registry.stop();
        }
    }

    /** The aggregator's configuration: public material and its own signing key only. */
    public AggregatorConfig aggregatorConfig() {
        AggregatorConfig.Builder b = AggregatorConfig.builder()
                .set(AggregatorConfig.BOOTSTRAP_SERVERS, bootstrapServers)
                .set(
                        AggregatorConfig.SIGNING_KEY,
                        Base64.getEncoder()
                                .encodeToString(aggregatorKey.privateKey().exportPkcs8()))
                // Single-key and threshold (scale 2^50) models side by side.
                .set(
                        AggregatorConfig.HE_PARAMS_ID,
                        HeParameters.CKKS_8192.id() + "," + HeParameters.CKKS_8192_T50.id());
        aggregatorOverrides.forEach(b::set);
        return b.build();
    }

    /** Starts the aggregation job; after {@link #stopAggregator()}, resumes from its newest checkpoint. */
    public synchronized void startAggregator() throws Exception {
        boolean resume = aggregatorStarted;
        aggregatorStarted = true;
        aggregator = AggregatorJob.runLocal(aggregatorConfig(), workDir.resolve("checkpoints"), resume);
        aggregator.awaitRunning(java.time.Duration.ofSeconds(60));
    }

    /** Cancels the aggregation job. */
    public synchronized void stopAggregator() throws TimeoutException {
        if (aggregator != null) {
            aggregator.close();
            aggregator = null;
        }
    }

    /** The aggregator's Ed25519 public key (X.509), which signs every aggregate. */
    public byte[] aggregatorPublicKey() {
        return aggregatorKey.publicKey().toX509();
    }

    /** Kafka bootstrap servers. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The registry server. */
    public synchronized RegistryServer registry() {
        return registry;
    }

    /** A registry client allowed to mutate (coordinator). */
    public synchronized RegistryClient adminClient() {
        return RegistryClient.create(registry.uri(), adminToken);
    }

    /** The bearer token of the registry's mutating endpoints. */
    public String adminToken() {
        return adminToken;
    }

    /** The running aggregator job, or null. */
    public synchronized LocalAggregator aggregator() {
        return aggregator;
    }

    /** Where everything keeps its files. */
    public Path workDir() {
        return workDir;
    }

    /** {@link #close()}, logging instead of throwing (for shutdown hooks). */
    public void closeQuietly() {
        try {
            close();
        } catch (Exception e) {
            System.err.println("closing " + this + ": " + e);
        }
    }

    /** Stops aggregator, registry and broker; harmless when called again. */
    @Override
    public synchronized void close() throws TimeoutException {
        if (closed) {
            return;
        }
        closed = true;
        TimeoutException first = null;
        try {
            stopAggregator();
        } catch (TimeoutException e) {
            first = e;
        }
        if (registry != null) {
            registry.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "FederatedDeployment[kafka " + bootstrapServers + ", registry "
                + (registry == null ? "-" : registry.uri()) + "]";
    }
}
