package org.fedseal.registry;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.fedseal.protocol.ConsistencyProof;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.InclusionProof;
import org.fedseal.protocol.ModelLayouts;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.StrategyState;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.KeyCeremonyOpened;
import org.fedseal.protocol.wire.ModelLayout;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.SignedTreeHead;

/**
 * Typed Java client of the registry's REST API (used by the SDK, the demo and the {@code fedseal}
 * CLI). Thread-safe. Errors surface as {@link RegistryException}.
 */
public final class RegistryClient {
    private static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final WireCodec LARGE = WireCodec.withMaxRecordBytes(512 << 20);

    private final URI base;
    private final String token;
    private final HttpClient http;

    private RegistryClient(URI base, String token) {
        String s = base.toString();
        this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
        this.token = token;
        this.http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** A client for public (read) endpoints. */
    public static RegistryClient create(URI baseUri) {
        return new RegistryClient(Objects.requireNonNull(baseUri, "baseUri"), null);
    }

    /** A client that sends {@code bearerToken} (may be null) to mutating endpoints. */
    public static RegistryClient create(URI baseUri, String bearerToken) {
        return new RegistryClient(Objects.requireNonNull(baseUri, "baseUri"), bearerToken);
    }

    /** The registry's base URI. */
    public URI baseUri() {
        return base;
    }

    // ------------------------------------------------------------ models

    /** Registers a model with initial weights; returns it (its {@code latestVersionHash} is version 0). */
    public ModelInfo registerModel(String modelId, String architecture, String heParamsId, float[] weights) {
        return registerModel(modelId, architecture, heParamsId, floatsToBytes(weights), null);
    }

    /** Registers a model with initial weights as float32 little-endian bytes and an optional key holder id. */
    public ModelInfo registerModel(
            String modelId, String architecture, String heParamsId, byte[] weightsLe, String keyHolderId) {
        return registerModel(modelId, architecture, heParamsId, weightsLe, keyHolderId, null);
    }

    /**
     * Registers a model with initial weights as float32 little-endian bytes, an optional key holder
     * id and an optional layout (tensor names and shapes, e.g. {@code DjlTrainer.layout()}), which
     * {@code fedseal model export} needs for anything but a flat safetensors file.
     *
     * @throws RegistryException 400 if the layout does not hold exactly the weights
     */
    public ModelInfo registerModel(
            String modelId,
            String architecture,
            String heParamsId,
            byte[] weightsLe,
            String keyHolderId,
            ModelLayout layout) {
        return registerModel(modelId, architecture, heParamsId, weightsLe, keyHolderId, layout, 0, 0);
    }

    /**
     * Registers a model as above with a differential-privacy budget: ε {@code epsilonBudget} at
     * {@code delta} (both 0: none). The registry then refuses every round without noise
     * ({@code RoundOptions.withNoiseMultiplier}) and every round that would bring the ε spent past the
     * budget (fl-protocol {@code PrivacyAccountant}); each version records the ε spent
     * ({@link VersionInfo#epsilon()}). The budget cannot be changed later.
     *
     * @throws RegistryException 400 if ε is not positive and finite or δ not in (0, 1), or the layout does not fit
     */
    public ModelInfo registerModel(
            String modelId,
            String architecture,
            String heParamsId,
            byte[] weightsLe,
            String keyHolderId,
            ModelLayout layout,
            double epsilonBudget,
            double delta) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (epsilonBudget != 0 || delta != 0) {
            body.put("epsilonBudget", epsilonBudget);
            body.put("delta", delta);
        }
        if (layout != null) {
            body.put("layoutBase64", b64(ModelLayouts.encode(layout)));
        }
        body.put("modelId", modelId);
        body.put("architecture", architecture);
        body.put("heParamsId", heParamsId);
        body.put("weightsBase64", b64(weightsLe));
        if (keyHolderId != null) {
            body.put("keyHolderId", keyHolderId);
        }
        return json("POST", "/api/models", body, ModelInfo.class);
    }

    /** All models. */
    public List<ModelInfo> listModels() {
        return json("GET", "/api/models", null, new TypeReference<List<ModelInfo>>() {});
    }

    /** One model. */
    public ModelInfo model(String modelId) {
        return json("GET", "/api/models/" + modelId, null, ModelInfo.class);
    }

