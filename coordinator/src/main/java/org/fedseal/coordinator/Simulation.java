package org.fedseal.coordinator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.fedseal.client.BaseModel;
import org.fedseal.client.ClientConfig;
import org.fedseal.client.FederatedClient;
import org.fedseal.client.InMemoryModelSource;
import org.fedseal.client.LocalDataset;
import org.fedseal.client.LocalTrainer;
import org.fedseal.client.Partitioner;
import org.fedseal.client.Partitioners;
import org.fedseal.client.SealUpdateEncryptor;
import org.fedseal.client.SubmissionException;
import org.fedseal.he.CiphertextSums;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeKeyPair;
import org.fedseal.he.HeParameters;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.FederatedEvaluation;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.StrategyState;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;

/**
 * K simulated clients in one JVM, running the same code as a deployment: every client is a
 * {@link FederatedClient} that fetches the base model and public key from an
 * {@link InMemoryModelSource}, trains on its partition, clips, weights, encrypts, chunks and signs;
 * its records go to an in-memory producer instead of Kafka. A minimal in-memory aggregator checks
 * signatures and chunk hashes and adds the ciphertexts with he-native; a {@link KeyHolder} decrypts
 * and applies the mean. Used by tests, the demo and benchmarks.
 *
 * <pre>{@code
 * LocalDataset all = Mnist2500.load();
 * try (Simulation sim = Simulation.builder()
 *         .trainSet(all.range(0, 2000)).clients(5).partitioner(Partitioners.dirichlet(0.5, 42))
 *         .trainerFactory(part -> DjlTrainer.builder().block(DjlTrainer.mlp(784, 10, 128)).dataset(part).build())
 *         .build()) {
 *     List<Simulation.RoundReport> reports = sim.run(initialParameters, 3);
 * }
 * }</pre>
 */
public final class Simulation implements AutoCloseable {
    private final String modelId;
    private final HeContext he;
    private final HeKeyPair keys;
    private final KeyHolder keyHolder;
    private final InMemoryModelSource source = new InMemoryModelSource();
    private final MockProducer<byte[], byte[]> producer =
            new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    private final List<FederatedClient> clients = new ArrayList<>();
    private final List<LocalTrainer> trainers = new ArrayList<>();
    private final Map<String, SigningKeyPair> signingKeys = new HashMap<>();
    private final ToDoubleFunction<float[]> evaluator;
    private final RoundBounds bounds;
    private final Strategy strategy;
    private int evaluationRounds;
    private final int localEpochs;
    private final java.util.function.Consumer<RoundReport> onRound;

    private Simulation(Builder b) {
        this.modelId = b.modelId;
        // every client may bring any share of the largest total weight the parameter set's headroom allows
        this.bounds = RoundBounds.loosest(b.heParameters.maxSumNorm(), b.clipNorm);
        this.evaluator = b.evaluator;
        this.strategy = b.strategy;
        this.localEpochs = b.localEpochs;
        this.onRound = b.onRound;
        this.he = HeContext.create(b.heParameters);
        this.keys = he.generateKeys();
        this.keyHolder = KeyHolder.of(he, keys.secretKey());
        source.putPublicKey(keys.publicKey().toBytes());
        List<int[]> parts = b.partitioner.partition(b.trainSet.labels(), b.clients);
        for (int c = 0; c < b.clients; c++) {
            String id = "sim-client-" + c;
            SigningKeyPair kp = SigningKeyPair.generate();
            signingKeys.put(id, kp);
            LocalTrainer t = b.trainerFactory.apply(b.trainSet.subset(parts.get(c)));
            trainers.add(t);
            Map<String, Object> cfg = new HashMap<>(b.config);
            cfg.put(ClientConfig.CLIENT_ID, id);
            clients.add(FederatedClient.builder(cfg)
                    .trainer(t)
                    .modelSource(source)
                    .signingKey(kp.privateKey())
                    .producer(producer)
                    .build());
        }
    }

    /** A new builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** The clients' trainers, in client order. */
    public List<LocalTrainer> trainers() {
        return List.copyOf(trainers);
    }

    /**
     * One round's outcome.
     *
     * @param round round number (1-based)
     * @param model the new model version
     * @param participants clients whose update was summed
     * @param totalWeight sum of their weights
     * @param meanTrainLoss mean of the clients' reported training loss
     * @param metric the evaluator's value on the new parameters (NaN without an evaluator)
     * @param bytesSent bytes of update records all clients produced
     * @param seconds wall time of the round
     */
    public record RoundReport(
            int round,
            BaseModel model,
            int participants,
            long totalWeight,
            double meanTrainLoss,
            double metric,
            long bytesSent,
            double seconds) {}

