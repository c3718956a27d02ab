package org.fedseal.coordinator;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.client.BaseModel;
import org.fedseal.coordinator.internal.CeremonyFollower;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.he.HeSecretKey;
import org.fedseal.he.SecretKeyAccess;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.KeyCeremonyTranscript;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.StrategyState;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.VersionInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The key holder, as its own process: the only place the HE secret key exists. Generates (or
 * loads) the model's CKKS key pair in its data directory, gives the registry the public key,
 * then turns every completed aggregate of its model into the next model version: decrypt,
 * divide by the total weight, add to the base version, evaluate, sign, publish.
 *
 * <p>With {@code --threshold} it is one of n key holders instead: it runs the model's key ceremony
 * over Kafka and only ever publishes decryption shares of verified aggregates; a combiner turns
 * them into versions.
 *
 * <p>Prints {@code KEYHOLDER ENROLLED} (threshold mode) once its signing key is enrolled,
 * {@code KEYHOLDER READY} once it can decrypt, and one {@code KEYHOLDER PUBLISHED} or
 * {@code KEYHOLDER SHARED} line per round, for whoever started it.
 */
@Command(
        name = "fedseal-keyholder",
        mixinStandardHelpOptions = true,
        description = "Decrypts FedSeal aggregates of one model and publishes its new versions.")
public final class KeyHolderMain implements Callable<Integer> {
    /** Environment variable with the registry's bearer token (needed to register the key). */
    public static final String TOKEN_ENV = "FEDSEAL_REGISTRY_TOKEN";

    @Option(names = "--registry", required = true, description = "Registry base URL.")
    URI registryUri;

    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
    String bootstrapServers;

    @Option(names = "--model", required = true, description = "Model id.")
    String modelId;

    @Option(
            names = "--id",
            defaultValue = "keyholder-1",
            description = "This key holder's client id (default ${DEFAULT-VALUE}).")
    String keyHolderId;

    @Option(names = "--data-dir", required = true, description = "Where the secret key lives (created, mode 700).")
    Path dataDir;

    @Option(
            names = "--he-params",
            defaultValue = "ckks-8192-v1",
            description = "HE parameter set (default ${DEFAULT-VALUE}).")
    String heParamsId;

    @Option(
            names = "--evaluator",
            description = "Score every new version with the named ModelEvaluator (found on the class "
                    + "path with ServiceLoader; the demo's: mnist).")
    String evaluatorName;

    @Option(
            names = "--evaluator-option",
            paramLabel = "KEY=VALUE",
            description = "An option of the --evaluator (repeatable).")
    Map<String, String> evaluatorOptions;

    @Option(
            names = "--strategy",
            defaultValue = "FedAvg",
            paramLabel = "Name[:key=value,...]",
            description =
                    "Single key holder: the server strategy that turns each decrypted mean update into the next version: "
                            + "FedAvg, FedAvgM, FedAdagrad, FedAdam, FedYogi or FedProx, with hyperparameters, e.g. FedAdam:eta=0.01 "
                            + "(default ${DEFAULT-VALUE}).")
    String strategy;

    @Option(
            names = "--exit-with-parent",
            description = "Exit when the process that started this one ends (for a key holder "
                    + "that a demo or test starts; a service leaves it off).")
    boolean exitWithParent;

    @Option(
            names = "--threshold",
            description =
                    "Threshold mode: take part in the model's key ceremony (opened by the "
                            + "coordinator, run over Kafka), keep one secret share, and publish decryption shares of verified aggregates.")
    boolean threshold;

    @Option(
            names = "--ceremony-timeout",
            defaultValue = "PT5M",
            description = "Threshold mode: how long to wait for the key ceremony (default ${DEFAULT-VALUE}).")
    Duration ceremonyTimeout;

    @Option(
            names = "--min-participants",
            defaultValue = "2",
            description =
                    "Threshold mode: fewest distinct participants an aggregate must have (default ${DEFAULT-VALUE}).")
    int minParticipants;

