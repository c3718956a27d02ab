package org.fedseal.registry.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.HePublicKey;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelLayouts;
import org.fedseal.protocol.ModelWeights;
import org.fedseal.protocol.NonFiniteValueException;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.ModelLayout;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.registry.ModelInfo;
import org.fedseal.registry.RegistryConfig;
import org.fedseal.registry.VersionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The registry's models-and-keys section: registering models (with version 0) and their HE public keys. */
final class ModelsAndKeys implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelsAndKeys.class);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final Database db;
    private final BlobStore blobs;
    private final ProvenanceLog log;
    private final RegistryConfig config;
    private final Supplier<EventPublisher> publisher;
    private final ModelRepository models;
    private final VersionRepository versions;
    private final Map<String, HeContext> heContexts = new ConcurrentHashMap<>();

    ModelsAndKeys(
            Database db,
            BlobStore blobs,
            ProvenanceLog log,
            RegistryConfig config,
            Supplier<EventPublisher> publisher) {
        this.db = db;
        this.blobs = blobs;
        this.log = log;
        this.config = config;
        this.publisher = publisher;
        this.models = new ModelRepository(db);
        this.versions = new VersionRepository(db);
    }

    ModelInfo registerModel(
            String modelId, String architecture, String heParamsId, byte[] weights, String keyHolderId, byte[] layout) {
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
                .setModelId(modelId)
                .setVersionHash(Records.empty())
                .setParentHash(Records.empty())
                .setAggregateHash(Records.empty())
                .setAcceptedUpdateRoot(Records.empty())
                .setRound(0)
                .setWeightsHash(weightsHash.toByteBuffer())
                .setPublishedAtEpochMillis(now)
                .setSignature(Records.empty())
                .build();
        v.setVersionHash(CanonicalHash.versionHash(v).toByteBuffer());
        ModelVersionPublished signed = Signatures.sign(v, log.logKey().privateKey());
        db.tx(c -> {
            if (models.exists(modelId)) {
                throw ApiException.conflict("model_exists", "model " + modelId + " already exists");
            }
            models.insert(modelId, architecture, params.id(), keyHolderId, weights.length / 4L, now, canonicalLayout);
            versions.insert(signed, 0, VersionInfo.REGISTRY_PUBLISHER, null);
            log.append(
                    LogEntryKind.MODEL_VERSION_PUBLISHED,
                    modelId,
                    0,
                    CanonicalHash.of(signed),
                    VersionInfo.REGISTRY_PUBLISHER,
                    null,
                    signed.getVersionHash(),
                    signed,
                    now);
            return null;
        });
        publisher
                .get()
                .publish(
                        config.get(RegistryConfig.TOPIC_MODEL_VERSIONS),
                        modelId.getBytes(StandardCharsets.UTF_8),
                        signed);
        return model(modelId);
    }

    List<ModelInfo> models() {
        return models.ids().stream().map(this::model).toList();
    }

    ModelInfo model(String modelId) {
        return models.find(modelId).orElseThrow(() -> ApiException.notFound("unknown model " + modelId));
    }

    Optional<byte[]> modelLayout(String modelId) {
        model(modelId);
        return models.layout(modelId);
    }

    /** The canonical bytes of a layout sent by a client, after checking it fits a model of {@code parameterCount} weights. */
    private static byte[] checkedLayout(byte[] layout, long parameterCount) {
        ModelLayout decoded;
        try {
            decoded = ModelLayouts.decode(layout);
        } catch (WireFormatException e) {
            throw ApiException.badRequest(
                    "layoutBase64 is not a ModelLayout (fl-protocol ModelLayouts.encode): " + e.getMessage());
        }
        try {
            ModelLayouts.validate(decoded, parameterCount);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("layout: " + e.getMessage());
        }
        return ModelLayouts.encode(decoded);
    }

    Hash putHePublicKey(String modelId, byte[] key) {
        String ceremonyId = model(modelId).ceremonyId();
        if (ceremonyId != null) {
            throw ApiException.conflict(
                    "threshold_model", "model " + modelId + " takes its HE public key from key ceremony " + ceremonyId);
        }
        return storeHePublicKey(modelId, key);
    }

    Hash storeHePublicKey(String modelId, byte[] key) {
        ModelInfo m = model(modelId);
        HeContext ctx = heContext(m.heParamsId());
        if (key == null || key.length != ctx.publicKeyBytes()) {
            throw ApiException.badRequest("not a public key of " + m.heParamsId() + ": expected exactly "
                    + ctx.publicKeyBytes() + " bytes, got " + (key == null ? 0 : key.length)
                    + " (the registry never accepts secret keys)");
        }
        try (HePublicKey pk = ctx.loadPublicKey(key)) {
            LOG.debug("validated HE public key {}", pk);
        } catch (MalformedHeDataException e) {
            throw ApiException.badRequest("not a valid " + m.heParamsId() + " public key: " + e.getMessage());
        }
        Hash h = blobs.put(key);
        db.tx(c -> {
            if (!models.hasHeKey(h)) {
                long now = System.currentTimeMillis();
                models.insertHeKey(h, modelId, m.heParamsId(), now);
                log.append(LogEntryKind.HE_PUBLIC_KEY_STORED, modelId, 0, h, null, null, null, null, now);
            }
            models.setHeKey(modelId, h);
            return null;
        });
        return h;
    }

    byte[] hePublicKey(Hash hash) {
        if (!models.hasHeKey(hash)) {
            throw ApiException.notFound("unknown HE public key " + hash);
        }
        return blobs.get(hash).orElseThrow(() -> ApiException.notFound("HE public key blob missing " + hash));
    }

    private HeContext heContext(String paramsId) {
        return heContexts.computeIfAbsent(paramsId, id -> HeContext.create(params(id)));
    }

    static HeParameters params(String id) {
        if (id == null) {
            throw ApiException.badRequest("heParamsId is required");
        }
        return HeParameters.byId(id)
                .orElseThrow(() -> ApiException.badRequest("unknown HE parameter set " + id + "; known: "
                        + HeParameters.all().stream().map(HeParameters::id).toList()));
    }

    /** 400 naming the first NaN or ±Inf: no version with non-finite weights is stored or served. */
    static void requireFiniteWeights(byte[] weights) {
        try {
            ModelWeights.decodeFinite(weights);
        } catch (NonFiniteValueException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    static void requireId(String id, String what) {
        if (id == null || !ID.matcher(id).matches()) {
            throw ApiException.badRequest(what + " must match " + ID.pattern());
        }
    }

    @Override
    public void close() {
        heContexts.values().forEach(HeContext::close);
        heContexts.clear();
    }
}
