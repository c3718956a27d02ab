package org.fedseal.client;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.client.internal.DjlSupport;
import org.fedseal.client.internal.UpdateSender;
import org.fedseal.he.HeParameters;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.FederatedEvaluation;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RecordTooLargeException;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A federated-learning client: trains locally, clips, weights and encrypts its update, splits it into
 * chunks, signs the commit and produces everything to Kafka. See the package documentation for an
 * example and {@link ClientConfig} for the configuration keys.
 *
 * <p>Two ways to use it:
 * <ul>
 *   <li>step by step: {@link #trainOnce(RoundOpened, BaseModel)} then {@link #submit(RoundOpened, LocalUpdate)},
 *       or both at once with {@link #participate(RoundOpened)};</li>
 *   <li>listener mode: {@link #startListening(RoundListener)} consumes {@code RoundOpened} records from the
 *       rounds topic and takes part in every open round of the configured models.</li>
 * </ul>
 *
 * <p>Before anything is sent, {@link #submit} checks the round's deadline, that the update was
 * trained from the round's base model, the HE parameter id and the public-key hash, and the chunk
 * layout; any mismatch is a {@link SubmissionException} and no record is produced. The producer is
 * idempotent ({@code enable.idempotence=true}, {@code acks=all}); records are keyed by
 * {@link UpdateKey} ({@code modelId/round/clientId}).
 *
 * <p>Thread-safe; {@link #close()} stops the listener and closes what the client created.
 */
public final class FederatedClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FederatedClient.class);

    private final ClientConfig config;
    private final String clientId;
    private final LocalTrainer trainer;
    private final UpdateEncryptor fixedEncryptor;
    private final ModelSource modelSource;
    private final SigningPrivateKey signingKey;
    private final Producer<byte[], byte[]> producer;
    private final boolean ownsProducer;
    private final Supplier<Consumer<byte[], byte[]>> consumerFactory;
    private final Clock clock;
    private final UpdatePolicy policy;
    private final Random random;
    /** Draws compact rounds' masking keys: always a SecureRandom, even when {@link #random} is seeded. */
    private final SecureRandom maskRandom = new SecureRandom();

    private final UpdateSender sender;
    private final Map<Hash, UpdateEncryptor> loadedEncryptors = new ConcurrentHashMap<>();
    private final Set<String> participated = ConcurrentHashMap.newKeySet();
    private final Object trainLock = new Object();
    private volatile Thread listenerThread;
    private volatile Consumer<byte[], byte[]> listenerConsumer;
    private volatile boolean closed;

    private FederatedClient(Builder b, ClientConfig config, SigningPrivateKey key) {
        this.config = config;
        this.clientId = config.clientId();
        this.trainer = b.trainer;
        this.fixedEncryptor = b.encryptor;
        this.modelSource = b.modelSource;
        this.signingKey = key;
        this.clock = b.clock;
        this.policy = new UpdatePolicy(config.clipBound(), config.noiseMultiplier());
        Long seed = config.noiseSeed();
        this.random = seed == null ? new SecureRandom() : new Random(seed);
        if (b.producer != null) {
            this.producer = b.producer;
            this.ownsProducer = false;
        } else {
            this.producer = new KafkaProducer<>(producerProps(config));
            this.ownsProducer = true;
        }
        this.consumerFactory =
                b.consumerFactory != null ? b.consumerFactory : () -> new KafkaConsumer<>(consumerProps(config));
        this.sender = new UpdateSender(
                producer,
                config.topic(ClientConfig.TOPIC_UPDATES, Topics.UPDATES),
                config.submitRetries(),
                config.retryBackoffMs(),
                config.submitTimeoutMs());
    }

    /** A builder over a configuration map (keys in {@link ClientConfig}). */
    public static Builder builder(Map<String, ?> config) {
        return new Builder(config);
    }

    /** This client's id. */
    public String clientId() {
        return clientId;
    }

    /** The clip/noise/weight policy derived from the configuration. */
    public UpdatePolicy policy() {
        return policy;
    }

    /**
     * Checks {@code base} against the round (deadline, sample, base model hash) and trains on it
     * as the round asks: {@link LocalTrainer#fit(float[], RoundConfig)} with the round's
     * {@link RoundConfig} (local epochs, learning rate, batch size, FedProx μ).
     *
     * @return the update, bound to the base model's version hash
     * @throws SubmissionException ROUND_CLOSED, NOT_SAMPLED (the round sampled other clients;
     *     nothing is trained), BAD_ROUND_CONFIG or WRONG_BASE_MODEL
     */
    public LocalUpdate trainOnce(RoundOpened round, BaseModel base) throws SubmissionException {
        Objects.requireNonNull(round, "round");
        Objects.requireNonNull(base, "base");
        requireTrainer();
        checkDeadline(round);
        RoundRules.checkSampled(round, clientId);
        if (FederatedEvaluation.isEvaluation(round)) {
            throw new SubmissionException(
                    SubmissionException.Reason.INVALID_UPDATE,
                    "round " + round.getModelId() + "/" + round.getRound()
                            + " is an evaluation round: use evaluateOnce");
        }
        checkBase(round, base);
        LocalUpdate u;
        synchronized (trainLock) {
            u = trainer.fit(base.parameters(), RoundRules.roundConfig(round));
        }
        return u.withBaseModelHash(base.versionHash());
    }

    /**
     * Evaluates the round's base model on the local data for an evaluation round
     * ({@code RoundOpened.task = EVALUATE}, Flower's client {@code evaluate}) and returns what
     * {@link #submit} sends: the {@link FederatedEvaluation} vector of per-example means
     * {@code (1, correct/n, lossSum/n, hasAccuracy)} with weight {@code n} (the examples evaluated),
     * bound to the base model, and metrics {@code examples}, {@code loss} and (classifiers)
     * {@code accuracy} in the clear for the caller (they are not sent).
     *
     * @throws SubmissionException ROUND_CLOSED, WRONG_BASE_MODEL, INVALID_UPDATE for a training
     *     round, or HEADROOM_EXCEEDED if the local mean loss is above the round's loss bound
     *     ({@link FederatedEvaluation#lossBound}): the client refuses rather than let clipping
     *     corrupt the round's metrics, and sends nothing
     * @throws UnsupportedOperationException if the trainer does not implement {@link LocalTrainer#evaluate}
     */
    public LocalUpdate evaluateOnce(RoundOpened round, BaseModel base) throws SubmissionException {
        Objects.requireNonNull(round, "round");
        Objects.requireNonNull(base, "base");
        requireTrainer();
        checkDeadline(round);
        if (!FederatedEvaluation.isEvaluation(round)) {
            throw new SubmissionException(
                    SubmissionException.Reason.INVALID_UPDATE,
                    "round " + round.getModelId() + "/" + round.getRound()
                            + " is a training round, not an evaluation round");
        }
        checkBase(round, base);
        LocalEvaluation e;
        synchronized (trainLock) {
            e = trainer.evaluate(base.parameters());
        }
        return RoundRules.evaluationUpdate(round, e).withBaseModelHash(base.versionHash());
    }

    /** The base model is the round's (model, hash) and has the trainer's parameter count. */
    private void checkBase(RoundOpened round, BaseModel base) throws SubmissionException {
        if (!base.modelId().equals(round.getModelId())) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_BASE_MODEL,
                    "base model is of model " + base.modelId() + ", the round of " + round.getModelId());
        }
        base.verify(roundBaseHash(round));
        if (base.parameters().length != trainer.parameterCount()) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_BASE_MODEL,
                    "base model has " + base.parameters().length + " parameters, the trainer's model "
                            + trainer.parameterCount());
        }
    }

    /**
     * Clips, (optionally) noises and weights the update, encrypts it, splits it into chunks per the
     * round's layout, signs the commit and produces the chunks and then the commit.
     *
     * @throws SubmissionException on any check failure (nothing sent) or a Kafka failure
     */
    public SubmissionReceipt submit(RoundOpened round, LocalUpdate update) throws SubmissionException {
        Chunker.PreparedUpdate prepared = prepare(round, update);
        checkDeadline(round);
        long bytes = sender.send(
                new UpdateKey(round.getModelId(), round.getRound(), clientId), prepared.chunks(), prepared.commit());
        LOG.info(
                "client {} submitted update {} for {}/{}: {} chunks, {} bytes",
                clientId,
                prepared.commit().getUpdateId(),
                round.getModelId(),
                round.getRound(),
                prepared.chunks().size(),
                bytes);
        return new SubmissionReceipt(prepared.commit(), prepared.chunks().size(), bytes);
    }

    /**
     * Everything {@link #submit} does but sending: the update clipped, weighted, encrypted (or, in a
     * compact round, masked), cut into chunks and signed, ready to produce. Each call encrypts anew
     * (a fresh update id and, in a compact round, a fresh masking key).
     *
     * @throws SubmissionException on any check failure
     */
    public Chunker.PreparedUpdate prepare(RoundOpened round, LocalUpdate update) throws SubmissionException {
        Objects.requireNonNull(round, "round");
        Objects.requireNonNull(update, "update");
        ensureOpen();
        RoundRules.checkSampled(round, clientId);
        checkDeadline(round);
        Hash base = roundBaseHash(round);
        if (update.baseModelHash() == null) {
            throw new SubmissionException(
                    SubmissionException.Reason.INVALID_UPDATE,
                    "the update is not bound to a base model (use trainOnce or LocalUpdate.withBaseModelHash)");
        }
        if (!update.baseModelHash().equals(base)) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_BASE_MODEL,
                    "the update was trained from " + update.baseModelHash() + ", the round's base model is " + base);
        }
        UpdateEncryptor encryptor = encryptorFor(round);
        checkLayout(round, update, encryptor);
        float[] weighted;
        boolean evaluation = FederatedEvaluation.isEvaluation(round);
        if (evaluation) {
            RoundRules.checkEvaluationFits(
                    round, update.delta(), update.metrics().getOrDefault(LocalUpdate.METRIC_LOSS, Double.NaN));
        }
        synchronized (random) {
            // evaluation sums carry no local noise and ignore this client's own clip bound: the vector must arrive
            // exactly
            weighted = (evaluation ? UpdatePolicy.roundDefaults() : policy)
                    .prepare(update.delta(), update.weight(), round, random);
        }
        List<byte[]> ciphertexts = RoundRules.encrypt(encryptor, weighted, round, maskRandom);
        String updateId = UUID.randomUUID().toString();
        Chunker.PreparedUpdate prepared;
        try {
            prepared = Chunker.prepare(
                    clientId,
                    round,
                    updateId,
                    ciphertexts,
                    UpdatePolicy.weightFor(update.weight(), round),
                    clock.millis(),
                    signingKey,
                    config.maxRecordBytes());
        } catch (RecordTooLargeException e) {
            throw new SubmissionException(SubmissionException.Reason.BAD_CHUNK_LAYOUT, e.getMessage(), e);
        }
        return prepared;
    }

    /**
     * Takes part in a round: fetches the base model from the {@link ModelSource}, trains (or, in an
     * evaluation round, {@linkplain #evaluateOnce evaluates}) and submits.
     *
     * @throws SubmissionException as {@link #trainOnce} and {@link #submit}, or SOURCE_UNAVAILABLE;
     *     NOT_SAMPLED before anything is fetched when the round's sample leaves this client out
     *     (listener mode logs that and skips the round)
     */
    public SubmissionReceipt participate(RoundOpened round) throws SubmissionException {
        if (modelSource == null) {
            throw new IllegalStateException("participate needs a ModelSource (FederatedClient.Builder.modelSource)");
        }
        RoundRules.checkSampled(round, clientId); // an unsampled client fetches and trains nothing
        checkDeadline(round);
        encryptorFor(round); // fail on a wrong key before spending time on training
        BaseModel base = modelSource.baseModel(round.getModelId(), roundBaseHash(round));
        LocalUpdate update =
                FederatedEvaluation.isEvaluation(round) ? evaluateOnce(round, base) : trainOnce(round, base);
        return submit(round, update);
    }

    /**
     * Starts a background thread that consumes {@code RoundOpened} records from the rounds topic and
     * {@linkplain #participate takes part} in every round that is still open, once, for the models in
     * {@link ClientConfig#MODEL_IDS} (all if empty). Needs a {@link ModelSource}.
     *
     * @throws IllegalStateException if already listening or no ModelSource is configured
     */
    public synchronized void startListening(RoundListener listener) {
        Objects.requireNonNull(listener, "listener");
        ensureOpen();
        if (modelSource == null) {
            throw new IllegalStateException("listener mode needs a ModelSource (FederatedClient.Builder.modelSource)");
        }
        if (listenerThread != null) {
            throw new IllegalStateException("already listening");
        }
        Consumer<byte[], byte[]> consumer = consumerFactory.get();
        listenerConsumer = consumer;
        Thread t = new Thread(() -> listen(consumer, listener), "fedseal-client-" + clientId);
        t.setDaemon(true);
        listenerThread = t;
        t.start();
    }

    private void listen(Consumer<byte[], byte[]> consumer, RoundListener listener) {
        Set<String> models = config.modelIds();
        try (consumer) {
            consumer.subscribe(List.of(config.topic(ClientConfig.TOPIC_ROUNDS, Topics.ROUNDS)));
            while (!closed) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
                    RoundOpened round;
                    try {
                        round = WireCodec.DEFAULT.decode(rec.value(), RoundOpened.class);
                    } catch (WireFormatException e) {
                        LOG.warn(
                                "skipping undecodable record at {}-{}@{}: {}",
                                rec.topic(),
                                rec.partition(),
                                rec.offset(),
                                e.getMessage());
                        continue;
                    }
                    if (!models.isEmpty() && !models.contains(round.getModelId())) {
                        continue;
                    }
                    if (clock.millis() > round.getDeadlineEpochMillis()) {
                        LOG.debug("skipping closed round {}/{}", round.getModelId(), round.getRound());
                        continue;
                    }
                    if (!participated.add(round.getModelId() + "/" + round.getRound())) {
                        continue;
                    }
                    try {
                        listener.onSubmitted(round, participate(round));
                    } catch (SubmissionException e) {
                        if (e.reason() == SubmissionException.Reason.NOT_SAMPLED) {
                            LOG.info(
                                    "client {} skips {}/{}: not among its {} sampled clients",
                                    clientId,
                                    round.getModelId(),
                                    round.getRound(),
                                    round.getSampledClients().size());
                            continue;
                        }
                        LOG.warn(
                                "client {} could not take part in {}/{}: {}",
                                clientId,
                                round.getModelId(),
                                round.getRound(),
                                e.getMessage());
                        listener.onFailed(round, e);
                    } catch (RuntimeException e) {
                        LOG.error("client {} failed in round {}/{}", clientId, round.getModelId(), round.getRound(), e);
                        listener.onFailed(
                                round,
                                new SubmissionException(SubmissionException.Reason.INVALID_UPDATE, e.toString(), e));
                    }
                }
                consumer.commitSync();
            }
        } catch (WakeupException e) {
            if (!closed) {
                LOG.error("listener woken up unexpectedly", e);
            }
        } catch (RuntimeException e) {
            LOG.error("client {} listener stopped", clientId, e);
        }
    }

    private UpdateEncryptor encryptorFor(RoundOpened round) throws SubmissionException {
        Hash keyHash;
        try {
            keyHash = Hash.of(round.getPublicKeyHash());
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_PUBLIC_KEY,
                    "the round's publicKeyHash is not a SHA-256 digest",
                    e);
        }
        if (fixedEncryptor != null) {
            if (!fixedEncryptor.heParamsId().equals(round.getHeParamsId())) {
                throw new SubmissionException(
                        SubmissionException.Reason.WRONG_HE_PARAMS,
                        "the round uses " + round.getHeParamsId() + ", this client's encryptor "
                                + fixedEncryptor.heParamsId());
            }
            if (!fixedEncryptor.publicKeyHash().equals(keyHash)) {
                throw new SubmissionException(
                        SubmissionException.Reason.WRONG_PUBLIC_KEY,
                        "the round's public key is " + keyHash + ", this client's encryptor uses "
                                + fixedEncryptor.publicKeyHash());
            }
            return fixedEncryptor;
        }
        if (modelSource == null) {
            throw new IllegalStateException("no encryptor and no ModelSource configured");
        }
        UpdateEncryptor cached = loadedEncryptors.get(keyHash);
        if (cached != null) {
            if (!cached.heParamsId().equals(round.getHeParamsId())) {
                throw new SubmissionException(
                        SubmissionException.Reason.WRONG_HE_PARAMS,
                        "public key " + keyHash + " is a " + cached.heParamsId() + " key, the round says "
                                + round.getHeParamsId());
            }
            return cached;
        }
        HeParameters params = HeParameters.byId(round.getHeParamsId())
                .orElseThrow(() -> new SubmissionException(
                        SubmissionException.Reason.WRONG_HE_PARAMS,
                        "unknown HE parameter set '" + round.getHeParamsId() + "'; known: " + HeParameters.all()));
        byte[] pk = modelSource.verifiedPublicKey(round.getHeParamsId(), keyHash);
        UpdateEncryptor enc;
        try {
            enc = SealUpdateEncryptor.load(params, pk);
        } catch (MalformedHeDataException e) {
            for (HeParameters other : HeParameters.all()) {
                if (other != params) {
                    try (SealUpdateEncryptor probe = SealUpdateEncryptor.load(other, pk)) {
                        throw new SubmissionException(
                                SubmissionException.Reason.WRONG_HE_PARAMS,
                                "public key " + keyHash + " is a " + probe.heParamsId() + " key, the round says "
                                        + params.id(),
                                e);
                    } catch (MalformedHeDataException ignored) {
                        // not that one either
                    }
                }
            }
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_PUBLIC_KEY,
                    "public key " + keyHash + " is not a valid " + params.id() + " key: " + e.getMessage(),
                    e);
        }
        UpdateEncryptor prev = loadedEncryptors.putIfAbsent(keyHash, enc);
        if (prev != null) {
            enc.close();
            return prev;
        }
        return enc;
    }

    private static ChunkLayout checkLayout(RoundOpened round, LocalUpdate update, UpdateEncryptor enc)
            throws SubmissionException {
        ChunkLayout l = round.getChunkLayout();
        if (!Chunker.isConsistent(l)) {
            throw new SubmissionException(SubmissionException.Reason.BAD_CHUNK_LAYOUT, "inconsistent layout " + l);
        }
        if (l.getTotalValues() != update.delta().length) {
            throw new SubmissionException(
                    SubmissionException.Reason.BAD_CHUNK_LAYOUT,
                    "the round's layout has " + l.getTotalValues() + " values, the update " + update.delta().length);
        }
        if (l.getValuesPerCiphertext() != enc.valuesPerCiphertext()) {
            throw new SubmissionException(
                    SubmissionException.Reason.BAD_CHUNK_LAYOUT,
                    "the round's layout packs "
                            + l.getValuesPerCiphertext() + " values per ciphertext, " + enc.heParamsId() + " packs "
                            + enc.valuesPerCiphertext());
        }
        return l;
    }

    private static Hash roundBaseHash(RoundOpened round) throws SubmissionException {
        try {
            return Hash.of(round.getBaseModelHash());
        } catch (IllegalArgumentException e) {
            throw new SubmissionException(
                    SubmissionException.Reason.WRONG_BASE_MODEL,
                    "the round's baseModelHash is not a SHA-256 digest",
                    e);
        }
    }

    private void checkDeadline(RoundOpened round) throws SubmissionException {
        long now = clock.millis();
        if (now > round.getDeadlineEpochMillis()) {
            throw new SubmissionException(
                    SubmissionException.Reason.ROUND_CLOSED,
                    "round " + round.getModelId() + "/"
                            + round.getRound() + " closed at " + Instant.ofEpochMilli(round.getDeadlineEpochMillis())
                            + " (now " + Instant.ofEpochMilli(now) + ")");
        }
    }

    private void requireTrainer() {
        if (trainer == null) {
            throw new IllegalStateException("training needs a LocalTrainer (FederatedClient.Builder.trainer)");
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("client " + clientId + " is closed");
        }
    }

    private static Map<String, Object> producerProps(ClientConfig c) {
        Map<String, Object> p = new HashMap<>(c.kafkaPassThrough());
        String bootstrap = c.get(ClientConfig.BOOTSTRAP_SERVERS);
        if (bootstrap == null || bootstrap.isEmpty()) {
            throw new IllegalArgumentException("config key '" + ClientConfig.BOOTSTRAP_SERVERS + "' is required");
        }
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "fedseal-client-" + c.clientId());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Math.max(c.maxRecordBytes(), 1 << 20) + 64 * 1024);
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        return p;
    }

    private static Map<String, Object> consumerProps(ClientConfig c) {
        Map<String, Object> p = new HashMap<>(c.kafkaPassThrough());
        String bootstrap = c.get(ClientConfig.BOOTSTRAP_SERVERS);
        if (bootstrap == null || bootstrap.isEmpty()) {
            throw new IllegalArgumentException("config key '" + ClientConfig.BOOTSTRAP_SERVERS + "' is required");
        }
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.putIfAbsent(ConsumerConfig.GROUP_ID_CONFIG, "fedseal-client-" + c.clientId());
        p.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return p;
    }

    /** {@link #close(Duration)} with 30 seconds. */
    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }

    /**
     * Stops the listener, closes the producer if this client created it and frees loaded encryptors.
     * Always returns within about {@code timeout}; harmless when called again. The trainer and an
     * injected encryptor stay owned by the caller.
     */
    public void close(Duration timeout) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Consumer<byte[], byte[]> c = listenerConsumer;
        if (c != null) {
            c.wakeup();
        }
        Thread t = listenerThread;
        if (t != null) {
            try {
                t.join(Math.max(1, timeout.toMillis() / 2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (ownsProducer) {
            producer.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
        for (UpdateEncryptor e : loadedEncryptors.values()) {
            e.close();
        }
        loadedEncryptors.clear();
    }

    /** Builder of a {@link FederatedClient}. */
    public static final class Builder {
        private final Map<String, ?> config;
        private LocalTrainer trainer;
        private UpdateEncryptor encryptor;
        private ModelSource modelSource;
        private SigningPrivateKey signingKey;
        private Producer<byte[], byte[]> producer;
        private Supplier<Consumer<byte[], byte[]>> consumerFactory;
        private Clock clock = Clock.systemUTC();

        private Builder(Map<String, ?> config) {
            this.config = Map.copyOf(Objects.requireNonNull(config, "config"));
        }

        /** The local trainer (needed by {@code trainOnce}, {@code participate} and listener mode). */
        public Builder trainer(LocalTrainer trainer) {
            this.trainer = trainer;
            return this;
        }

        /**
         * A fixed encryptor; rounds must name its parameter id and public-key hash. Without one, keys
         * come from the {@link #modelSource}.
         */
        public Builder encryptor(UpdateEncryptor encryptor) {
            this.encryptor = encryptor;
            return this;
        }

        /** Where base models and public keys come from. */
        public Builder modelSource(ModelSource modelSource) {
            this.modelSource = modelSource;
            return this;
        }

        /** The Ed25519 key the client signs commits with (instead of {@link ClientConfig#SIGNING_KEY_FILE}). */
        public Builder signingKey(SigningPrivateKey signingKey) {
            this.signingKey = signingKey;
            return this;
        }

        /**
         * A producer to use instead of creating a {@code KafkaProducer} (e.g. Kafka's {@code MockProducer}
         * in tests, or an in-memory transport in the coordinator's {@code Simulation}); the caller keeps owning it.
         */
        public Builder producer(Producer<byte[], byte[]> producer) {
            this.producer = producer;
            return this;
        }

        /** Makes the listener's consumer instead of creating a {@code KafkaConsumer}; the client closes it. */
        public Builder consumerFactory(Supplier<Consumer<byte[], byte[]>> consumerFactory) {
            this.consumerFactory = consumerFactory;
            return this;
        }

        /** The clock deadlines are checked against (default UTC system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Validates the configuration and builds the client.
         *
         * @throws IllegalArgumentException naming a bad or missing configuration key
         * @throws IllegalStateException if neither an encryptor nor a model source is given
         */
        public FederatedClient build() {
            ClientConfig c = ClientConfig.parse(config);
            new UpdatePolicy(c.clipBound(), c.noiseMultiplier());
            SigningPrivateKey key = signingKey != null ? signingKey : readKey(c.get(ClientConfig.SIGNING_KEY_FILE));
            if (encryptor == null && modelSource == null) {
                throw new IllegalStateException("FederatedClient needs an UpdateEncryptor or a ModelSource");
            }
            if (producer == null
                    && (c.get(ClientConfig.BOOTSTRAP_SERVERS) == null
                            || c.get(ClientConfig.BOOTSTRAP_SERVERS).isEmpty())) {
                throw new IllegalArgumentException("config key '" + ClientConfig.BOOTSTRAP_SERVERS + "' is required");
            }
            DjlSupport.prepareEngine(c.numThreads());
            return new FederatedClient(this, c, key);
        }

        private static SigningPrivateKey readKey(String file) {
            if (file == null || file.isEmpty()) {
                throw new IllegalArgumentException(
                        "config key '" + ClientConfig.SIGNING_KEY_FILE + "' is required (or call Builder.signingKey)");
            }
            try {
                return SigningPrivateKey.readPkcs8(Path.of(file));
            } catch (IOException e) {
                throw new IllegalArgumentException(
                        "config key '" + ClientConfig.SIGNING_KEY_FILE + "': cannot read " + file + ": "
                                + e.getMessage(),
                        e);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "config key '" + ClientConfig.SIGNING_KEY_FILE + "': " + e.getMessage(), e);
            }
        }
    }
}