    @Option(
            names = "--aggregator-key",
            description = "Threshold mode: the aggregator's Ed25519 public key (X.509, base64).")
    String aggregatorKey;

    public static void main(String[] args) {
        System.exit(new CommandLine(new KeyHolderMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (exitWithParent) {
            exitWithParent();
        }
        HeParameters params = HeParameters.byId(heParamsId)
                .orElseThrow(() -> new IllegalArgumentException("unknown HE parameter set " + heParamsId));
        Files.createDirectories(dataDir);
        restrict(dataDir, "rwx------");
        String token = System.getenv(TOKEN_ENV);
        RegistryClient registry = RegistryClient.create(registryUri, token);
        SigningKeyPair identity = loadOrCreateIdentity(dataDir.resolve("signing.key"));
        if (threshold) {
            return runThresholdHolder(registry, identity);
        }
        try (HeContext he = HeContext.create(params);
                HeSecretKey secretKey = loadOrCreateHeKeys(he, registry);
                KeyHolder keyHolder = KeyHolder.of(he, secretKey)) {
            registry.enrollClient(keyHolderId, identity.publicKey(), List.of(modelId));
            ModelEvaluator evaluator = evaluatorName == null
                    ? null
                    : ModelEvaluator.load(evaluatorName, evaluatorOptions == null ? Map.of() : evaluatorOptions);
            System.out.println("KEYHOLDER READY model=" + modelId);
            System.out.flush();
            consume(agg -> publish(registry, keyHolder, identity.privateKey(), evaluator, agg));
        }
        return 0;
    }

    /**
     * Threshold mode: enrol, take part in the model's key ceremony (the secret share is made here,
     * kept in the data directory and never sent anywhere), then publish signed decryption shares of
     * every aggregate that passes {@link ThresholdKeyHolder}'s checks.
     */
    private int runThresholdHolder(RegistryClient registry, SigningKeyPair identity) throws Exception {
        if (aggregatorKey == null) {
            throw new CommandLine.ParameterException(
                    new CommandLine(this), "--aggregator-key is required with --threshold");
        }
        registry.enrollClient(keyHolderId, identity.publicKey(), List.of(modelId));
        System.out.println("KEYHOLDER ENROLLED " + keyHolderId);
        System.out.flush();
        String ceremonyId = awaitCeremony(registry);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, FedsealTopics.MAX_MESSAGE_BYTES);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            KeyCeremonyParticipant participant = new KeyCeremonyParticipant(
                    keyHolderId, identity.privateKey(), new ShareFiles(dataDir), new SecureRandom());
            KeyCeremonyTranscript t = CeremonyFollower.follow(
                    bootstrapServers,
                    registry,
                    ceremonyId,
                    new CeremonyFollower.Speaker(participant, producer),
                    ceremonyTimeout,
                    msg -> System.out.println("[key holder] " + msg));
            KeyCeremonyParticipant.Result result = KeyCeremonyParticipant.finish(t);
            System.out.println("[key holder] ceremony " + ceremonyId + " complete; collective public key "
                    + result.publicKeyHash().toHex().substring(0, 16) + "…");
            ThresholdKeyHolder holder = new ThresholdKeyHolder(
                    keyHolderId,
                    ceremonyId,
                    participant.party(t),
                    identity.privateKey(),
                    new ThresholdKeyHolder.Policy(
                            minParticipants,
                            SigningPublicKey.fromX509(Base64.getDecoder().decode(aggregatorKey)),
                            c -> isEnrolled(registry, c)),
                    new RegistryUpdateArchive(registry, Duration.ofSeconds(60)));
            System.out.println("KEYHOLDER READY model=" + modelId + " (threshold share " + keyHolderId + ", ceremony "
                    + ceremonyId + ")");
            System.out.flush();
            consume(agg -> {
                try {
                    DecryptionSharesPublished shares = holder.share(agg);
                    producer.send(new ProducerRecord<>(
                                    Topics.DECRYPTION_SHARES,
                                    Topics.roundKey(modelId, agg.getRound()),
                                    WireCodec.UNBOUNDED.encode(shares)))
                            .get();
                    System.out.println("KEYHOLDER SHARED round=" + agg.getRound());
                } catch (ThresholdKeyHolder.RefusedException e) {
                    System.out.println("[key holder] refused round " + agg.getRound() + ": " + e.getMessage());
                } catch (Exception e) {
                    throw new IllegalStateException("could not publish shares: " + e, e);
                }
            });
        }
        return 0;
    }

