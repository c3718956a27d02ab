package org.fedseal.registry.internal;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fedseal.protocol.ConsistencyProof;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.InclusionProof;
import org.fedseal.protocol.MerkleLog;
import org.fedseal.protocol.ModelLayouts;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.protocol.wire.KeyCeremonyEnvelope;
import org.fedseal.protocol.wire.KeyCeremonyOpened;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.protocol.wire.UpdateRejected;
import org.fedseal.registry.AcceptedUpdateInfo;
import org.fedseal.registry.CeremonyInfo;
import org.fedseal.registry.DecryptionSharesInfo;
import org.fedseal.registry.LogEntryInfo;
import org.fedseal.registry.ModelInfo;
import org.fedseal.registry.RegistryConfig;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.RoundOptions;
import org.fedseal.registry.VersionInfo;

/**
 * The registry's domain logic, one entry point over its sections: models and keys ({@link
 * ModelsAndKeys}), enrolment ({@link Enrolment}), rounds and ingest ({@link RoundsAndIngest}),
 * versions ({@link Versions}), threshold key ceremonies ({@link Ceremonies}) and the provenance log
 * ({@link ProvenanceLog}); each section keeps its SQL in a small repository. Every state change
 * that matters to provenance is appended to the log in the same transaction as its rows.
 */
public final class RegistryService implements AutoCloseable {
    /** Publisher id of version 0 (signed with the registry's log key). */
    public static final String REGISTRY_PUBLISHER = VersionInfo.REGISTRY_PUBLISHER;
    /** Codec for aggregates, which may exceed the 1 MiB Kafka default. */
    public static final WireCodec LARGE = Records.LARGE;

    private final RegistryConfig config;
    private volatile EventPublisher publisher = EventPublisher.NONE;
    private final ProvenanceLog provenance;
    private final ModelsAndKeys models;
    private final Enrolment enrolment;
    private final RoundsAndIngest rounds;
    private final Ceremonies ceremonies;
    private final Versions versions;
    private final Evaluations evaluations;
    private final PrivacyBudgets budgets;

    /** Opens (and on first start initialises) the registry state. */
    public RegistryService(RegistryConfig config, Database db, BlobStore blobs) {
        this.config = config;
        this.provenance = new ProvenanceLog(db);
        String aggKey = config.get(RegistryConfig.AGGREGATOR_PUBLIC_KEY).trim();
        Optional<SigningPublicKey> aggregatorKey = aggKey.isEmpty()
                ? Optional.empty()
                : Optional.of(SigningPublicKey.fromX509(Base64.getDecoder().decode(aggKey)));
        this.models = new ModelsAndKeys(db, blobs, provenance, config, this::publisher);
        this.enrolment = new Enrolment(db, provenance, config, this::publisher, models);
        this.rounds =
                new RoundsAndIngest(
                        db,
                        blobs,
                        provenance,
                        config,
                        this::publisher,
                        models,
                        aggregatorKey,
                        enrolment,
                        modelId -> db
                                .query(
                                        "SELECT holder_ids FROM ceremonies WHERE model_id = ?",
                                        rs -> rs.getString(1),
                                        modelId)
                                .stream()
                                .flatMap(h -> java.util.Arrays.stream(h.split(",")))
                                .toList());
        this.ceremonies = new Ceremonies(this, db, blobs);
        this.versions =
                new Versions(db, blobs, provenance, config, this::publisher, models, enrolment, rounds, ceremonies);
        this.evaluations = new Evaluations(db, provenance, config, this::publisher, models, rounds);
        this.budgets = new PrivacyBudgets(db);
    }

    /** Sets where records are published. */
    public void setPublisher(EventPublisher publisher) {
        this.publisher = publisher;
    }

    EventPublisher publisher() {
        return publisher;
    }

    /** The config. */
    public RegistryConfig config() {
        return config;
    }

    /** The Merkle log (tests use it to simulate a misbehaving registry). */
    public MerkleLog log() {
        return provenance.log();
    }

    /** The provenance log section. */
    public ProvenanceLog provenance() {
        return provenance;
    }

