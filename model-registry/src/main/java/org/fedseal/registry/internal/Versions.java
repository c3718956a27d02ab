package org.fedseal.registry.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.StrategyState;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.ModelInfo;
import org.fedseal.registry.RegistryConfig;
import org.fedseal.registry.VersionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The registry's versions section: publishing a version after checking its whole hash chain, and reading versions. */
final class Versions {
    private static final Logger LOG = LoggerFactory.getLogger(Versions.class);
    private final Database db;
    private final BlobStore blobs;
    private final ProvenanceLog log;
    private final RegistryConfig config;
    private final Supplier<EventPublisher> publisher;
    private final ModelsAndKeys models;
    private final Enrolment enrolment;
    private final RoundsAndIngest rounds;
    private final Ceremonies ceremonies;
    private final VersionRepository versions;

    Versions(
            Database db,
            BlobStore blobs,
            ProvenanceLog log,
            RegistryConfig config,
            Supplier<EventPublisher> publisher,
            ModelsAndKeys models,
            Enrolment enrolment,
            RoundsAndIngest rounds,
            Ceremonies ceremonies) {
        this.db = db;
        this.blobs = blobs;
        this.log = log;
        this.config = config;
        this.publisher = publisher;
        this.models = models;
        this.enrolment = enrolment;
        this.rounds = rounds;
        this.ceremonies = ceremonies;
        this.versions = new VersionRepository(db);
    }

    /**
     * @param optimizerState the strategy's state after this version's step (fl-protocol StrategyState encoding), empty
     *     for a stateless strategy; it must hash to the record's optimizerStateHash and is stored under that hash
     */
    VersionInfo publishVersion(
            byte[] recordBytes, String publisherId, byte[] weights, byte[] optimizerState, Double accuracy) {
        ModelVersionPublished v;
        try {
            v = WireCodec.UNBOUNDED.decode(recordBytes, ModelVersionPublished.class);
        } catch (WireFormatException e) {
            throw ApiException.badRequest("record is not a ModelVersionPublished: " + e.getMessage());
        }
        String modelId = v.getModelId().toString();
        ModelInfo m = models.model(modelId);
        ModelsAndKeys.requireId(publisherId, "publisherId");
        if (m.keyHolderId() != null && !m.keyHolderId().equals(publisherId)) {
            throw new ApiException(403, "not_key_holder", publisherId + " is not the key holder of " + modelId);
        }
        SigningPublicKey key = enrolment
                .clientKey(publisherId)
                .orElseThrow(() ->
                        new ApiException(403, "unknown_publisher", "publisher " + publisherId + " is not enrolled"));
        if (!Signatures.verify(v, key)) {
            throw new ApiException(
                    403, "bad_signature", "signature does not verify with the enrolled key of " + publisherId);
        }
        if (accuracy != null && (accuracy.isNaN() || accuracy < 0 || accuracy > 1)) {
            throw ApiException.badRequest("accuracy must be in [0, 1]");
        }
        Hash versionHash = CanonicalHash.versionHash(v);
        if (!versionHash.matches(v.getVersionHash())) {
            throw ApiException.conflict(
                    "version_hash_mismatch", "versionHash does not match the record; recomputed " + versionHash);
        }
        if (weights == null || weights.length != m.parameterCount() * 4) {
            throw ApiException.badRequest("weights must be " + m.parameterCount() + " float32 values");
        }
        ModelsAndKeys.requireFiniteWeights(weights);
        if (!Hash.sha256(weights).matches(v.getWeightsHash())) {
            throw ApiException.conflict("weights_hash_mismatch", "weightsHash does not match the uploaded weights");
        }
        checkStrategy(v, optimizerState == null ? new byte[0] : optimizerState);
        if (v.getParentHash().remaining() != Hash.LENGTH) {
            throw ApiException.conflict("parent_mismatch", "a published version needs a parent");
        }
        Hash parent = Hash.of(v.getParentHash());
        ModelVersionPublished rec = v;
        db.tx(c -> {
            if (versions.exists(versionHash)) {
                throw ApiException.conflict("version_exists", "version " + versionHash + " already published");
            }
            if (!versions.isVersionOf(parent, modelId)) {
                throw ApiException.conflict("parent_mismatch", "parent " + parent + " is not a version of " + modelId);
            }
            RoundOpened r = rounds.roundOpened(modelId, rec.getRound());
            if (r.getTask() == org.fedseal.protocol.wire.RoundTask.EVALUATE) {
                throw ApiException.conflict(
                        "evaluation_round",
                        "round " + rec.getRound() + " of " + modelId + " is an evaluation round: "
                                + "its aggregate holds federated metrics of version " + Hash.of(r.getBaseModelHash())
                                + ", not an update; "
                                + "post them to /api/models/" + modelId + "/rounds/" + rec.getRound() + "/evaluation");
            }
            if (!parent.matches(r.getBaseModelHash())) {
                throw ApiException.conflict(
                        "parent_mismatch",
                        "parent " + parent + " is not the base version of round " + rec.getRound() + " ("
                                + Hash.of(r.getBaseModelHash()) + ")");
            }
            Optional<String[]> agg = rounds.repository().aggregateOf(modelId, rec.getRound());
            if (agg.isEmpty()) {
                throw ApiException.conflict(
                        "aggregate_mismatch",
                        "round " + rec.getRound() + " of " + modelId + " has no stored aggregate");
            }
            if (!AggregateStatus.COMPLETED.name().equals(agg.get()[2])) {
                throw ApiException.conflict(
                        "aggregate_mismatch", "round " + rec.getRound() + " failed (" + agg.get()[2] + ")");
            }
            if (rec.getAggregateHash().remaining() != Hash.LENGTH
                    || !Hash.fromHex(agg.get()[0]).matches(rec.getAggregateHash())) {
                throw ApiException.conflict(
                        "aggregate_mismatch",
                        "aggregateHash is not the stored aggregate " + agg.get()[0] + " of round " + rec.getRound());
            }
            if (rec.getAcceptedUpdateRoot().remaining() != Hash.LENGTH
                    || !Hash.fromHex(agg.get()[1]).matches(rec.getAcceptedUpdateRoot())) {
                throw ApiException.conflict(
                        "update_root_mismatch", "acceptedUpdateRoot is not the aggregate's root " + agg.get()[1]);
            }
            ceremonies.checkVersion(rec, m.ceremonyId(), r);
            int seq = versions.nextSeq(modelId);
            blobs.put(weights);
            if (optimizerState != null && optimizerState.length > 0) {
                blobs.put(optimizerState);
            }
            versions.insert(rec, seq, publisherId, accuracy);
            new PrivacyBudgets(db).recordVersion(modelId, rec.getRound(), Hash.of(rec.getVersionHash()));
            log.append(
                    LogEntryKind.MODEL_VERSION_PUBLISHED,
                    modelId,
                    rec.getRound(),
                    CanonicalHash.of(rec),
                    publisherId,
                    null,
                    rec.getVersionHash(),
                    rec,
                    System.currentTimeMillis());
            return null;
        });
        try {
            publisher
                    .get()
                    .publish(
                            config.get(RegistryConfig.TOPIC_MODEL_VERSIONS),
                            modelId.getBytes(StandardCharsets.UTF_8),
                            v);
        } catch (RuntimeException e) {
            LOG.error("version {} recorded but not published to Kafka: {}", versionHash, e.toString());
        }
        return version(versionHash);
    }