    /** The model's key ceremony, once the coordinator has opened one. */
    private String awaitCeremony(RegistryClient registry) throws InterruptedException {
        long end = System.nanoTime() + ceremonyTimeout.toNanos();
        while (System.nanoTime() < end) {
            String id = registry.model(modelId).ceremonyId();
            if (id != null) {
                return id;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no key ceremony was opened for " + modelId + " within " + ceremonyTimeout);
    }

    /** Secret shares in the data directory, one owner-only file per ceremony. */
    private record ShareFiles(Path dir) implements KeyCeremonyParticipant.SecretShareStore {
        @Override
        public java.util.Optional<byte[]> load(String ceremonyId) {
            Path f = dir.resolve("threshold-share-" + ceremonyId + ".bin");
            try {
                return Files.exists(f) ? java.util.Optional.of(Files.readAllBytes(f)) : java.util.Optional.empty();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void save(String ceremonyId, byte[] exportedShare) {
            Path f = dir.resolve("threshold-share-" + ceremonyId + ".bin");
            try {
                Files.write(f, exportedShare);
                restrict(f, "rw-------");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private static boolean isEnrolled(RegistryClient registry, String clientId) {
        try {
            registry.clientKey(clientId);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private HeSecretKey loadOrCreateHeKeys(HeContext he, RegistryClient registry) throws Exception {
        Path skFile = dataDir.resolve("he-secret.key");
        Path pkFile = dataDir.resolve("he-public.key");
        if (!Files.exists(skFile)) {
            try (HeKeyPair keys = he.generateKeys()) {
                Files.write(pkFile, keys.publicKey().toBytes());
                Files.write(skFile, keys.secretKey().toBytes(SecretKeyAccess.insecureSecretKeyAccess()));
                restrict(skFile, "rw-------");
            }
        }
        Hash pkHash = registry.putHePublicKey(modelId, Files.readAllBytes(pkFile));
        System.out.println("[key holder] HE public key " + pkHash.toHex().substring(0, 16)
                + "… registered; secret key stays in " + skFile);
        return he.loadSecretKey(Files.readAllBytes(skFile), SecretKeyAccess.insecureSecretKeyAccess());
    }

    private static SigningKeyPair loadOrCreateIdentity(Path privateFile) throws IOException {
        Path publicFile = privateFile.resolveSibling("signing.pub");
        if (Files.exists(privateFile)) {
            return SigningKeyPair.of(
                    SigningPublicKey.fromX509(Files.readAllBytes(publicFile)),
                    SigningPrivateKey.readPkcs8(privateFile));
        }
        SigningKeyPair kp = SigningKeyPair.generate();
        Files.write(privateFile, kp.privateKey().exportPkcs8());
        restrict(privateFile, "rw-------");
        Files.write(publicFile, kp.publicKey().toX509());
        return kp;
    }

    /** Hands every completed aggregate of this model to {@code handler}, once per commit of the consumer. */
    private void consume(java.util.function.Consumer<AggregatePublished> handler) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "fedseal-keyholder-" + keyHolderId);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, FedsealTopics.MAX_MESSAGE_BYTES);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, FedsealTopics.MAX_MESSAGE_BYTES);
        WireCodec codec = WireCodec.UNBOUNDED;
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.AGGREGATES));
            while (!Thread.currentThread().isInterrupted()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    AggregatePublished agg;
                    try {
                        agg = codec.decode(r.value(), AggregatePublished.class);
                    } catch (WireFormatException e) {
                        System.out.println("[key holder] skipping an undecodable aggregate record: " + e.getMessage());
                        continue;
                    }
                    if (!agg.getModelId().equals(modelId)) {
                        continue;
                    }
                    if (agg.getStatus() != AggregateStatus.COMPLETED) {
                        System.out.println("KEYHOLDER FAILED round=" + agg.getRound() + " status=" + agg.getStatus());
                        continue;
                    }
                    try {
                        handler.accept(agg);
                    } catch (RuntimeException e) {
                        System.out.println("[key holder] round " + agg.getRound() + " not handled: " + e);
                    }
                    consumer.commitSync();
                }
            }
        }
    }

    private void publish(
            RegistryClient registry,
            KeyHolder keyHolder,
            SigningPrivateKey signingKey,
            ModelEvaluator evaluator,
            AggregatePublished agg) {
        if (org.fedseal.protocol.FederatedEvaluation.isEvaluation(registry.roundRecord(modelId, agg.getRound()))) {
            recordEvaluation(registry, keyHolder, agg);
            return;
        }
        RoundInfo round = registry.roundStatus(modelId, agg.getRound());
        Hash baseHash = Hash.fromHex(round.baseModelHash());
        boolean done = registry.versions(modelId).stream()
                .anyMatch(v -> v.round() == agg.getRound()
                        && v.parentHash() != null
                        && v.parentHash().equals(baseHash.toHex()));
        if (done) {
            return; // a restart re-reads aggregates it already turned into versions
        }
        BaseModel base =
                new BaseModel(registry.versionRecord(baseHash), ModelWeights.decode(registry.weights(baseHash)));
        RegistryVersionPublisher publisher = new RegistryVersionPublisher(
                registry, keyHolderId, signingKey, evaluator == null ? null : evaluator::evaluate);
        Strategy serverStrategy = Strategy.parse(strategy);
        StrategyState parentState = serverStrategy.stateless() ? StrategyState.EMPTY : publisher.stateOf(baseHash);
        keyHolder.finishRound(
                agg,
                new RegistryUpdateArchive(registry, Duration.ofSeconds(60))::chunkSum,
                base,
                serverStrategy,
                parentState,
                registry.roundRecord(modelId, agg.getRound()),
                publisher);
        VersionInfo v = publisher.lastPublished();
        System.out.printf(
                "KEYHOLDER PUBLISHED round=%d version=%s accuracy=%s participants=%d%n",
                agg.getRound(),
                v.versionHash(),
                v.accuracy() == null ? "-" : String.format("%.4f", v.accuracy()),
                agg.getParticipants().size());
        System.out.flush();
    }

    /**
     * An evaluation round's aggregate (issue 19): decrypts only the totals of the clients' evaluation sums and records the
     * example-weighted accuracy and loss with the evaluated version (idempotent: a restart posts the same metrics again).
     */
    private void recordEvaluation(RegistryClient registry, KeyHolder keyHolder, AggregatePublished agg) {
        org.fedseal.protocol.FederatedEvaluation.Metrics m =
                keyHolder.decryptEvaluation(agg, new RegistryUpdateArchive(registry, Duration.ofSeconds(60))::chunkSum);
        var e = registry.recordEvaluation(
                modelId,
                agg.getRound(),
                org.fedseal.protocol.CanonicalHash.of(agg),
                m.examples(),
                m.accuracy(),
                m.loss(),
                keyHolderId);
        System.out.printf(
                "KEYHOLDER EVALUATED round=%d version=%s accuracy=%s loss=%.6f examples=%d participants=%d%n",
                agg.getRound(),
                e.versionHash(),
                e.accuracy() == null ? "-" : String.format("%.6f", e.accuracy()),
                e.loss(),
                e.examples(),
                e.participants().size());
        System.out.flush();
    }

    /** A key holder started by a demo must not outlive it, even after a kill -9 of the demo. */
    private static void exitWithParent() {
        ProcessHandle.current()
                .parent()
                .ifPresent(parent -> parent.onExit().thenRun(() -> {
                    System.out.println("[key holder] parent process ended; exiting");
                    System.exit(0);
                }));
    }

    private static void restrict(Path p, String perms) {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: nothing stronger to do here
        }
    }
}