    /** The registry's log signing key pair. */
    public SigningKeyPair logKey() {
        return provenance.logKey();
    }

    /** Null, or the integrity problem found at start. */
    public String integrityProblem() {
        return provenance.integrityProblem();
    }

    // ---------------------------------------------------------------- models and keys

    /** Registers a model with its initial weights (float32 little-endian bytes); returns it. */
    public ModelInfo registerModel(
            String modelId, String architecture, String heParamsId, byte[] weights, String keyHolderId) {
        return registerModel(modelId, architecture, heParamsId, weights, keyHolderId, null);
    }

    /**
     * Registers a model with its initial weights (float32 little-endian bytes) and, if not null, its
     * layout ({@link ModelLayouts#encode} bytes, checked against the weights and stored re-encoded);
     * returns it.
     */
    public ModelInfo registerModel(
            String modelId, String architecture, String heParamsId, byte[] weights, String keyHolderId, byte[] layout) {
        return models.registerModel(modelId, architecture, heParamsId, weights, keyHolderId, layout);
    }

    /**
     * Registers a model as {@link #registerModel(String, String, String, byte[], String, byte[])}
     * with a differential-privacy budget (ε, δ): every round of the model must then carry noise,
     * and a round that would bring the ε spent past {@code epsilonBudget} is refused
     * (fl-protocol {@code PrivacyAccountant}; see {@code PrivacyBudgets}). The budget cannot be changed later.
     *
     * @throws ApiException 400 for ε not positive and finite or δ outside (0, 1), before anything is stored
     */
    public ModelInfo registerModel(
            String modelId,
            String architecture,
            String heParamsId,
            byte[] weights,
            String keyHolderId,
            byte[] layout,
            double epsilonBudget,
            double delta) {
        PrivacyBudgets.Budget budget = PrivacyBudgets.validate(epsilonBudget, delta);
        models.registerModel(modelId, architecture, heParamsId, weights, keyHolderId, layout);
        budgets.set(modelId, budget);
        return models.model(modelId);
    }

    /** All models. */
    public List<ModelInfo> models() {
        return models.models();
    }

    /** One model. @throws ApiException 404 */
    public ModelInfo model(String modelId) {
        return models.model(modelId);
    }

    /**
     * The model's layout ({@link ModelLayouts#encode} bytes), or empty if it was registered without one.
     *
     * @throws ApiException 404 for an unknown model
     */
    public Optional<byte[]> modelLayout(String modelId) {
        return models.modelLayout(modelId);
    }

    /**
     * Stores the HE public key of a single-key model (validated with SEAL); returns its hash. A
     * threshold model's key comes only from its key ceremony.
     */
    public Hash putHePublicKey(String modelId, byte[] key) {
        return models.putHePublicKey(modelId, key);
    }

    Hash storeHePublicKey(String modelId, byte[] key) {
        return models.storeHePublicKey(modelId, key);
    }

    /** The HE public key bytes stored under {@code hash}. */
    public byte[] hePublicKey(Hash hash) {
        return models.hePublicKey(hash);
    }

    // ---------------------------------------------------------------- enrolment

    /** Enrols (or re-keys) a client and publishes ClientEnrolled. Returns true if published to Kafka. */
    public boolean enrollClient(String clientId, byte[] x509, List<String> modelIds) {
        return enrolment.enrollClient(clientId, x509, modelIds);
    }

    /** The enrolled key of a client. */
    public Optional<SigningPublicKey> clientKey(String clientId) {
        return enrolment.clientKey(clientId);
    }

    /** JSON-friendly client description. */
    public Map<String, Object> client(String clientId) {
        return enrolment.client(clientId);
    }

    // ---------------------------------------------------------------- rounds and ingest

    /**
     * Opens the next round of a model from its latest version, records it, logs it and publishes
     * RoundOpened.
     */
    public RoundInfo openRound(
            String modelId, int quorum, long deadlineEpochMillis, int localEpochs, int ciphertextsPerChunk) {
        return openRound(modelId, quorum, deadlineEpochMillis, localEpochs, ciphertextsPerChunk, null, null, null);
    }