    /**
     * Runs {@code rounds} rounds of the builder's {@link Builder#strategy strategy} (FedAvg by
     * default) starting from {@code initial}: each round carries the strategy's round configuration
     * ({@link Strategy#configure}: client learning rate, FedProx μ), and the key holder turns the
     * decrypted mean into the next version with the strategy, keeping its state between rounds.
     */
    public List<RoundReport> run(float[] initial, int rounds) throws SubmissionException {
        List<RoundReport> out = new ArrayList<>();
        BaseModel current = BaseModel.initial(modelId, initial, System.currentTimeMillis());
        ChunkLayout layout = SealUpdateEncryptor.defaultLayout(he.parameters(), initial.length);
        Hash pkHash = Hash.sha256(keys.publicKey().toBytes());
        StrategyState state = strategy.initialState(initial.length);
        for (int r = 1; r <= rounds; r++) {
            long t0 = System.nanoTime();
            source.putModel(current);
            RoundOpened round = strategy.configure(bounds.applyTo(RoundOpened.newBuilder()))
                    .setModelId(modelId)
                    .setRound(r)
                    .setBaseModelHash(current.versionHash().toByteBuffer())
                    .setHeParamsId(he.parameters().id())
                    .setPublicKeyHash(pkHash.toByteBuffer())
                    .setQuorum(clients.size())
                    .setDeadlineEpochMillis(System.currentTimeMillis() + 3_600_000L)
                    .setChunkLayout(layout)
                    .setLocalEpochs(localEpochs)
                    .setOpenedAtEpochMillis(System.currentTimeMillis())
                    .build();
            producer.clear();
            for (FederatedClient c : clients) {
                c.participate(round);
            }
            long bytes = 0;
            for (ProducerRecord<byte[], byte[]> rec : producer.history()) {
                bytes += rec.value().length;
            }
            List<AggregateChunkSum> chunkSums = new ArrayList<>();
            AggregatePublished agg = aggregate(round, producer.history(), chunkSums);
            Strategy.Step step =
                    keyHolder.apply(agg, Aggregates.of(chunkSums), current.parameters(), strategy, state, round);
            float[] next = step.weights();
            state = step.state();
            current = BaseModel.create(
                    modelId, r, next, current.versionHash(), CanonicalHash.of(agg), null, System.currentTimeMillis());
            double metric = evaluator == null ? Double.NaN : evaluator.applyAsDouble(next);
            RoundReport report = new RoundReport(
                    r,
                    current,
                    agg.getAcceptedCount(),
                    agg.getTotalWeight(),
                    Double.NaN,
                    metric,
                    bytes,
                    (System.nanoTime() - t0) / 1e9);
            out.add(report);
            if (onRound != null) {
                onRound.accept(report);
            }
        }
        return out;
    }

    /**
     * Federated evaluation of {@code parameters} (issue 19), the same code path as a deployment's:
     * every client evaluates them on its own data ({@link LocalTrainer#evaluate}) and sends its
     * encrypted {@link FederatedEvaluation} sums in an {@code EVALUATE} round, the in-memory
     * aggregator adds them and the key holder decrypts only the totals.
     *
     * @param lossBound the largest mean loss a client may report (clients above it refuse: the call then fails)
     * @return the example-weighted accuracy and loss over all clients' data
     * @throws SubmissionException if a client cannot take part (e.g. its loss is above {@code lossBound})
     */
    public FederatedEvaluation.Metrics evaluate(float[] parameters, double lossBound) throws SubmissionException {
        BaseModel model = BaseModel.initial(modelId, parameters, System.currentTimeMillis());
        source.putModel(model);
        RoundBounds b = RoundBounds.loosest(he.parameters().maxSumNorm(), FederatedEvaluation.clipNormFor(lossBound));
        RoundOpened round = b.applyTo(RoundOpened.newBuilder())
                .setModelId(modelId)
                .setRound(++evaluationRounds)
                .setBaseModelHash(model.versionHash().toByteBuffer())
                .setHeParamsId(he.parameters().id())
                .setPublicKeyHash(Hash.sha256(keys.publicKey().toBytes()).toByteBuffer())
                .setQuorum(clients.size())
                .setDeadlineEpochMillis(System.currentTimeMillis() + 3_600_000L)
                .setChunkLayout(FederatedEvaluation.layout(
                        SealUpdateEncryptor.defaultLayout(he.parameters(), 1).getValuesPerCiphertext()))
                .setLocalEpochs(1)
                .setOpenedAtEpochMillis(System.currentTimeMillis())
                .setTask(org.fedseal.protocol.wire.RoundTask.EVALUATE)
                .build();
        producer.clear();
        for (FederatedClient c : clients) {
            c.participate(round);
        }
        List<AggregateChunkSum> chunkSums = new ArrayList<>();
        AggregatePublished agg = aggregate(round, producer.history(), chunkSums);
        return keyHolder.decryptEvaluation(agg, Aggregates.of(chunkSums));
    }

