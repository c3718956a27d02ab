package org.fedseal.registry.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.HePublicKey;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.he.Packing;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.ConsistencyProof;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.InclusionProof;
import org.fedseal.protocol.MerkleHashes;
import org.fedseal.protocol.MerkleLog;
import org.fedseal.protocol.ModelLayouts;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.NonFiniteValueException;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.ClientEnrolled;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.protocol.wire.KeyCeremonyEnvelope;
import org.fedseal.protocol.wire.KeyCeremonyOpened;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.ModelLayout;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.protocol.wire.UpdateRejected;
import org.fedseal.registry.AcceptedUpdateInfo;
import org.fedseal.registry.LogEntryInfo;
import org.fedseal.registry.CeremonyInfo;
import org.fedseal.registry.DecryptionSharesInfo;
import org.fedseal.registry.ModelInfo;
import org.fedseal.registry.RegistryConfig;
import org.fedseal.registry.RoundInfo;
import org.fedseal.registry.VersionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's domain logic over its database, blob store and Merkle log. Every state change that
 * matters to provenance is appended to the log in the same transaction as its rows.
 */
public final class RegistryService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryService.class);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** Publisher id of version 0 (signed with the registry's log key). */
    public static final String REGISTRY_PUBLISHER = "registry";
    /** Codec for aggregates, which may exceed the 1 MiB Kafka default. */
    public static final WireCodec LARGE = WireCodec.withMaxRecordBytes(512 << 20);

    private final Database db;
    private final BlobStore blobs;
    private final SqlLogStore logStore;
    private final MerkleLog log;
    private final SigningKeyPair logKey;
    private final RegistryConfig config;
    private volatile EventPublisher publisher = EventPublisher.NONE;
    private final Map<String, HeContext> heContexts = new ConcurrentHashMap<>();
    private volatile String integrityProblem;
    private final Optional<SigningPublicKey> aggregatorKey;
    private final Ceremonies ceremonies;

    /** Opens (and on first start initialises) the registry state. */
    public RegistryService(RegistryConfig config, Database db, BlobStore blobs) {
        this.config = config;
        this.db = db;
        this.blobs = blobs;
        this.logStore = new SqlLogStore(db);
        String logId = db.setting("log.id").orElseGet(() -> {
            String id = "fedseal-registry-" + java.util.UUID.randomUUID();
            db.putSetting("log.id", id);
            return id;
        });
        this.log = new MerkleLog(logStore, logId);
        this.logKey = loadOrCreateKey();
        String aggKey = config.get(RegistryConfig.AGGREGATOR_PUBLIC_KEY).trim();
        this.aggregatorKey = aggKey.isEmpty() ? Optional.empty()
                : Optional.of(SigningPublicKey.fromX509(Base64.getDecoder().decode(aggKey)));
        this.ceremonies = new Ceremonies(this, db, blobs);
        checkTreeHeads();
    }

    private SigningKeyPair loadOrCreateKey() {
        Optional<String> priv = db.setting("log.key.private");
        Optional<String> pub = db.setting("log.key.public");
        if (priv.isPresent() && pub.isPresent()) {
            return SigningKeyPair.of(SigningPublicKey.fromX509(Base64.getDecoder().decode(pub.get())),
                    SigningPrivateKey.importPkcs8(Base64.getDecoder().decode(priv.get())));
        }
        SigningKeyPair kp = SigningKeyPair.generate();
        db.tx(c -> {
            db.putSetting("log.key.public", Base64.getEncoder().encodeToString(kp.publicKey().toX509()));
            db.putSetting("log.key.private", Base64.getEncoder().encodeToString(kp.privateKey().exportPkcs8()));
            return null;
        });
        LOG.info("generated registry log key {}", kp.publicKey().fingerprint());
        return kp;
    }

    /** Checks every tree head issued before against the current log; remembers a problem for /health. */
    private void checkTreeHeads() {
        long size = log.size();
        for (SignedTreeHead h : treeHeadHistory()) {
            String problem = null;
            if (h.getTreeSize() > size) {
                problem = "log has " + size + " entries but a tree head of size " + h.getTreeSize() + " was issued";
            } else if (!log.rootHash(h.getTreeSize()).matches(h.getRootHash())) {
                problem = "log is inconsistent with the tree head of size " + h.getTreeSize() + " issued before";
            }
            if (problem != null) {
                integrityProblem = problem;
                LOG.error("INTEGRITY: {}", problem);
                return;
            }
        }
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
        return log;
    }

    /** The registry's log signing key pair. */
    public SigningKeyPair logKey() {
        return logKey;
    }

    /** Null, or the integrity problem found at start. */
    public String integrityProblem() {
        return integrityProblem;
    }

    // ---------------------------------------------------------------- models

    /** Registers a model with its initial weights (float32 little-endian bytes); returns it. */
    public ModelInfo registerModel(String modelId, String architecture, String heParamsId, byte[] weights, String keyHolderId) {
        return registerModel(modelId, architecture, heParamsId, weights, keyHolderId, null);
    }

    /**
     * Registers a model with its initial weights (float32 little-endian bytes) and, if not null, its
     * layout ({@link ModelLayouts#encode} bytes, checked against the weights and stored re-encoded);
     * returns it.
     */
    public ModelInfo registerModel(String modelId, String architecture, String heParamsId, byte[] weights, String keyHolderId,
            byte[] layout) {
        requireId(modelId, "modelId");
        if (architecture == null || architecture.isBlank()) {
            throw ApiException.badRequest("architecture is required");
        }
        HeParameters params = params(heParamsId);
        if (weights == null || weights.length == 0 || weights.length % 4 != 0) {
            throw ApiException.badRequest("weights must be a non-empty sequence of float32 (length multiple of 4)");
        }
        requireFiniteWeights(weights);
        if (keyHolderId != null) {
            requireId(keyHolderId, "keyHolderId");
        }
        byte[] canonicalLayout = layout == null ? null : checkedLayout(layout, weights.length / 4L);
        long now = System.currentTimeMillis();
        Hash weightsHash = blobs.put(weights);
        ModelVersionPublished v = ModelVersionPublished.newBuilder()
                .setModelId(modelId).setVersionHash(empty()).setParentHash(empty()).setAggregateHash(empty())
                .setAcceptedUpdateRoot(empty()).setRound(0).setWeightsHash(weightsHash.toByteBuffer())
                .setPublishedAtEpochMillis(now).setSignature(empty()).build();
        v.setVersionHash(CanonicalHash.versionHash(v).toByteBuffer());
        ModelVersionPublished signed = Signatures.sign(v, logKey.privateKey());
        db.tx(c -> {
            if (db.queryLong("SELECT COUNT(*) FROM models WHERE model_id = ?", modelId) > 0) {
                throw ApiException.conflict("model_exists", "model " + modelId + " already exists");
            }
            db.update("INSERT INTO models (model_id, architecture, he_params_id, key_holder_id, parameter_count, created_at, layout, layout_hash)"
                    + " VALUES (?,?,?,?,?,?,?,?)", modelId, architecture, params.id(), keyHolderId, weights.length / 4L, now,
                    canonicalLayout == null ? null : Base64.getEncoder().encodeToString(canonicalLayout),
                    canonicalLayout == null ? null : Hash.sha256(canonicalLayout).toHex());
            insertVersion(signed, 0, REGISTRY_PUBLISHER, null);
            appendLog(LogEntryKind.MODEL_VERSION_PUBLISHED, modelId, 0, CanonicalHash.of(signed), REGISTRY_PUBLISHER, null, null,
                    signed.getVersionHash(), signed, now);
            return null;
        });
        publisher.publish(config.get(RegistryConfig.TOPIC_MODEL_VERSIONS), modelId.getBytes(StandardCharsets.UTF_8), signed);
        return model(modelId);
    }

    /** All models. */
    public List<ModelInfo> models() {
        return db.query("SELECT model_id FROM models ORDER BY created_at, model_id", rs -> rs.getString(1)).stream()
                .map(this::model).toList();
    }

    /** One model. @throws ApiException 404 */
    public ModelInfo model(String modelId) {
        return db.tx(c -> db.queryOne("SELECT model_id, architecture, he_params_id, parameter_count, he_public_key_hash, key_holder_id, created_at, ceremony_id, layout_hash FROM models WHERE model_id = ?",
                rs -> new ModelInfo(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5),
                        rs.getString(6), latestVersion(rs.getString(1)),
                        (int) db.queryLong("SELECT COUNT(*) FROM versions WHERE model_id = ?", rs.getString(1)),
                        (int) db.queryLong("SELECT COUNT(*) FROM rounds WHERE model_id = ?", rs.getString(1)), rs.getLong(7),
                        rs.getString(8), rs.getString(9)),
                modelId).orElseThrow(() -> ApiException.notFound("unknown model " + modelId)));
    }

    /**
     * The model's layout ({@link ModelLayouts#encode} bytes), or empty if it was registered without one.
     *
     * @throws ApiException 404 for an unknown model
     */
    public Optional<byte[]> modelLayout(String modelId) {
        model(modelId);
        return db.queryOne("SELECT layout FROM models WHERE model_id = ? AND layout IS NOT NULL",
                rs -> Base64.getDecoder().decode(rs.getString(1)), modelId);
    }

    /** The canonical bytes of a layout sent by a client, after checking it fits a model of {@code parameterCount} weights. */
    private static byte[] checkedLayout(byte[] layout, long parameterCount) {
        ModelLayout decoded;
        try {
            decoded = ModelLayouts.decode(layout);
        } catch (WireFormatException e) {
            throw ApiException.badRequest("layoutBase64 is not a ModelLayout (fl-protocol ModelLayouts.encode): " + e.getMessage());
        }
        try {
            ModelLayouts.validate(decoded, parameterCount);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("layout: " + e.getMessage());
        }
        return ModelLayouts.encode(decoded);
    }

    private String latestVersion(String modelId) {
        return db.queryOne("SELECT version_hash FROM versions WHERE model_id = ? ORDER BY seq DESC", rs -> rs.getString(1), modelId).orElse(null);
    }

    // ---------------------------------------------------------------- clients

    /** Enrols (or re-keys) a client and publishes ClientEnrolled. Returns true if published to Kafka. */
    public boolean enrollClient(String clientId, byte[] x509, List<String> modelIds) {
        requireId(clientId, "clientId");
        SigningPublicKey key;
        try {
            key = SigningPublicKey.fromX509(x509);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("publicKey: " + e.getMessage());
        }
        List<String> models = modelIds == null ? List.of() : List.copyOf(modelIds);
        for (String m : models) {
            model(m);
        }
        long now = System.currentTimeMillis();
        String keyB64 = Base64.getEncoder().encodeToString(key.toX509());
        db.tx(c -> {
            db.update("DELETE FROM clients WHERE client_id = ?", clientId);
            db.update("INSERT INTO clients (client_id, public_key, model_ids, enrolled_at) VALUES (?,?,?,?)",
                    clientId, keyB64, String.join(",", models), now);
            // Logged so that auditors can tell which key a client (or key holder) had when it signed.
            appendLog(LogEntryKind.CLIENT_ENROLLED, String.join(",", models), 0, key.fingerprint(), clientId, null, null, null,
                    null, now);
            return null;
        });
        ClientEnrolled rec = ClientEnrolled.newBuilder().setClientId(clientId).setSigningPublicKey(ByteBuffer.wrap(key.toX509()))
                .setModelIds(new ArrayList<>(models)).setRevoked(false).setEnrolledAtEpochMillis(now).build();
        return publisher.publish(config.get(RegistryConfig.TOPIC_ENROLLMENTS), clientId.getBytes(StandardCharsets.UTF_8), rec);
    }

    /** The enrolled key of a client. */
    public Optional<SigningPublicKey> clientKey(String clientId) {
        return db.queryOne("SELECT public_key FROM clients WHERE client_id = ?",
                rs -> SigningPublicKey.fromX509(Base64.getDecoder().decode(rs.getString(1))), clientId);
    }

    /** JSON-friendly client description. */
    public Map<String, Object> client(String clientId) {
        return db.queryOne("SELECT client_id, public_key, model_ids, enrolled_at FROM clients WHERE client_id = ?",
                rs -> Map.<String, Object>of("clientId", rs.getString(1), "publicKey", rs.getString(2),
                        "modelIds", rs.getString(3).isEmpty() ? List.of() : List.of(rs.getString(3).split(",")),
                        "enrolledAtEpochMillis", rs.getLong(4)), clientId)
                .orElseThrow(() -> ApiException.notFound("unknown client " + clientId));
    }

    // ---------------------------------------------------------------- HE public keys

    /**
     * Stores the HE public key of a single-key model (validated with SEAL); returns its hash. A
     * threshold model's key comes only from its key ceremony.
     */
    public Hash putHePublicKey(String modelId, byte[] key) {
        String ceremonyId = model(modelId).ceremonyId();
        if (ceremonyId != null) {
            throw ApiException.conflict("threshold_model", "model " + modelId + " takes its HE public key from key ceremony "
                    + ceremonyId);
        }
        return storeHePublicKey(modelId, key);
    }

    Hash storeHePublicKey(String modelId, byte[] key) {
        ModelInfo m = model(modelId);
        HeContext ctx = heContext(m.heParamsId());
        if (key == null || key.length != ctx.publicKeyBytes()) {
            throw ApiException.badRequest("not a public key of " + m.heParamsId() + ": expected exactly " + ctx.publicKeyBytes()
                    + " bytes, got " + (key == null ? 0 : key.length) + " (the registry never accepts secret keys)");
        }
        try (HePublicKey pk = ctx.loadPublicKey(key)) {
            LOG.debug("validated HE public key {}", pk);
        } catch (MalformedHeDataException e) {
            throw ApiException.badRequest("not a valid " + m.heParamsId() + " public key: " + e.getMessage());
        }
        Hash h = blobs.put(key);
        db.tx(c -> {
            if (db.queryLong("SELECT COUNT(*) FROM he_public_keys WHERE key_hash = ?", h.toHex()) == 0) {
                long now = System.currentTimeMillis();
                db.update("INSERT INTO he_public_keys (key_hash, model_id, he_params_id, created_at) VALUES (?,?,?,?)",
                        h.toHex(), modelId, m.heParamsId(), now);
                appendLog(LogEntryKind.HE_PUBLIC_KEY_STORED, modelId, 0, h, null, null, null, null, null, now);
            }
            db.update("UPDATE models SET he_public_key_hash = ? WHERE model_id = ?", h.toHex(), modelId);
            return null;
        });
        return h;
    }

    /** The HE public key bytes stored under {@code hash}. */
    public byte[] hePublicKey(Hash hash) {
        if (db.queryLong("SELECT COUNT(*) FROM he_public_keys WHERE key_hash = ?", hash.toHex()) == 0) {
            throw ApiException.notFound("unknown HE public key " + hash);
        }
        return blobs.get(hash).orElseThrow(() -> ApiException.notFound("HE public key blob missing " + hash));
    }

    private HeContext heContext(String paramsId) {
        return heContexts.computeIfAbsent(paramsId, id -> HeContext.create(params(id)));
    }

    private static HeParameters params(String id) {
        if (id == null) {
            throw ApiException.badRequest("heParamsId is required");
        }
        return HeParameters.byId(id).orElseThrow(() -> ApiException.badRequest("unknown HE parameter set " + id
                + "; known: " + HeParameters.all().stream().map(HeParameters::id).toList()));
    }

    /** 400 naming the first NaN or ±Inf: no version with non-finite weights is stored or served. */
    private static void requireFiniteWeights(byte[] weights) {
        try {
            ModelWeights.decodeFinite(weights);
        } catch (NonFiniteValueException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    // ---------------------------------------------------------------- rounds

    /**
     * Opens the next round of a model from its latest version, records it, logs it and publishes
     * RoundOpened.
     */
    public RoundInfo openRound(String modelId, int quorum, long deadlineEpochMillis, int localEpochs, int ciphertextsPerChunk) {
        return openRound(modelId, quorum, deadlineEpochMillis, localEpochs, ciphertextsPerChunk, null, null, null);
    }

    /**
     * Opens the next round with explicit {@link RoundBounds} (null: the defaults derived from the
     * model's parameter set, see {@link RoundBounds#withDefaults}).
     *
     * @throws ApiException 400 if the bounds could let the round's encrypted sum wrap, naming the bound
     */
    public RoundInfo openRound(String modelId, int quorum, long deadlineEpochMillis, int localEpochs, int ciphertextsPerChunk,
                               Double clipNorm, Long maxTotalWeight, Long maxUpdateWeight) {
        ModelInfo m = model(modelId);
        long now = System.currentTimeMillis();
        if (quorum < 1) {
            throw ApiException.badRequest("quorum must be >= 1");
        }
        if (deadlineEpochMillis <= now) {
            throw ApiException.badRequest("deadline must be in the future");
        }
        if (localEpochs < 1) {
            throw ApiException.badRequest("localEpochs must be >= 1");
        }
        if (ciphertextsPerChunk < 1 || ciphertextsPerChunk > 7) {
            throw ApiException.badRequest("ciphertextsPerChunk must be in [1, 7] (a chunk must fit a 1 MiB Kafka record)");
        }
        if (m.hePublicKeyHash() == null) {
            throw ApiException.conflict("no_public_key", "model " + modelId + " has no HE public key; upload one first");
        }
        HeParameters params = params(m.heParamsId());
        RoundBounds bounds;
        try {
            bounds = RoundBounds.withDefaults(params.maxSumNorm(), clipNorm, maxTotalWeight, maxUpdateWeight, quorum);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(params.id() + ": " + e.getMessage());
        }
        int perCt = params.valuesPerCiphertext(Packing.COMPLEX);
        int cts = (int) ((m.parameterCount() + perCt - 1) / perCt);
        ChunkLayout layout = ChunkLayout.newBuilder().setTotalValues(m.parameterCount()).setValuesPerCiphertext(perCt)
                .setCiphertextCount(cts).setCiphertextsPerChunk(ciphertextsPerChunk)
                .setChunkCount((cts + ciphertextsPerChunk - 1) / ciphertextsPerChunk).build();
        RoundOpened opened = db.tx(c -> {
            db.update("UPDATE rounds SET status = 'failed', closed_at = ? WHERE model_id = ? AND status = 'open' AND deadline < ?",
                    now, modelId, now);
            Optional<Integer> open = db.queryOne("SELECT round_no FROM rounds WHERE model_id = ? AND status = 'open'", rs -> rs.getInt(1), modelId);
            if (open.isPresent()) {
                throw ApiException.conflict("round_open", "round " + open.get() + " of " + modelId + " is still open");
            }
            int round = (int) db.queryLong("SELECT MAX(round_no) FROM rounds WHERE model_id = ?", modelId) + 1;
            RoundOpened r = bounds.applyTo(RoundOpened.newBuilder()).setModelId(modelId).setRound(round)
                    .setBaseModelHash(Hash.fromHex(m.latestVersionHash()).toByteBuffer()).setHeParamsId(params.id())
                    .setPublicKeyHash(Hash.fromHex(m.hePublicKeyHash()).toByteBuffer()).setQuorum(quorum)
                    .setDeadlineEpochMillis(deadlineEpochMillis).setChunkLayout(layout).setLocalEpochs(localEpochs)
                    .setOpenedAtEpochMillis(now).build();
            db.update("INSERT INTO rounds (model_id, round_no, status, quorum, deadline, local_epochs, base_hash, public_key_hash, opened_at, accepted_count, rejected_count, record) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    modelId, round, "open", quorum, deadlineEpochMillis, localEpochs, m.latestVersionHash(), m.hePublicKeyHash(), now, 0, 0,
                    b64(WireCodec.UNBOUNDED.encode(r)));
            appendLog(LogEntryKind.ROUND_OPENED, modelId, round, CanonicalHash.of(r), null, null, null, null, r, now);
            return r;
        });
        boolean published = false;
        try {
            published = publisher.publish(config.get(RegistryConfig.TOPIC_ROUNDS), Topics.roundKey(modelId, opened.getRound()), opened);
        } catch (RuntimeException e) {
            LOG.error("round {}/{} recorded but RoundOpened not published: {}", modelId, opened.getRound(), e.toString());
        }
        RoundInfo info = round(modelId, opened.getRound());
        return new RoundInfo(info.modelId(), info.round(), info.status(), info.quorum(), info.deadlineEpochMillis(), info.localEpochs(),
                info.baseModelHash(), info.publicKeyHash(), info.openedAtEpochMillis(), info.closedAtEpochMillis(), info.latencyMillis(),
                info.acceptedCount(), info.rejectedCount(), info.participants(), info.aggregateHash(), published, info.clipNorm(),
                info.maxUpdateWeight(), info.maxTotalWeight(), info.sumNormBound());
    }

    /** The RoundOpened record of a round. */
    public RoundOpened roundOpened(String modelId, int round) {
        return db.queryOne("SELECT record FROM rounds WHERE model_id = ? AND round_no = ?",
                rs -> decode(rs.getString(1), RoundOpened.class), modelId, round)
                .orElseThrow(() -> ApiException.notFound("unknown round " + modelId + "/" + round));
    }

    /** The RoundOpened record of the newest round of {@code modelId} that is open and before its deadline. */
    public Optional<RoundOpened> currentRound(String modelId) {
        model(modelId);
        return db.queryOne("SELECT record FROM rounds WHERE model_id = ? AND status = 'open' AND deadline > ? ORDER BY round_no DESC LIMIT 1",
                rs -> decode(rs.getString(1), RoundOpened.class), modelId, System.currentTimeMillis());
    }

    /**
     * Writes a chunk or commit received over HTTP to the updates topic under {@code key}, exactly as a
     * Kafka client would; the caller has authenticated it.
     *
     * @throws ApiException 503 if no Kafka broker is configured
     */
    public void publishUpdate(byte[] key, UpdateEnvelope envelope) {
        if (!publisher.enabled()) {
            throw new ApiException(503, "kafka_unavailable", "this registry has no Kafka broker configured; it cannot ingest updates");
        }
        publisher.publish(config.get(RegistryConfig.TOPIC_UPDATES), key, envelope);
    }

    /** Status of one round. */
    public RoundInfo round(String modelId, int round) {
        model(modelId);
        return db.tx(c -> db.queryOne("SELECT model_id, round_no, status, quorum, deadline, local_epochs, base_hash, public_key_hash, opened_at, closed_at, accepted_count, rejected_count, aggregate_hash, record FROM rounds WHERE model_id = ? AND round_no = ?",
                this::roundRow, modelId, round).orElseThrow(() -> ApiException.notFound("unknown round " + modelId + "/" + round)));
    }

    /** All rounds of a model, oldest first. */
    public List<RoundInfo> rounds(String modelId) {
        model(modelId);
        return db.tx(c -> db.query("SELECT model_id, round_no, status, quorum, deadline, local_epochs, base_hash, public_key_hash, opened_at, closed_at, accepted_count, rejected_count, aggregate_hash, record FROM rounds WHERE model_id = ? ORDER BY round_no",
                this::roundRow, modelId));
    }

    private RoundInfo roundRow(ResultSet rs) throws SQLException {
        String model = rs.getString(1);
        int round = rs.getInt(2);
        long opened = rs.getLong(9);
        long closedRaw = rs.getLong(10);
        Long closed = rs.wasNull() ? null : closedRaw;
        List<String> participants = db.query("SELECT DISTINCT client_id FROM accepted_updates WHERE model_id = ? AND round_no = ? ORDER BY client_id",
                r -> r.getString(1), model, round);
        RoundOpened record = decode(rs.getString(14), RoundOpened.class);
        return new RoundInfo(model, round, rs.getString(3), rs.getInt(4), rs.getLong(5), rs.getInt(6), rs.getString(7), rs.getString(8),
                opened, closed, closed == null ? null : closed - opened, rs.getInt(11), rs.getInt(12), participants, rs.getString(13),
                publisher.enabled(), record.getClipNorm(), record.getMaxUpdateWeight(), record.getMaxTotalWeight(), record.getSumNormBound());
    }

    // ---------------------------------------------------------------- ingestion (Kafka)

    /** Archives a chunk or commit from the updates topic (if archiving is on). */
    public void onUpdateEnvelope(UpdateEnvelope envelope) {
        if (!config.getBoolean(RegistryConfig.ARCHIVE_UPDATES)) {
            return;
        }
        long now = System.currentTimeMillis();
        if (envelope.getPayload() instanceof UpdateChunk chunk) {
            byte[] bytes = WireCodec.UNBOUNDED.encode(chunk);
            Hash h = CanonicalHash.of(chunk);
            blobs.put(h, bytes);
            db.tx(c -> {
                if (db.queryLong("SELECT COUNT(*) FROM update_chunks WHERE chunk_hash = ?", h.toHex()) == 0) {
                    db.update("INSERT INTO update_chunks (chunk_hash, model_id, round_no, client_id, update_id, chunk_index, received_at) VALUES (?,?,?,?,?,?,?)",
                            h.toHex(), chunk.getModelId(), chunk.getRound(), chunk.getClientId(), chunk.getUpdateId(), chunk.getChunkIndex(), now);
                }
                return null;
            });
        } else if (envelope.getPayload() instanceof UpdateCommit commit) {
            byte[] bytes = WireCodec.UNBOUNDED.encode(commit);
            Hash h = CanonicalHash.of(commit);
            blobs.put(h, bytes);
            db.tx(c -> {
                if (db.queryLong("SELECT COUNT(*) FROM update_commits WHERE commit_hash = ?", h.toHex()) == 0) {
                    db.update("INSERT INTO update_commits (commit_hash, model_id, round_no, client_id, update_id, received_at) VALUES (?,?,?,?,?,?)",
                            h.toHex(), commit.getModelId(), commit.getRound(), commit.getClientId(), commit.getUpdateId(), now);
                }
                return null;
            });
        }
    }

    /** Records an accepted update and logs it (idempotent). */
    public void onAccepted(UpdateAccepted a) {
        Hash h = Hash.of(a.getUpdateHash());
        db.tx(c -> {
            if (db.queryLong("SELECT COUNT(*) FROM accepted_updates WHERE update_hash = ?", h.toHex()) > 0) {
                return null;
            }
            db.update("INSERT INTO accepted_updates (update_hash, model_id, round_no, client_id, update_id, weight, accepted_at) VALUES (?,?,?,?,?,?,?)",
                    h.toHex(), a.getModelId(), a.getRound(), a.getClientId(), a.getUpdateId(), a.getWeight(), a.getAcceptedAtEpochMillis());
            db.update("UPDATE rounds SET accepted_count = accepted_count + 1 WHERE model_id = ? AND round_no = ? AND status = 'open'",
                    a.getModelId(), a.getRound());
            appendLog(LogEntryKind.UPDATE_ACCEPTED, a.getModelId(), a.getRound(), h, a.getClientId(), a.getUpdateId(), null, null, a,
                    System.currentTimeMillis());
            return null;
        });
    }

    /** Records a rejection and logs it (idempotent). */
    public void onRejected(UpdateRejected r) {
        Hash h = CanonicalHash.of(r);
        db.tx(c -> {
            if (db.queryLong("SELECT COUNT(*) FROM rejected_updates WHERE subject_hash = ?", h.toHex()) > 0) {
                return null;
            }
            db.update("INSERT INTO rejected_updates (subject_hash, model_id, round_no, client_id, update_id, reason, detail, at_time) VALUES (?,?,?,?,?,?,?,?)",
                    h.toHex(), r.getModelId(), r.getRound(), r.getClientId(), r.getUpdateId(), r.getReason().name(), r.getDetail(), r.getAtEpochMillis());
            db.update("UPDATE rounds SET rejected_count = rejected_count + 1 WHERE model_id = ? AND round_no = ? AND status = 'open'",
                    r.getModelId(), r.getRound());
            LogEntry e = entry(LogEntryKind.UPDATE_REJECTED, r.getModelId(), r.getRound(), h, r.getClientId(), r.getUpdateId(), null, r,
                    System.currentTimeMillis());
            e.setReason(r.getReason());
            log.append(e);
            return null;
        });
    }

    /**
     * Stores a chunk sum of an aggregate as a content-addressed blob under its canonical hash (the
     * manifest's {@code chunkSumHashes} entry), served at {@code /api/blobs/{hash}}. Anyone can
     * verify it against the signed manifest, so nothing else is checked here (idempotent).
     */
    public void onAggregateChunkSum(AggregateChunkSum c) {
        blobs.put(CanonicalHash.of(c), CanonicalHash.canonicalBytes(c));
    }

    /**
     * Stores an aggregate, closes its round and logs it (idempotent). With
     * {@link RegistryConfig#AGGREGATOR_PUBLIC_KEY} set, an aggregate not signed by that key is refused.
     *
     * @return false if the aggregate was refused
     */
    public boolean onAggregate(AggregatePublished a) {
        if (aggregatorKey.isPresent() && !Signatures.verify(a, aggregatorKey.get())) {
            LOG.error("refused aggregate of {}/{} from '{}': its signature is not the configured aggregator key's",
                    a.getModelId(), a.getRound(), a.getAggregatorId());
            return false;
        }
        boolean completed = a.getStatus() == AggregateStatus.COMPLETED;
        String weightProblem = completed ? totalWeightProblem(a) : null;
        if (weightProblem != null) {
            LOG.error("refused aggregate of {}/{} from '{}': {}", a.getModelId(), a.getRound(), a.getAggregatorId(), weightProblem);
            return false;
        }
        Hash h = CanonicalHash.of(a);
        byte[] bytes = WireCodec.UNBOUNDED.encode(a);
        blobs.put(h, bytes);
        db.tx(c -> {
            if (db.queryLong("SELECT COUNT(*) FROM aggregates WHERE aggregate_hash = ?", h.toHex()) > 0) {
                return null;
            }
            db.update("INSERT INTO aggregates (aggregate_hash, model_id, round_no, status, update_root, participants, total_weight, accepted_count, rejected_count, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    h.toHex(), a.getModelId(), a.getRound(), a.getStatus().name(), Hash.of(a.getAcceptedUpdateRoot()).toHex(),
                    String.join(",", a.getParticipants().stream().map(Object::toString).toList()), a.getTotalWeight(),
                    a.getAcceptedCount(), a.getRejectedCount(), a.getClosedAtEpochMillis());
            db.update("UPDATE rounds SET status = ?, closed_at = ?, aggregate_hash = ?, accepted_count = ?, rejected_count = ? WHERE model_id = ? AND round_no = ?",
                    completed ? "closed" : "failed", a.getClosedAtEpochMillis(), h.toHex(), a.getAcceptedCount(), a.getRejectedCount(),
                    a.getModelId(), a.getRound());
            appendLog(LogEntryKind.AGGREGATE_PUBLISHED, a.getModelId(), a.getRound(), h, null, null, null, null, null, System.currentTimeMillis());
            return null;
        });
        applyRetention(a.getModelId(), a.getRound());
        return true;
    }

    /** Why a completed aggregate's total weight is nonsense for its round (not positive, past maxTotalWeight), or null. */
    private String totalWeightProblem(AggregatePublished a) {
        if (a.getTotalWeight() < 1) {
            return "totalWeight " + a.getTotalWeight() + " is not positive";
        }
        Optional<RoundOpened> round = db.queryOne("SELECT record FROM rounds WHERE model_id = ? AND round_no = ?",
                rs -> decode(rs.getString(1), RoundOpened.class), a.getModelId().toString(), a.getRound());
        if (round.isPresent() && round.get().getMaxTotalWeight() > 0 && a.getTotalWeight() > round.get().getMaxTotalWeight()) {
            return "totalWeight " + a.getTotalWeight() + " exceeds the round's maxTotalWeight " + round.get().getMaxTotalWeight();
        }
        return null;
    }

    private void applyRetention(String modelId, int round) {
        int keep = config.getInt(RegistryConfig.ARCHIVE_RETENTION_ROUNDS);
        if (keep <= 0) {
            return;
        }
        int cutoff = round - keep;
        List<String> chunks = db.query("SELECT chunk_hash FROM update_chunks WHERE model_id = ? AND round_no <= ?", rs -> rs.getString(1), modelId, cutoff);
        for (String ch : chunks) {
            blobs.delete(Hash.fromHex(ch));
        }
        db.update("DELETE FROM update_chunks WHERE model_id = ? AND round_no <= ?", modelId, cutoff);
    }

    /** The aggregate bytes (Avro binary) of a round, if published. */
    public Optional<byte[]> aggregateBytes(String modelId, int round) {
        return db.queryOne("SELECT aggregate_hash FROM aggregates WHERE model_id = ? AND round_no = ? ORDER BY closed_at DESC",
                rs -> rs.getString(1), modelId, round).flatMap(h -> blobs.get(Hash.fromHex(h)));
    }

    /** The accepted updates of a round with their archived chunk hashes. */
    public List<AcceptedUpdateInfo> acceptedUpdates(String modelId, int round) {
        return db.tx(c -> db.query("SELECT update_hash, client_id, update_id, weight FROM accepted_updates WHERE model_id = ? AND round_no = ? ORDER BY update_hash",
                rs -> {
                    String hash = rs.getString(1);
                    String client = rs.getString(2);
                    String updateId = rs.getString(3);
                    Optional<UpdateCommit> commit = blobs.get(Hash.fromHex(hash)).map(b -> decodeBytes(b, UpdateCommit.class));
                    List<String> chunkHashes = commit.map(cm -> cm.getChunkHashes().stream().map(bb -> Hash.of(bb).toHex()).toList()).orElse(List.of());
                    boolean archived = commit.isPresent() && !chunkHashes.isEmpty() && chunkHashes.stream()
                            .allMatch(ch -> db.queryLong("SELECT COUNT(*) FROM update_chunks WHERE chunk_hash = ?", ch) > 0);
                    return new AcceptedUpdateInfo(hash, client, updateId, rs.getLong(4), archived, chunkHashes);
                }, modelId, round));
    }

    /** A content-addressed blob (chunks, commits, aggregates, weights) that the registry serves publicly. */
    public byte[] blob(Hash h) {
        return blobs.get(h).orElseThrow(() -> ApiException.notFound("no blob " + h));
    }

    // ---------------------------------------------------------------- versions

    /**
     * Publishes a version signed by the key holder, after checking the whole hash chain.
     *
     * @throws ApiException 409 with a reason code when a link does not hold
     */
    public VersionInfo publishVersion(byte[] recordBytes, String publisherId, byte[] weights, Double accuracy) {
        ModelVersionPublished v;
        try {
            v = WireCodec.UNBOUNDED.decode(recordBytes, ModelVersionPublished.class);
        } catch (WireFormatException e) {
            throw ApiException.badRequest("record is not a ModelVersionPublished: " + e.getMessage());
        }
        String modelId = v.getModelId().toString();
        ModelInfo m = model(modelId);
        requireId(publisherId, "publisherId");
        if (m.keyHolderId() != null && !m.keyHolderId().equals(publisherId)) {
            throw new ApiException(403, "not_key_holder", publisherId + " is not the key holder of " + modelId);
        }
        SigningPublicKey key = clientKey(publisherId)
                .orElseThrow(() -> new ApiException(403, "unknown_publisher", "publisher " + publisherId + " is not enrolled"));
        if (!Signatures.verify(v, key)) {
            throw new ApiException(403, "bad_signature", "signature does not verify with the enrolled key of " + publisherId);
        }
        if (accuracy != null && (accuracy.isNaN() || accuracy < 0 || accuracy > 1)) {
            throw ApiException.badRequest("accuracy must be in [0, 1]");
        }
        Hash versionHash = CanonicalHash.versionHash(v);
        if (!versionHash.matches(v.getVersionHash())) {
            throw ApiException.conflict("version_hash_mismatch", "versionHash does not match the record; recomputed " + versionHash);
        }
        if (weights == null || weights.length != m.parameterCount() * 4) {
            throw ApiException.badRequest("weights must be " + m.parameterCount() + " float32 values");
        }
        requireFiniteWeights(weights);
        if (!Hash.sha256(weights).matches(v.getWeightsHash())) {
            throw ApiException.conflict("weights_hash_mismatch", "weightsHash does not match the uploaded weights");
        }
        if (v.getParentHash().remaining() != Hash.LENGTH) {
            throw ApiException.conflict("parent_mismatch", "a published version needs a parent");
        }
        Hash parent = Hash.of(v.getParentHash());
        db.tx(c -> {
            if (db.queryLong("SELECT COUNT(*) FROM versions WHERE version_hash = ?", versionHash.toHex()) > 0) {
                throw ApiException.conflict("version_exists", "version " + versionHash + " already published");
            }
            if (db.queryLong("SELECT COUNT(*) FROM versions WHERE version_hash = ? AND model_id = ?", parent.toHex(), modelId) == 0) {
                throw ApiException.conflict("parent_mismatch", "parent " + parent + " is not a version of " + modelId);
            }
            RoundOpened r = roundOpened(modelId, v.getRound());
            if (!parent.matches(r.getBaseModelHash())) {
                throw ApiException.conflict("parent_mismatch", "parent " + parent + " is not the base version of round " + v.getRound()
                        + " (" + Hash.of(r.getBaseModelHash()) + ")");
            }
            Optional<String[]> agg = db.queryOne("SELECT aggregate_hash, update_root, status FROM aggregates WHERE model_id = ? AND round_no = ?",
                    rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)}, modelId, v.getRound());
            if (agg.isEmpty()) {
                throw ApiException.conflict("aggregate_mismatch", "round " + v.getRound() + " of " + modelId + " has no stored aggregate");
            }
            if (!AggregateStatus.COMPLETED.name().equals(agg.get()[2])) {
                throw ApiException.conflict("aggregate_mismatch", "round " + v.getRound() + " failed (" + agg.get()[2] + ")");
            }
            if (v.getAggregateHash().remaining() != Hash.LENGTH || !Hash.fromHex(agg.get()[0]).matches(v.getAggregateHash())) {
                throw ApiException.conflict("aggregate_mismatch", "aggregateHash is not the stored aggregate " + agg.get()[0] + " of round " + v.getRound());
            }
            if (v.getAcceptedUpdateRoot().remaining() != Hash.LENGTH || !Hash.fromHex(agg.get()[1]).matches(v.getAcceptedUpdateRoot())) {
                throw ApiException.conflict("update_root_mismatch", "acceptedUpdateRoot is not the aggregate's root " + agg.get()[1]);
            }
            ceremonies.checkVersion(v, m.ceremonyId(), r);
            int seq = (int) db.queryLong("SELECT MAX(seq) FROM versions WHERE model_id = ?", modelId) + 1;
            blobs.put(weights);
            insertVersion(v, seq, publisherId, accuracy);
            appendLog(LogEntryKind.MODEL_VERSION_PUBLISHED, modelId, v.getRound(), CanonicalHash.of(v), publisherId, null, null,
                    v.getVersionHash(), v, System.currentTimeMillis());
            return null;
        });
        return afterPublish(v, versionHash);
    }

    private VersionInfo afterPublish(ModelVersionPublished v, Hash versionHash) {
        try {
            publisher.publish(config.get(RegistryConfig.TOPIC_MODEL_VERSIONS), v.getModelId().toString().getBytes(StandardCharsets.UTF_8), v);
        } catch (RuntimeException e) {
            LOG.error("version {} recorded but not published to Kafka: {}", versionHash, e.toString());
        }
        return version(versionHash);
    }

    /** Sets the accuracy metric of a version. */
    public VersionInfo setAccuracy(Hash versionHash, double accuracy) {
        if (Double.isNaN(accuracy) || accuracy < 0 || accuracy > 1) {
            throw ApiException.badRequest("accuracy must be in [0, 1]");
        }
        version(versionHash);
        db.update("UPDATE versions SET accuracy = ? WHERE version_hash = ?", accuracy, versionHash.toHex());
        return version(versionHash);
    }

    private void insertVersion(ModelVersionPublished v, int seq, String publisherId, Double accuracy) {
        db.update("INSERT INTO versions (version_hash, model_id, seq, parent_hash, round_no, aggregate_hash, update_root, weights_hash, publisher_id, accuracy, published_at, record) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                Hash.of(v.getVersionHash()).toHex(), v.getModelId().toString(), seq, hexOrNull(v.getParentHash()), v.getRound(),
                hexOrNull(v.getAggregateHash()), hexOrNull(v.getAcceptedUpdateRoot()), Hash.of(v.getWeightsHash()).toHex(), publisherId,
                accuracy, v.getPublishedAtEpochMillis(), b64(WireCodec.UNBOUNDED.encode(v)));
    }

    private static final String VERSION_COLS = "version_hash, model_id, seq, parent_hash, round_no, aggregate_hash, update_root, weights_hash, publisher_id, accuracy, published_at";

    private VersionInfo versionRow(ResultSet rs) throws SQLException {
        double acc = rs.getDouble(10);
        Double accuracy = rs.wasNull() ? null : acc;
        return new VersionInfo(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getString(4), rs.getInt(5), rs.getString(6),
                rs.getString(7), rs.getString(8), rs.getString(9), accuracy, rs.getLong(11));
    }

    /** Versions of a model, oldest first. */
    public List<VersionInfo> versions(String modelId) {
        model(modelId);
        return db.query("SELECT " + VERSION_COLS + " FROM versions WHERE model_id = ? ORDER BY seq", this::versionRow, modelId);
    }

    /** One version. */
    public VersionInfo version(Hash versionHash) {
        return db.queryOne("SELECT " + VERSION_COLS + " FROM versions WHERE version_hash = ?", this::versionRow, versionHash.toHex())
                .orElseThrow(() -> ApiException.notFound("unknown version " + versionHash));
    }

    /** The signed ModelVersionPublished record (Avro binary) of a version. */
    public byte[] versionRecord(Hash versionHash) {
        return db.queryOne("SELECT record FROM versions WHERE version_hash = ?", rs -> Base64.getDecoder().decode(rs.getString(1)), versionHash.toHex())
                .orElseThrow(() -> ApiException.notFound("unknown version " + versionHash));
    }

    /** Weights bytes of a version. */
    public byte[] weights(Hash versionHash) {
        VersionInfo v = version(versionHash);
        return blobs.get(Hash.fromHex(v.weightsHash())).orElseThrow(() -> ApiException.notFound("weights of " + versionHash + " missing"));
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

    // ---------------------------------------------------------------- log

    private LogEntry entry(LogEntryKind kind, String modelId, int round, Hash subject, String clientId, String updateId,
            ByteBuffer versionHash, Object payload, long at) {
        return LogEntry.newBuilder().setKind(kind).setModelId(modelId).setRound(round).setSubjectHash(subject.toByteBuffer())
                .setClientId(clientId).setUpdateId(updateId).setReason(null).setVersionHash(versionHash).setPayload(payload)
                .setAtEpochMillis(at).build();
    }

    void appendCeremonyLog(LogEntryKind kind, String modelId, int round, Hash subject, String clientId, String ceremonyId,
            long at) {
        LogEntry e = entry(kind, modelId, round, subject, clientId, null, null, null, at);
        e.setCeremonyId(ceremonyId);
        log.append(e);
    }

    private void appendLog(LogEntryKind kind, String modelId, int round, Hash subject, String clientId, String updateId,
            Object reason, ByteBuffer versionHash, Object payload, long at) {
        log.append(entry(kind, modelId, round, subject, clientId, updateId, versionHash, payload, at));
    }

    /** Signs a tree head for the current size and remembers it (one per size). */
    public SignedTreeHead signedTreeHead() {
        return db.tx(c -> {
            long size = log.size();
            Optional<SignedTreeHead> existing = db.queryOne("SELECT record FROM tree_heads WHERE tree_size = ?",
                    rs -> decode(rs.getString(1), SignedTreeHead.class), size);
            if (existing.isPresent() && log.rootHash(size).matches(existing.get().getRootHash())) {
                return existing.get();
            }
            SignedTreeHead h = log.signedTreeHead(logKey.privateKey(), System.currentTimeMillis());
            if (existing.isEmpty()) {
                db.update("INSERT INTO tree_heads (tree_size, root_hash, issued_at, record) VALUES (?,?,?,?)",
                        size, Hash.of(h.getRootHash()).toHex(), h.getTimestampEpochMillis(), b64(WireCodec.UNBOUNDED.encode(h)));
            } else {
                LOG.error("INTEGRITY: the log's root at size {} differs from the tree head issued before", size);
            }
            return h;
        });
    }

    /** Every tree head issued, by size. */
    public List<SignedTreeHead> treeHeadHistory() {
        return db.query("SELECT record FROM tree_heads ORDER BY tree_size", rs -> decode(rs.getString(1), SignedTreeHead.class));
    }

    /** Entries [start, end). */
    public List<LogEntryInfo> entries(long start, long end) {
        long size = log.size();
        long to = Math.min(end, size);
        if (start < 0 || start > to) {
            throw ApiException.badRequest("bad range [" + start + ", " + end + ") for a log of size " + size);
        }
        List<LogEntryInfo> out = new ArrayList<>();
        for (long i = start; i < to; i++) {
            byte[] bytes = log.entry(i);
            String kind = "UNKNOWN";
            String model = "";
            int round = -1;
            String subject = "";
            try {
                LogEntry e = WireCodec.UNBOUNDED.decode(bytes, LogEntry.class);
                kind = e.getKind().name();
                model = e.getModelId().toString();
                round = e.getRound();
                subject = Hash.of(e.getSubjectHash()).toHex();
            } catch (WireFormatException | IllegalArgumentException e) {
                kind = "UNDECODABLE";
            }
            out.add(new LogEntryInfo(i, b64(bytes), log.leafHash(i).toHex(), kind, model, round, subject));
        }
        return out;
    }

    /** Inclusion proof. */
    public InclusionProof inclusionProof(long index, long treeSize) {
        if (index < 0 || index >= treeSize || treeSize > log.size()) {
            throw ApiException.badRequest("need 0 <= index < treeSize <= " + log.size());
        }
        return log.inclusionProof(index, treeSize);
    }

    /** Consistency proof. */
    public ConsistencyProof consistencyProof(long size1, long size2) {
        if (size1 < 0 || size1 > size2 || size2 > log.size()) {
            throw ApiException.badRequest("need 0 <= first <= second <= " + log.size());
        }
        return log.consistencyProof(size1, size2);
    }

    /** Leaf index of the first entry about {@code subject} (e.g. an update hash), or -1. */
    public long findSubject(Hash subject, String kind) {
        return logStore.findSubject(subject, kind);
    }

    /**
     * Server-side check for the web page: recomputes every leaf hash from the stored entry bytes and the
     * root, and compares with every tree head ever issued.
     */
    public Map<String, Object> verifyLog() {
        SignedTreeHead sth = signedTreeHead();
        long n = sth.getTreeSize();
        List<Hash> leaves = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            Hash recomputed = MerkleHashes.leafHash(log.entry(i));
            if (!recomputed.equals(log.leafHash(i))) {
                return Map.of("ok", false, "treeSize", n, "message", "entry " + i + " does not match its leaf hash (tampered)");
            }
            leaves.add(recomputed);
        }
        Hash root = MerkleHashes.rootOfLeafHashes(leaves);
        if (!root.matches(sth.getRootHash()) || !Signatures.verify(sth, logKey.publicKey())) {
            return Map.of("ok", false, "treeSize", n, "message", "recomputed root differs from the signed tree head");
        }
        for (SignedTreeHead h : treeHeadHistory()) {
            if (h.getTreeSize() > n || !MerkleHashes.rootOfLeafHashes(leaves.subList(0, (int) h.getTreeSize())).matches(h.getRootHash())) {
                return Map.of("ok", false, "treeSize", n, "message", "inconsistent with the tree head of size " + h.getTreeSize() + " issued before");
            }
        }
        return Map.of("ok", true, "treeSize", n, "rootHash", root.toHex(), "message",
                "all " + n + " entries match the signed tree head and every earlier tree head");
    }

    // ---------------------------------------------------------------- helpers

    private static void requireId(String id, String what) {
        if (id == null || !ID.matcher(id).matches()) {
            throw ApiException.badRequest(what + " must match " + ID.pattern());
        }
    }

    private static ByteBuffer empty() {
        return ByteBuffer.allocate(0);
    }

    private static String hexOrNull(ByteBuffer b) {
        return b == null || b.remaining() == 0 ? null : Hash.of(b).toHex();
    }

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> T decode(String b64, Class<T> type) {
        return decodeBytes(Base64.getDecoder().decode(b64), type);
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> T decodeBytes(byte[] bytes, Class<T> type) {
        try {
            return LARGE.decodeStored(bytes, type); // rows written by earlier releases too
        } catch (WireFormatException e) {
            throw new IllegalStateException("stored " + type.getSimpleName() + " does not decode: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        heContexts.values().forEach(HeContext::close);
        heContexts.clear();
    }
}