    /**
     * Opens the next round with explicit {@link RoundBounds} (null: the defaults derived from the
     * model's parameter set, see {@link RoundBounds#withDefaults}).
     *
     * @throws ApiException 400 if the bounds could let the round's encrypted sum wrap, naming the bound
     */
    public RoundInfo openRound(
            String modelId,
            int quorum,
            long deadlineEpochMillis,
            int localEpochs,
            int ciphertextsPerChunk,
            Double clipNorm,
            Long maxTotalWeight,
            Long maxUpdateWeight) {
        return openRound(
                modelId,
                quorum,
                deadlineEpochMillis,
                localEpochs,
                ciphertextsPerChunk,
                clipNorm,
                maxTotalWeight,
                maxUpdateWeight,
                RoundOptions.DEFAULT);
    }

    /**
     * Opens the next round with explicit bounds and {@link RoundOptions}: the clients' training
     * configuration and, with a sampling fraction below 1, the client sample (fl-protocol
     * {@code ClientSampling}) over the clients enrolled for the model now, minus its key holder /
     * publisher and key-ceremony holders, written into {@code RoundOpened.sampledClients}.
     *
     * @throws ApiException 400 as above, or if the sample is smaller than the quorum; 409
     *     {@code no_clients} if no client is enrolled to sample from
     */
    public RoundInfo openRound(
            String modelId,
            int quorum,
            long deadlineEpochMillis,
            int localEpochs,
            int ciphertextsPerChunk,
            Double clipNorm,
            Long maxTotalWeight,
            Long maxUpdateWeight,
            RoundOptions options) {
        return rounds.openRound(
                modelId,
                quorum,
                deadlineEpochMillis,
                localEpochs,
                ciphertextsPerChunk,
                clipNorm,
                maxTotalWeight,
                maxUpdateWeight,
                options);
    }

    /** The RoundOpened record of a round. */
    public RoundOpened roundOpened(String modelId, int round) {
        return rounds.roundOpened(modelId, round);
    }

    /** The RoundOpened record of the newest round of {@code modelId} that is open and before its deadline. */
    public Optional<RoundOpened> currentRound(String modelId) {
        return rounds.currentRound(modelId);
    }

    /**
     * Writes a chunk or commit received over HTTP to the updates topic under {@code key}, exactly as a
     * Kafka client would; the caller has authenticated it.
     *
     * @throws ApiException 503 if no Kafka broker is configured
     */
    public void publishUpdate(byte[] key, UpdateEnvelope envelope) {
        rounds.publishUpdate(key, envelope);
    }

    /** Status of one round. */
    public RoundInfo round(String modelId, int round) {
        return rounds.round(modelId, round);
    }

    /** All rounds of a model, oldest first. */
    public List<RoundInfo> rounds(String modelId) {
        return rounds.rounds(modelId);
    }

    /** The rejections of a round counted by reason code, most frequent first. @throws ApiException 404 */
    public Map<String, Long> rejectsByReason(String modelId, int round) {
        return rounds.rejectsByReason(modelId, round);
    }

    /**
     * Bytes of a round: its archived update chunks and commits (as far as archived; retention deletes
     * old chunks) and its aggregate. @throws ApiException 404
     */
    public Map<String, Long> roundBytes(String modelId, int round) {
        return rounds.roundBytes(modelId, round);
    }

    /** Archives a chunk or commit from the updates topic (if archiving is on). */
    public void onUpdateEnvelope(UpdateEnvelope envelope) {
        rounds.onUpdateEnvelope(envelope);
    }

    /** Records an accepted update and logs it (idempotent). */
    public void onAccepted(UpdateAccepted a) {
        rounds.onAccepted(a);
    }

    /** Records a rejection and logs it (idempotent). */
    public void onRejected(UpdateRejected r) {
        rounds.onRejected(r);
    }

    /**
     * Stores a chunk sum of an aggregate as a content-addressed blob under its canonical hash (the
     * manifest's {@code chunkSumHashes} entry), served at {@code /api/blobs/{hash}}. Anyone can
     * verify it against the signed manifest, so nothing else is checked here (idempotent).
     */
    public void onAggregateChunkSum(AggregateChunkSum c) {
        rounds.onAggregateChunkSum(c);
    }