    /**
     * The in-memory stand-in for the Flink aggregator: verify, then add ciphertext i of every
     * update ({@link CiphertextSums}) and build the aggregate as the job does ({@link Aggregates}).
     *
     * @param chunkSumsOut receives the aggregate's chunk sums
     */
    private AggregatePublished aggregate(
            RoundOpened round, List<ProducerRecord<byte[], byte[]>> records, List<AggregateChunkSum> chunkSumsOut) {
        Map<String, List<UpdateChunk>> chunks = new HashMap<>();
        List<UpdateCommit> commits = new ArrayList<>();
        for (ProducerRecord<byte[], byte[]> rec : records) {
            try {
                Object p = WireCodec.DEFAULT
                        .decode(rec.value(), UpdateEnvelope.class)
                        .getPayload();
                if (p instanceof UpdateChunk c) {
                    chunks.computeIfAbsent(c.getUpdateId(), k -> new ArrayList<>())
                            .add(c);
                } else {
                    commits.add((UpdateCommit) p);
                }
            } catch (WireFormatException e) {
                throw new IllegalStateException("simulated client produced an undecodable record", e);
            }
        }
        List<List<byte[]>> addends = new ArrayList<>();
        List<UpdateAccepted> accepted = new ArrayList<>();
        for (UpdateCommit commit : commits) {
            if (!Signatures.verify(commit, signingKeys.get(commit.getClientId()).publicKey())) {
                throw new IllegalStateException("bad signature from " + commit.getClientId());
            }
            List<UpdateChunk> cs = chunks.getOrDefault(commit.getUpdateId(), List.of());
            for (UpdateChunk c : cs) {
                if (!CanonicalHash.of(c).matches(commit.getChunkHashes().get(c.getChunkIndex()))) {
                    throw new IllegalStateException("chunk hash mismatch from " + commit.getClientId());
                }
            }
            addends.add(Chunker.reassemble(cs));
            accepted.add(UpdateAccepted.newBuilder()
                    .setModelId(round.getModelId())
                    .setRound(round.getRound())
                    .setClientId(commit.getClientId())
                    .setUpdateId(commit.getUpdateId())
                    .setUpdateHash(CanonicalHash.of(commit).toByteBuffer())
                    .setWeight(commit.getWeight())
                    .setAcceptedAtEpochMillis(System.currentTimeMillis())
                    .build());
        }
        List<byte[]> sums;
        try {
            sums = CiphertextSums.sum(he, addends);
        } catch (MalformedHeDataException e) {
            throw new IllegalStateException("simulated client produced a malformed ciphertext", e);
        }
        AggregatePublished draft = Aggregates.manifest(
                round.getModelId(),
                round.getRound(),
                AggregateStatus.COMPLETED,
                round.getHeParamsId(),
                accepted,
                List.of(),
                0,
                "simulation",
                System.currentTimeMillis());
        ChunkLayout layout = round.getChunkLayout();
        for (int c = 0; c < layout.getChunkCount(); c++) {
            int from = c * layout.getCiphertextsPerChunk();
            chunkSumsOut.add(Aggregates.chunkSum(
                    round.getModelId(),
                    round.getRound(),
                    c,
                    round.getHeParamsId(),
                    Hash.of(draft.getAcceptedUpdateRoot()),
                    sums.subList(from, Math.min(sums.size(), from + layout.getCiphertextsPerChunk()))));
        }
        return Aggregates.manifest(
                round.getModelId(),
                round.getRound(),
                AggregateStatus.COMPLETED,
                round.getHeParamsId(),
                accepted,
                chunkSumsOut,
                0,
                "simulation",
                draft.getClosedAtEpochMillis());
    }