    /**
     * The layout the model was registered with, or empty if none.
     *
     * @throws RegistryException 404 for an unknown model; status 0 if the registry sent a malformed layout
     */
    public Optional<ModelLayout> modelLayout(String modelId) {
        byte[] bytes;
        try {
            bytes = bytes("/api/models/" + modelId + "/layout");
        } catch (RegistryException e) {
            if (e.status() == 404 && "model_no_layout".equals(e.code())) {
                return Optional.empty();
            }
            throw e;
        }
        try {
            return Optional.of(ModelLayouts.decode(bytes));
        } catch (WireFormatException e) {
            throw new RegistryException(0, "malformed", "registry sent a malformed layout: " + e.getMessage());
        }
    }

    /** Stores the model's HE public key; returns its hash. */
    public Hash putHePublicKey(String modelId, byte[] publicKey) {
        HttpRequest.Builder b = request("/api/models/" + modelId + "/he-public-key")
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(publicKey));
        return Hash.fromHex(tree(send(b)).get("hash").asText());
    }

    /** The HE public key stored under {@code hash}. */
    public byte[] hePublicKey(Hash hash) {
        return bytes("/api/he-public-keys/" + hash.toHex());
    }

    // ------------------------------------------------------------ clients

    /** Enrols a client's Ed25519 key for {@code modelIds} (empty = all); returns true if ClientEnrolled reached Kafka. */
    public boolean enrollClient(String clientId, SigningPublicKey key, List<String> modelIds) {
        Map<String, Object> body = Map.of("clientId", clientId, "publicKey", b64(key.toX509()), "modelIds", modelIds);
        return tree(send(jsonRequest("POST", "/api/clients", body)))
                .path("published")
                .asBoolean();
    }

    /** The enrolled signing key of a client. */
    public SigningPublicKey clientKey(String clientId) {
        JsonNode n = json("GET", "/api/clients/" + clientId, null, JsonNode.class);
        return SigningPublicKey.fromX509(
                Base64.getDecoder().decode(n.get("publicKey").asText()));
    }

    // ------------------------------------------------------------ rounds

    /** Opens the next round of {@code modelId} with the bounds the registry derives (clip norm 1, the largest total weight that fits). */
    public RoundInfo openRound(
            String modelId, int quorum, Duration deadlineIn, int localEpochs, int ciphertextsPerChunk) {
        return openRound(modelId, quorum, deadlineIn, localEpochs, ciphertextsPerChunk, 0, 0, 0);
    }

    /**
     * Opens the next round of {@code modelId} with explicit headroom bounds (fl-protocol's
     * {@code RoundBounds}); 0 leaves a bound to the registry's default.
     *
     * @param clipNorm the L2 bound C of every client's delta, or 0 for 1.0
     * @param maxTotalWeight the largest total weight of the round, or 0 for the largest that fits
     * @param maxUpdateWeight the largest weight of one update, or 0 for maxTotalWeight / quorum
     * @throws RegistryException 400 if the bounds could let the encrypted sum wrap (the message names the bound)
     */
    public RoundInfo openRound(
            String modelId,
            int quorum,
            Duration deadlineIn,
            int localEpochs,
            int ciphertextsPerChunk,
            double clipNorm,
            long maxTotalWeight,
            long maxUpdateWeight) {
        return openRound(
                modelId,
                quorum,
                deadlineIn,
                localEpochs,
                ciphertextsPerChunk,
                clipNorm,
                maxTotalWeight,
                maxUpdateWeight,
                RoundOptions.DEFAULT);
    }

    /**
     * Opens the next round with explicit bounds (0: the registry's default, as above) and the
     * clients' training configuration and sampling ({@link RoundOptions}; fields at their
     * {@link RoundOptions#DEFAULT} value are not sent). With a sampling fraction below 1 the
     * registry samples the clients enrolled for the model and answers the sample in
     * {@link RoundInfo#sampledClients()}.
     *
     * @throws RegistryException 400 for bounds that could wrap or a sample smaller than the quorum;
     *     409 {@code no_clients} if no client is enrolled to sample from
     */
    public RoundInfo openRound(
            String modelId,
            int quorum,
            Duration deadlineIn,
            int localEpochs,
            int ciphertextsPerChunk,
            double clipNorm,
            long maxTotalWeight,
            long maxUpdateWeight,
            RoundOptions options) {
        Map<String, Object> body = new LinkedHashMap<>();
        RoundOptions d = RoundOptions.DEFAULT;
        if (options.learningRate() != d.learningRate()) {
            body.put("learningRate", options.learningRate());
        }
        if (options.batchSize() != d.batchSize()) {
            body.put("batchSize", options.batchSize());
        }
        if (options.proximalMu() != d.proximalMu()) {
            body.put("proximalMu", options.proximalMu());
        }
        if (options.samplingFraction() != d.samplingFraction()) {
            body.put("samplingFraction", options.samplingFraction());
        }
        if (options.minSampledClients() != d.minSampledClients()) {
            body.put("minSampledClients", options.minSampledClients());
        }
        if (options.noiseMultiplier() != d.noiseMultiplier()) {
            body.put("noiseMultiplier", options.noiseMultiplier());
        }
        if (options.clipValue() != d.clipValue()) {
            body.put("clipValue", options.clipValue());
        }
        if (options.maskScaleBits() != d.maskScaleBits()) {
            body.put("maskScaleBits", options.maskScaleBits());
        }
        body.put("quorum", quorum);
        body.put("deadlineEpochMillis", System.currentTimeMillis() + deadlineIn.toMillis());
        body.put("localEpochs", localEpochs);
        body.put("ciphertextsPerChunk", ciphertextsPerChunk);
        if (clipNorm != 0) {
            body.put("clipNorm", clipNorm);
        }
        if (maxTotalWeight != 0) {
            body.put("maxTotalWeight", maxTotalWeight);
        }
        if (maxUpdateWeight != 0) {
            body.put("maxUpdateWeight", maxUpdateWeight);
        }
        return json("POST", "/api/models/" + modelId + "/rounds", body, RoundInfo.class);
    }

    /**
     * Opens the next round of {@code modelId} as a federated evaluation round of {@code versionHash}
     * (null: the latest version): clients evaluate that version on their own data and send encrypted
     * sums (fl-protocol {@code FederatedEvaluation}); the key holder posts the decrypted metrics with
     * {@link #recordEvaluation}. No version comes out of it.
     *
     * @param lossBound the largest mean loss a client may report (clients above it refuse), or 0 for the default 10
     * @param maxTotalWeight the largest total number of examples, or 0 for the largest the headroom allows
     * @param maxUpdateWeight the largest number of examples of one client, or 0 for maxTotalWeight
     * @throws RegistryException 400 if the bounds do not fit the parameter set, 404 for an unknown version, 409 if a round is open
     */
    public RoundInfo openEvaluationRound(
            String modelId,
            Hash versionHash,
            int quorum,
            Duration deadlineIn,
            double lossBound,
            long maxTotalWeight,
            long maxUpdateWeight) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("quorum", quorum);
        body.put("deadlineEpochMillis", System.currentTimeMillis() + deadlineIn.toMillis());
        if (versionHash != null) {
            body.put("versionHash", versionHash.toHex());
        }
        if (lossBound != 0) {
            body.put("lossBound", lossBound);
        }
        if (maxTotalWeight != 0) {
            body.put("maxTotalWeight", maxTotalWeight);
        }
        if (maxUpdateWeight != 0) {
            body.put("maxUpdateWeight", maxUpdateWeight);
        }
        return json("POST", "/api/models/" + modelId + "/evaluations", body, RoundInfo.class);
    }

    /**
     * Records the federated metrics decrypted from evaluation round {@code round}'s aggregate (bearer token).
     *
     * @param accuracy null for a model without accuracy
     * @throws RegistryException 409 if the round is not an evaluation round, the aggregate or its total weight differ, or other
     *     metrics are already recorded
     */
    public FederatedEvaluationInfo recordEvaluation(
            String modelId,
            int round,
            Hash aggregateHash,
            long examples,
            Double accuracy,
            double loss,
            String recordedBy) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("aggregateHash", aggregateHash.toHex());
        body.put("examples", examples);
        if (accuracy != null) {
            body.put("accuracy", accuracy);
        }
        body.put("loss", loss);
        body.put("recordedBy", recordedBy);
        return json(
                "POST",
                "/api/models/" + modelId + "/rounds/" + round + "/evaluation",
                body,
                FederatedEvaluationInfo.class);
    }

    /** The federated evaluations of a version, oldest first. */
    public List<FederatedEvaluationInfo> evaluations(Hash versionHash) {
        return json(
                "GET",
                "/api/versions/" + versionHash.toHex() + "/evaluations",
                null,
                new TypeReference<List<FederatedEvaluationInfo>>() {});
    }

    /** The federated evaluations of all versions of a model, oldest first. */
    public List<FederatedEvaluationInfo> modelEvaluations(String modelId) {
        return json(
                "GET",
                "/api/models/" + modelId + "/evaluations",
                null,
                new TypeReference<List<FederatedEvaluationInfo>>() {});
    }

    /** The RoundOpened record of a round (its task, bounds and layout), as the registry published it. */
    public RoundOpened roundRecord(String modelId, int round) {
        return decode(bytes("/api/models/" + modelId + "/rounds/" + round + "/record"), RoundOpened.class);
    }

    /** Status of a round. */
    public RoundInfo roundStatus(String modelId, int round) {
        return json("GET", "/api/models/" + modelId + "/rounds/" + round, null, RoundInfo.class);
    }

    /** All rounds of a model. */
    public List<RoundInfo> rounds(String modelId) {
        return json("GET", "/api/models/" + modelId + "/rounds", null, new TypeReference<List<RoundInfo>>() {});
    }

    /** The published aggregate of a round, if any. */
    public Optional<AggregatePublished> aggregate(String modelId, int round) {
        try {
            return Optional.of(decode(
                    bytes("/api/models/" + modelId + "/rounds/" + round + "/aggregate"), AggregatePublished.class));
        } catch (RegistryException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Accepted updates of a round with their archived chunk hashes. */
    public List<AcceptedUpdateInfo> acceptedUpdates(String modelId, int round) {
        return json(
                "GET",
                "/api/models/" + modelId + "/rounds/" + round + "/updates",
                null,
                new TypeReference<List<AcceptedUpdateInfo>>() {});
    }

    /** A content-addressed blob (archived chunk or commit, aggregate, weights). */
    public byte[] blob(Hash hash) {
        return bytes("/api/blobs/" + hash.toHex());
    }
    /**
     * A chunk sum of a chunked aggregate, by its canonical hash (the manifest's
     * {@code chunkSumHashes}); a method reference to this is an {@code Aggregates.ChunkSource}.
     *
     * @throws RegistryException 404 if the registry has not stored it (yet)
     */
    public AggregateChunkSum aggregateChunkSum(Hash hash) {
        return decode(blob(hash), AggregateChunkSum.class);
    }

    // ------------------------------------------------------------ threshold key ceremonies

    /**
     * Opens a key ceremony for a threshold model with these enrolled holders (admin). The holders
     * then run it over Kafka; poll {@link #ceremony} for its status.
     *
     * @param ceremonyId the ceremony's id, or null for a generated one
     */
    public CeremonyInfo openCeremony(String modelId, String ceremonyId, List<String> holderIds) {
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("holderIds", holderIds);
        if (ceremonyId != null) {
            body.put("ceremonyId", ceremonyId);
        }
        return json("POST", "/api/models/" + modelId + "/ceremonies", body, CeremonyInfo.class);
    }

    /** A key ceremony's state. */
    public CeremonyInfo ceremony(String ceremonyId) {
        return json("GET", "/api/ceremonies/" + ceremonyId, null, CeremonyInfo.class);
    }

    /** The registry-signed KeyCeremonyOpened record of a ceremony (verify it with {@link #logPublicKey}). */
    public KeyCeremonyOpened ceremonyRecord(String ceremonyId) {
        return decode(bytes("/api/ceremonies/" + ceremonyId + "/record"), KeyCeremonyOpened.class);
    }

    /** The decryption shares of a round that the registry checked and logged. */
    public List<DecryptionSharesInfo> decryptionShares(String modelId, int round) {
        return json(
                "GET",
                "/api/models/" + modelId + "/rounds/" + round + "/decryption-shares",
                null,
                new TypeReference<List<DecryptionSharesInfo>>() {});
    }

    // ------------------------------------------------------------ versions

    /**
     * Publishes a new version: {@code signed} must be signed by {@code publisherId}'s enrolled key,
     * {@code weightsLe} are the float32 little-endian weights, {@code accuracy} may be null.
     */
    public VersionInfo publishVersion(
            ModelVersionPublished signed, String publisherId, byte[] weightsLe, Double accuracy) {
        return publishVersion(signed, publisherId, weightsLe, new byte[0], accuracy);
    }

    /**
     * Publishes a version whose strategy keeps state: {@code optimizerState} is the state after the
     * version's step ({@code StrategyState.encode()}; empty for a stateless strategy), stored by the
     * registry under the record's {@code optimizerStateHash}, which it must hash to (409
     * {@code optimizer_state_mismatch} otherwise).
     */
    public VersionInfo publishVersion(
            ModelVersionPublished signed,
            String publisherId,
            byte[] weightsLe,
            byte[] optimizerState,
            Double accuracy) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("record", b64(WireCodec.UNBOUNDED.encode(signed)));
        body.put("publisherId", publisherId);
        body.put("weightsBase64", b64(weightsLe));
        if (optimizerState.length > 0) {
            body.put("optimizerStateBase64", b64(optimizerState));
        }
        if (accuracy != null) {
            body.put("accuracy", accuracy);
        }
        return json("POST", "/api/models/" + signed.getModelId() + "/versions", body, VersionInfo.class);
    }

    /** Versions of a model with lineage, oldest first. */
    public List<VersionInfo> versions(String modelId) {
        return json("GET", "/api/models/" + modelId + "/versions", null, new TypeReference<List<VersionInfo>>() {});
    }

    /** One version. */
    public VersionInfo version(Hash versionHash) {
        return json("GET", "/api/versions/" + versionHash.toHex(), null, VersionInfo.class);
    }

    /** The signed record of a version, exactly as its publisher signed it (the version hash covers it). */
    public ModelVersionPublished versionRecord(Hash versionHash) {
        return decode(bytes("/api/versions/" + versionHash.toHex() + "/record"), ModelVersionPublished.class);
    }

    /** The weights bytes (float32 little-endian) of a version. */
    public byte[] weights(Hash versionHash) {
        return bytes("/api/versions/" + versionHash.toHex() + "/weights");
    }

    /**
     * The strategy state a version's record names ({@code optimizerStateHash}), fetched from the
     * registry's blobs and checked against that hash; {@link StrategyState#EMPTY} if it names none.
     *
     * @throws RegistryException if the registry does not serve it
     * @throws IllegalStateException if the served bytes do not hash to the record's optimizerStateHash or do not decode
     */
    public StrategyState optimizerState(ModelVersionPublished version) {
        if (version.getOptimizerStateHash().remaining() == 0) {
            return StrategyState.EMPTY;
        }
        Hash h = Hash.of(version.getOptimizerStateHash());
        byte[] bytes = blob(h);
        if (!Hash.sha256(bytes).equals(h)) {
            throw new IllegalStateException("the optimizer state served for " + h + " does not hash to it");
        }
        try {
            return StrategyState.decode(bytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("optimizer state " + h + " is malformed: " + e.getMessage(), e);
        }
    }

    /** The weights of a version as floats. */
    public float[] weightsAsFloats(Hash versionHash) {
        ByteBuffer b = ByteBuffer.wrap(weights(versionHash)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    /** Sets a version's accuracy metric (bearer token). */
    public VersionInfo setAccuracy(Hash versionHash, double accuracy) {
        return json(
                "PUT",
                "/api/versions/" + versionHash.toHex() + "/accuracy",
                Map.of("accuracy", accuracy),
                VersionInfo.class);
    }

    // ------------------------------------------------------------ provenance log

    /** The registry's log public key as served (pin it for audits). */
    public SigningPublicKey logPublicKey() {
        JsonNode n = json("GET", "/api/log/key", null, JsonNode.class);
        return SigningPublicKey.fromX509(
                Base64.getDecoder().decode(n.get("publicKey").asText()));
    }

    /** A signed tree head for the current log size. */
    public SignedTreeHead signedTreeHead() {
        return sthFrom(json("GET", "/api/log/sth", null, JsonNode.class));
    }

    /** Every tree head the registry issued, by size. */
    public List<SignedTreeHead> treeHeadHistory() {
        List<SignedTreeHead> out = new ArrayList<>();
        json("GET", "/api/log/sth/history", null, JsonNode.class).forEach(n -> out.add(sthFrom(n)));
        return out;
    }

    /** Log entries [start, end) (the server may return fewer per call; this method pages). */
    public List<LogEntryInfo> logEntries(long start, long end) {
        List<LogEntryInfo> out = new ArrayList<>();
        long next = start;
        while (next < end) {
            List<LogEntryInfo> page = json(
                    "GET",
                    "/api/log/entries?start=" + next + "&end=" + Math.min(end, next + 1000),
                    null,
                    new TypeReference<List<LogEntryInfo>>() {});
            if (page.isEmpty()) {
                break;
            }
            out.addAll(page);
            next += page.size();
        }
        return out;
    }

    /** Inclusion proof of leaf {@code index} in the tree of size {@code treeSize}. */
    public InclusionProof inclusionProof(long index, long treeSize) {
        JsonNode n = json("GET", "/api/log/inclusion?index=" + index + "&treeSize=" + treeSize, null, JsonNode.class);
        return new InclusionProof(n.get("leafIndex").asLong(), n.get("treeSize").asLong(), hashes(n.get("path")));
    }

    /** Consistency proof between two tree sizes. */
    public ConsistencyProof consistencyProof(long size1, long size2) {
        JsonNode n = json("GET", "/api/log/consistency?first=" + size1 + "&second=" + size2, null, JsonNode.class);
        return new ConsistencyProof(n.get("size1").asLong(), n.get("size2").asLong(), hashes(n.get("path")));
    }

    /** Index of the first log entry about {@code subjectHash} (e.g. an update hash) of {@code kind} (null = any). */
    public Optional<Long> findLogEntry(Hash subjectHash, String kind) {
        try {
            return Optional.of(json(
                            "GET",
                            "/api/log/lookup/" + subjectHash.toHex() + (kind == null ? "" : "?kind=" + kind),
                            null,
                            JsonNode.class)
                    .get("index")
                    .asLong());
        } catch (RegistryException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** The registry's own verification of its log (the web page's "verify"). */
    public Map<String, Object> verifyLogOnServer() {
        return json("GET", "/api/log/verify", null, new TypeReference<Map<String, Object>>() {});
    }

    // ------------------------------------------------------------ plumbing

    /** Decodes a signed tree head from its JSON form ({@code record} = base64 Avro). */
    public static SignedTreeHead sthFrom(JsonNode n) {
        return decode(Base64.getDecoder().decode(n.get("record").asText()), SignedTreeHead.class);
    }

    private static List<Hash> hashes(JsonNode arr) {
        List<Hash> out = new ArrayList<>();
        arr.forEach(h -> out.add(Hash.fromHex(h.asText())));
        return out;
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> T decode(byte[] b, Class<T> type) {
        try {
            return LARGE.decode(b, type);
        } catch (WireFormatException e) {
            throw new RegistryException(
                    0, "malformed", "registry sent a malformed " + type.getSimpleName() + ": " + e.getMessage());
        }
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120));
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private HttpRequest.Builder jsonRequest(String method, String path, Object body) {
        try {
            HttpRequest.BodyPublisher pub = body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
            return request(path).header("Content-Type", "application/json").method(method, pub);
        } catch (IOException e) {
            throw new RegistryException(0, "client_error", e.getMessage());
        }
    }

    private byte[] send(HttpRequest.Builder b) {
        HttpResponse<byte[]> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new RegistryException(0, "unreachable", "cannot reach the registry at " + base + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException(0, "interrupted", "interrupted");
        }
        if (r.statusCode() >= 300) {
            String code = "http_" + r.statusCode();
            String message = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
            try {
                JsonNode n = JSON.readTree(r.body());
                code = n.path("code").asText(code);
                message = n.path("message").asText(message);
            } catch (IOException ignored) {
                // not JSON
            }
            throw new RegistryException(r.statusCode(), code, message);
        }
        return r.body();
    }

    private byte[] bytes(String path) {
        return send(request(path).GET());
    }

    private static JsonNode tree(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new RegistryException(0, "malformed", "registry sent invalid JSON");
        }
    }

    private <T> T json(String method, String path, Object body, Class<T> type) {
        try {
            return JSON.readValue(send(jsonRequest(method, path, body)), type);
        } catch (IOException e) {
            throw new RegistryException(0, "malformed", "unexpected answer: " + e.getMessage());
        }
    }

    private <T> T json(String method, String path, Object body, TypeReference<T> type) {
        try {
            return JSON.readValue(send(jsonRequest(method, path, body)), type);
        } catch (IOException e) {
            throw new RegistryException(0, "malformed", "unexpected answer: " + e.getMessage());
        }
    }

    /** float32 little-endian bytes of {@code values}. */
    public static byte[] floatsToBytes(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b.array();
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }
}