    /**
     * Stores an aggregate, closes its round and logs it (idempotent). With
     * {@link RegistryConfig#AGGREGATOR_PUBLIC_KEY} set, an aggregate not signed by that key is refused.
     *
     * @return false if the aggregate was refused
     */
    public boolean onAggregate(AggregatePublished a) {
        return rounds.onAggregate(a);
    }

    /** The aggregate bytes (Avro binary) of a round, if published. */
    public Optional<byte[]> aggregateBytes(String modelId, int round) {
        return rounds.aggregateBytes(modelId, round);
    }

    /** The accepted updates of a round with their archived chunk hashes. */
    public List<AcceptedUpdateInfo> acceptedUpdates(String modelId, int round) {
        return rounds.acceptedUpdates(modelId, round);
    }

    /** A content-addressed blob (chunks, commits, aggregates, weights) that the registry serves publicly. */
    public byte[] blob(Hash h) {
        return rounds.blob(h);
    }

    // ---------------------------------------------------------------- versions

    /**
     * Publishes a version signed by the key holder, after checking the whole hash chain.
     *
     * @throws ApiException 409 with a reason code when a link does not hold
     */
    public VersionInfo publishVersion(
            byte[] recordBytes, String publisherId, byte[] weights, byte[] optimizerState, Double accuracy) {
        return versions.publishVersion(recordBytes, publisherId, weights, optimizerState, accuracy);
    }

    /** Sets the accuracy metric of a version. */
    public VersionInfo setAccuracy(Hash versionHash, double accuracy) {
        return versions.setAccuracy(versionHash, accuracy);
    }

    /** Versions of a model, oldest first, each with its newest federated evaluation (or none). */
    public List<VersionInfo> versions(String modelId) {
        List<VersionInfo> vs = versions.versions(modelId);
        Map<String, org.fedseal.registry.FederatedEvaluationInfo> newest = new java.util.HashMap<>();
        for (var e : evaluations.ofModel(modelId)) {
            newest.put(e.versionHash(), e); // oldest round first: the newest wins
        }
        return vs.stream()
                .map(v -> newest.containsKey(v.versionHash()) ? v.withFederated(newest.get(v.versionHash())) : v)
                .toList();
    }

    /** One version, with its newest federated evaluation (or none). */
    public VersionInfo version(Hash versionHash) {
        VersionInfo v = versions.version(versionHash);
        List<org.fedseal.registry.FederatedEvaluationInfo> evs = evaluations.ofVersion(v.versionHash());
        return evs.isEmpty() ? v : v.withFederated(evs.get(evs.size() - 1));
    }

    // ---------------------------------------------------------------- federated evaluation

    /**
     * Opens the next round of {@code modelId} as a federated evaluation round of {@code versionHash}
     * (hex; null for the latest version): {@code RoundOpened.task = EVALUATE}, fl-protocol's
     * {@code FederatedEvaluation} layout, clip norm √(3 + lossBound²), weights = examples.
     *
     * @param lossBound the largest mean loss a client may report (null: {@code FederatedEvaluation.DEFAULT_LOSS_BOUND})
     * @param maxTotalWeight largest total examples (null: the largest the headroom allows)
     * @param maxUpdateWeight largest examples of one client (null: maxTotalWeight)
     * @throws ApiException 400 for bounds that do not fit, 404 for an unknown version, 409 if a round is open
     */
    public RoundInfo openEvaluationRound(
            String modelId,
            String versionHash,
            int quorum,
            long deadlineEpochMillis,
            Double lossBound,
            Long maxTotalWeight,
            Long maxUpdateWeight) {
        return evaluations.open(
                modelId, versionHash, quorum, deadlineEpochMillis, lossBound, maxTotalWeight, maxUpdateWeight);
    }