    /**
     * The record's strategy must be one this registry knows with valid hyperparameters, and its
     * optimizerStateHash must name exactly the uploaded state bytes (none for an empty hash).
     */
    private static void checkStrategy(ModelVersionPublished v, byte[] optimizerState) {
        try {
            Strategy.fromSpec(v.getStrategy());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("strategy: " + e.getMessage());
        }
        if (v.getOptimizerStateHash().remaining() == 0) {
            if (optimizerState.length > 0) {
                throw ApiException.conflict(
                        "optimizer_state_mismatch",
                        "optimizer state uploaded, but the record's optimizerStateHash is empty");
            }
            return;
        }
        if (v.getOptimizerStateHash().remaining() != Hash.LENGTH
                || !Hash.sha256(optimizerState).matches(v.getOptimizerStateHash())) {
            throw ApiException.conflict(
                    "optimizer_state_mismatch",
                    "optimizerStateHash does not match the uploaded optimizer state (" + optimizerState.length
                            + " bytes)");
        }
        try {
            StrategyState.decode(optimizerState);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("optimizer state: " + e.getMessage());
        }
    }

    VersionInfo setAccuracy(Hash versionHash, double accuracy) {
        if (Double.isNaN(accuracy) || accuracy < 0 || accuracy > 1) {
            throw ApiException.badRequest("accuracy must be in [0, 1]");
        }
        version(versionHash);
        versions.setAccuracy(versionHash, accuracy);
        return version(versionHash);
    }

    List<VersionInfo> versions(String modelId) {
        models.model(modelId);
        return versions.ofModel(modelId);
    }

    VersionInfo version(Hash versionHash) {
        return versions.find(versionHash).orElseThrow(() -> ApiException.notFound("unknown version " + versionHash));
    }

    byte[] versionRecord(Hash versionHash) {
        return versions.record(versionHash).orElseThrow(() -> ApiException.notFound("unknown version " + versionHash));
    }

    byte[] weights(Hash versionHash) {
        VersionInfo v = version(versionHash);
        return blobs.get(Hash.fromHex(v.weightsHash()))
                .orElseThrow(() -> ApiException.notFound("weights of " + versionHash + " missing"));
    }
}