    /** Closes the clients, trainers and keys. */
    @Override
    public void close() {
        for (FederatedClient c : clients) {
            c.close();
        }
        for (LocalTrainer t : trainers) {
            try {
                t.close();
            } catch (Exception e) {
                // best effort
            }
        }
        keyHolder.close();
        keys.close();
        he.close();
    }

    /** Builder of a {@link Simulation}. */
    public static final class Builder {
        private LocalDataset trainSet;
        private int clients = 5;
        private Partitioner partitioner = Partitioners.iid(42);
        private Function<LocalDataset, LocalTrainer> trainerFactory;
        private ToDoubleFunction<float[]> evaluator;
        private HeParameters heParameters = HeParameters.CKKS_8192;
        private String modelId = "sim-model";
        private final Map<String, Object> config = new HashMap<>();
        private double clipNorm = 10.0;
        private Strategy strategy = Strategy.fedAvg();
        private int localEpochs = 1;
        private java.util.function.Consumer<RoundReport> onRound;

        private Builder() {}

        /** Data to partition among the clients. Required. */
        public Builder trainSet(LocalDataset trainSet) {
            this.trainSet = Objects.requireNonNull(trainSet, "trainSet");
            return this;
        }

        /** Number of clients (default 5). */
        public Builder clients(int clients) {
            if (clients < 1) {
                throw new IllegalArgumentException("clients must be >= 1");
            }
            this.clients = clients;
            return this;
        }

        /** How the data is split (default IID, seed 42). */
        public Builder partitioner(Partitioner partitioner) {
            this.partitioner = Objects.requireNonNull(partitioner, "partitioner");
            return this;
        }

        /** Makes each client's trainer from its partition. Required. */
        public Builder trainerFactory(Function<LocalDataset, LocalTrainer> trainerFactory) {
            this.trainerFactory = Objects.requireNonNull(trainerFactory, "trainerFactory");
            return this;
        }

        /** Evaluates each new model (e.g. test accuracy). Optional. */
        public Builder evaluator(ToDoubleFunction<float[]> evaluator) {
            this.evaluator = evaluator;
            return this;
        }

        /** HE parameters (default {@link HeParameters#CKKS_8192}). */
        public Builder heParameters(HeParameters heParameters) {
            this.heParameters = Objects.requireNonNull(heParameters, "heParameters");
            return this;
        }

        /** Model id (default {@code sim-model}). */
        public Builder modelId(String modelId) {
            this.modelId = Objects.requireNonNull(modelId, "modelId");
            return this;
        }

        /**
         * The rounds' clip norm C (default 10); the rounds' largest total weight is the largest the
         * parameter set's headroom allows at C ({@link RoundBounds}).
         *
         * @throws IllegalArgumentException unless positive and finite
         */
        public Builder clipNorm(double clipNorm) {
            if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
                throw new IllegalArgumentException("clipNorm must be positive and finite, got " + clipNorm);
            }
            this.clipNorm = clipNorm;
            return this;
        }

        /**
         * The server strategy (default {@link Strategy#fedAvg()}); its round configuration (client
         * learning rate, FedProx μ) goes into every round's {@code RoundOpened}.
         */
        public Builder strategy(Strategy strategy) {
            this.strategy = Objects.requireNonNull(strategy, "strategy");
            return this;
        }

        /**
         * Local epochs every round asks for ({@code RoundOpened.localEpochs}, default 1).
         *
         * @throws IllegalArgumentException if below 1
         */
        public Builder localEpochs(int localEpochs) {
            if (localEpochs < 1) {
                throw new IllegalArgumentException("localEpochs must be >= 1, got " + localEpochs);
            }
            this.localEpochs = localEpochs;
            return this;
        }

        /** Called with each round's report as soon as the round is done (progress output); optional. */
        public Builder onRound(java.util.function.Consumer<RoundReport> onRound) {
            this.onRound = onRound;
            return this;
        }

        /** A client configuration entry ({@link ClientConfig} keys; {@code client.id} is set per client). */
        public Builder config(String key, Object value) {
            config.put(key, value);
            return this;
        }

        /** Builds the simulation (generates HE and signing keys, partitions, builds clients). */
        public Simulation build() {
            if (trainSet == null || trainerFactory == null) {
                throw new IllegalStateException("Simulation needs a trainSet and a trainerFactory");
            }
            return new Simulation(this);
        }
    }
}