    /**
     * Records the federated metrics a key holder decrypted from an evaluation round's aggregate.
     *
     * @throws ApiException 409 {@code not_evaluation_round}, {@code aggregate_mismatch}, {@code examples_mismatch} or
     *     {@code evaluation_exists}; 400 for out-of-range metrics
     */
    public org.fedseal.registry.FederatedEvaluationInfo recordEvaluation(
            String modelId,
            int round,
            String aggregateHash,
            long examples,
            Double accuracy,
            double loss,
            String recordedBy) {
        return evaluations.record(modelId, round, aggregateHash, examples, accuracy, loss, recordedBy);
    }

    /** The federated evaluations of a version, oldest first. */
    public List<org.fedseal.registry.FederatedEvaluationInfo> evaluations(Hash versionHash) {
        versions.version(versionHash);
        return evaluations.ofVersion(versionHash.toHex());
    }

    /** The federated evaluations of a model's versions, oldest first. */
    public List<org.fedseal.registry.FederatedEvaluationInfo> modelEvaluations(String modelId) {
        return evaluations.ofModel(modelId);
    }

    /** The signed ModelVersionPublished record (Avro binary) of a version. */
    public byte[] versionRecord(Hash versionHash) {
        return versions.versionRecord(versionHash);
    }

    /** Weights bytes of a version. */
    public byte[] weights(Hash versionHash) {
        return versions.weights(versionHash);
    }

    // ---------------------------------------------------------------- threshold key ceremonies

    /** Opens a key ceremony (see {@link Ceremonies}); {@code ceremonyId} may be null for a generated id. */
    public CeremonyInfo openCeremony(String modelId, String ceremonyId, List<String> holderIds) {
        return ceremonies.open(modelId, ceremonyId, holderIds);
    }

    /** A ceremony's state. @throws ApiException 404 */
    public CeremonyInfo ceremony(String ceremonyId) {
        return ceremonies.info(ceremonyId);
    }

    /** The signed KeyCeremonyOpened record of a ceremony. */
    public KeyCeremonyOpened ceremonyRecord(String ceremonyId) {
        return ceremonies.openedRecord(ceremonyId);
    }

    /** Handles a record of the key-ceremony topic. */
    public void onKeyCeremony(KeyCeremonyEnvelope envelope) {
        ceremonies.onEnvelope(envelope);
    }

    /** Handles a record of the decryption-shares topic; false if refused (logged with the reason). */
    public boolean onDecryptionShares(DecryptionSharesPublished shares) {
        return ceremonies.onDecryptionShares(shares);
    }

    /** The logged decryption shares of a round. */
    public List<DecryptionSharesInfo> decryptionShares(String modelId, int round) {
        return ceremonies.shares(modelId, round);
    }

    // ---------------------------------------------------------------- provenance log

    void appendCeremonyLog(
            LogEntryKind kind, String modelId, int round, Hash subject, String clientId, String ceremonyId, long at) {
        var e = ProvenanceLog.entry(kind, modelId, round, subject, clientId, null, null, null, at);
        e.setCeremonyId(ceremonyId);
        provenance.append(e);
    }

    /** Signs a tree head for the current size and remembers it (one per size). */
    public SignedTreeHead signedTreeHead() {
        return provenance.signedTreeHead();
    }

    /** Every tree head issued, by size. */
    public List<SignedTreeHead> treeHeadHistory() {
        return provenance.treeHeadHistory();
    }

    /** Entries [start, end). */
    public List<LogEntryInfo> entries(long start, long end) {
        return provenance.entries(start, end);
    }

    /** Inclusion proof. */
    public InclusionProof inclusionProof(long index, long treeSize) {
        return provenance.inclusionProof(index, treeSize);
    }

    /** Consistency proof. */
    public ConsistencyProof consistencyProof(long size1, long size2) {
        return provenance.consistencyProof(size1, size2);
    }

    /** Leaf index of the first entry about {@code subject} (e.g. an update hash), or -1. */
    public long findSubject(Hash subject, String kind) {
        return provenance.findSubject(subject, kind);
    }

    /**
     * Server-side check for the web page: recomputes every leaf hash from the stored entry bytes and the
     * root, and compares with every tree head ever issued.
     */
    public Map<String, Object> verifyLog() {
        return provenance.verify();
    }

    static String b64(byte[] b) {
        return Records.b64(b);
    }

    @Override
    public void close() {
        models.close();
    }
}
