package org.fedseal.registry.internal;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.fedseal.hejava.threshold.CommonReference;
import org.fedseal.hejava.threshold.ThresholdKeys;
import org.fedseal.hejava.threshold.ThresholdParty;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.KeyCeremonyTranscript;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.CeremonyPhase;
import org.fedseal.protocol.wire.DecryptionSharesPublished;
import org.fedseal.protocol.wire.KeyCeremonyEnvelope;
import org.fedseal.protocol.wire.KeyCeremonyMessage;
import org.fedseal.protocol.wire.KeyCeremonyOpened;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.registry.CeremonyInfo;
import org.fedseal.registry.DecryptionSharesInfo;
import org.fedseal.registry.ModelInfo;
import org.fedseal.registry.RegistryConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's part in threshold models: opens key ceremonies (a signed KeyCeremonyOpened on
 * the key-ceremony topic), checks and logs every holder message against the transcript, forms
 * and stores the collective public key when the ceremony completes, logs the holders' decryption
 * shares, and checks that a threshold model's versions name their ceremony and shares.
 *
 * <p>Every accepted record is a blob (by its canonical hash) and a provenance log entry, so an
 * auditor can replay the ceremony and see whose shares made each version. Rejected records are
 * logged with their reason and listed in the ceremony's info; they never change state.
 */
final class Ceremonies {
    private static final Logger LOG = LoggerFactory.getLogger(Ceremonies.class);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final RegistryService svc;
    private final Database db;
    private final BlobStore blobs;

    Ceremonies(RegistryService svc, Database db, BlobStore blobs) {
        this.svc = svc;
        this.db = db;
        this.blobs = blobs;
    }

    /** Opens a ceremony for {@code modelId} with these holders; the model becomes a threshold model. */
    CeremonyInfo open(String modelId, String ceremonyId, List<String> holderIds) {
        ModelInfo m = svc.model(modelId);
        if (!ThresholdParty.PARAMETER_SET_ID.equals(m.heParamsId())) {
            throw ApiException.conflict(
                    "not_threshold_params",
                    "model " + modelId + " uses " + m.heParamsId() + "; threshold key ceremonies need "
                            + ThresholdParty.PARAMETER_SET_ID);
        }
        if (holderIds == null || holderIds.size() < 2 || new HashSet<>(holderIds).size() != holderIds.size()) {
            throw ApiException.badRequest("holders: at least 2 distinct enrolled client ids, got " + holderIds);
        }
        for (String h : holderIds) {
            if (svc.clientKey(h).isEmpty()) {
                throw ApiException.conflict("unknown_holder", "holder " + h + " is not enrolled");
            }
        }
        KeyCeremonyOpened record = db.tx(c -> {
            if (db.queryLong("SELECT COUNT(*) FROM ceremonies WHERE model_id = ? AND status = 'open'", modelId) > 0) {
                throw ApiException.conflict("ceremony_in_progress", "model " + modelId + " has a ceremony in progress");
            }
            String id = ceremonyId != null
                    ? ceremonyId
                    : modelId + "-ceremony-"
                            + (db.queryLong("SELECT COUNT(*) FROM ceremonies WHERE model_id = ?", modelId) + 1);
            if (!ID.matcher(id).matches()) {
                throw ApiException.badRequest("ceremonyId must match " + ID.pattern());
            }
            if (db.queryLong("SELECT COUNT(*) FROM ceremonies WHERE ceremony_id = ?", id) > 0) {
                throw ApiException.conflict("ceremony_exists", "ceremony " + id + " exists");
            }
            long now = System.currentTimeMillis();
            KeyCeremonyOpened r = Signatures.signRecord(
                    KeyCeremonyOpened.newBuilder()
                            .setCeremonyId(id)
                            .setModelId(modelId)
                            .setHeParamsId(m.heParamsId())
                            .setHolderIds(List.copyOf(holderIds))
                            .setOpenedAtEpochMillis(now)
                            .setSignature(ByteBuffer.allocate(0))
                            .build(),
                    svc.logKey().privateKey());
            Hash h = CanonicalHash.of(r);
            blobs.put(h, WireCodec.UNBOUNDED.encode(r));
            db.update(
                    "INSERT INTO ceremonies (ceremony_id, model_id, he_params_id, holder_ids, status, record_hash, opened_at) VALUES (?,?,?,?,?,?,?)",
                    id,
                    modelId,
                    m.heParamsId(),
                    String.join(",", holderIds),
                    "open",
                    h.toHex(),
                    now);
            db.update("UPDATE models SET ceremony_id = ? WHERE model_id = ?", id, modelId);
            svc.appendCeremonyLog(LogEntryKind.KEY_CEREMONY_OPENED, modelId, 0, h, null, id, now);
            return r;
        });
        svc.publisher()
                .publish(
                        svc.config().get(RegistryConfig.TOPIC_KEY_CEREMONY),
                        record.getCeremonyId().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        KeyCeremonyEnvelope.newBuilder().setPayload(record).build());
        LOG.info("opened key ceremony {} for {} with holders {}", record.getCeremonyId(), modelId, holderIds);
        return info(record.getCeremonyId());
    }

    /** Handles one record of the key-ceremony topic. */
    void onEnvelope(KeyCeremonyEnvelope envelope) {
        if (envelope.getPayload() instanceof KeyCeremonyMessage m) {
            onMessage(m);
        }
        // KeyCeremonyOpened records are the registry's own: it stored them when it opened the ceremony.
    }

    private void onMessage(KeyCeremonyMessage m) {
        db.tx(c -> {
            Optional<String[]> row = db.queryOne(
                    "SELECT model_id, status FROM ceremonies WHERE ceremony_id = ?",
                    rs -> new String[] {rs.getString(1), rs.getString(2)},
                    m.getCeremonyId());
            if (row.isEmpty()) {
                LOG.warn("ceremony message of {} for unknown ceremony {}: ignored", m.getHolderId(), m.getCeremonyId());
                return null;
            }
            Hash h = CanonicalHash.of(m);
            if (db.queryLong("SELECT COUNT(*) FROM ceremony_messages WHERE record_hash = ?", h.toHex()) > 0) {
                return null; // at-least-once delivery: seen before
            }
            if (!"open".equals(row.get()[1])) {
                reject(m, "CEREMONY_CLOSED", "the ceremony is " + row.get()[1]);
                return null;
            }
            KeyCeremonyTranscript t = transcript(m.getCeremonyId());
            try {
                if (!t.accept(m)) {
                    return null;
                }
            } catch (KeyCeremonyTranscript.RejectedException e) {
                reject(m, e.reason().name(), e.getMessage());
                return null;
            }
            long now = System.currentTimeMillis();
            blobs.put(h, WireCodec.UNBOUNDED.encode(m));
            int seq = (int)
                    db.queryLong("SELECT COUNT(*) FROM ceremony_messages WHERE ceremony_id = ?", m.getCeremonyId());
            db.update(
                    "INSERT INTO ceremony_messages (record_hash, ceremony_id, seq, holder_id, phase, received_at) VALUES (?,?,?,?,?,?)",
                    h.toHex(),
                    m.getCeremonyId(),
                    seq,
                    m.getHolderId(),
                    m.getPhase().name(),
                    now);
            svc.appendCeremonyLog(
                    LogEntryKind.KEY_CEREMONY_MESSAGE, row.get()[0], 0, h, m.getHolderId(), m.getCeremonyId(), now);
            if (t.isComplete()) {
                complete(t, row.get()[0]);
            }
            return null;
        });
    }

    private void complete(KeyCeremonyTranscript t, String modelId) {
        long now = System.currentTimeMillis();
        try {
            CommonReference crs =
                    CommonReference.forCeremony(t.ceremonyId(), t.payloads(CeremonyPhase.SEED_CONTRIBUTION));
            byte[] key = ThresholdKeys.combinePublicKey(crs, t.payloads(CeremonyPhase.KEY_SHARE));
            Hash pk = svc.storeHePublicKey(modelId, key);
            db.update(
                    "UPDATE ceremonies SET status = 'completed', public_key_hash = ?, completed_at = ? WHERE ceremony_id = ?",
                    pk.toHex(),
                    now,
                    t.ceremonyId());
            svc.appendCeremonyLog(LogEntryKind.KEY_CEREMONY_COMPLETED, modelId, 0, pk, null, t.ceremonyId(), now);
            LOG.info(
                    "key ceremony {} completed: collective public key {} is now the key of {}",
                    t.ceremonyId(),
                    pk,
                    modelId);
        } catch (IllegalArgumentException | ApiException e) {
            db.update(
                    "UPDATE ceremonies SET status = 'failed', failure = ?, completed_at = ? WHERE ceremony_id = ?",
                    e.getMessage(),
                    now,
                    t.ceremonyId());
            LOG.error("key ceremony {} failed: {}", t.ceremonyId(), e.getMessage());
        }
    }

    private void reject(KeyCeremonyMessage m, String reason, String detail) {
        LOG.warn("rejected {} of {} in ceremony {}: {}", m.getPhase(), m.getHolderId(), m.getCeremonyId(), detail);
        db.update(
                "INSERT INTO ceremony_rejections (ceremony_id, holder_id, phase, reason, detail, at_time) VALUES (?,?,?,?,?,?)",
                m.getCeremonyId(),
                m.getHolderId(),
                String.valueOf(m.getPhase()),
                reason,
                detail,
                System.currentTimeMillis());
    }

    /** The transcript of the accepted messages so far, rebuilt from the stored records. */
    private KeyCeremonyTranscript transcript(String ceremonyId) {
        KeyCeremonyOpened opened = openedRecord(ceremonyId);
        Map<String, SigningPublicKey> keys = new HashMap<>();
        for (String h : opened.getHolderIds()) {
            svc.clientKey(h).ifPresent(k -> keys.put(h, k));
        }
        KeyCeremonyTranscript t =
                KeyCeremonyTranscript.open(opened, svc.logKey().publicKey(), keys);
        for (String hash : db.query(
                "SELECT record_hash FROM ceremony_messages WHERE ceremony_id = ? ORDER BY seq",
                rs -> rs.getString(1),
                ceremonyId)) {
            try {
                t.accept(decode(Hash.fromHex(hash), KeyCeremonyMessage.class));
            } catch (KeyCeremonyTranscript.RejectedException e) {
                throw new IllegalStateException(
                        "stored ceremony message " + hash + " no longer verifies: " + e.getMessage(), e);
            }
        }
        return t;
    }

    /** The signed opening record of a ceremony. */
    KeyCeremonyOpened openedRecord(String ceremonyId) {
        String hash = db.queryOne(
                        "SELECT record_hash FROM ceremonies WHERE ceremony_id = ?", rs -> rs.getString(1), ceremonyId)
                .orElseThrow(() -> ApiException.notFound("unknown ceremony " + ceremonyId));
        return decode(Hash.fromHex(hash), KeyCeremonyOpened.class);
    }

    /** A ceremony's state. @throws ApiException 404 */
    CeremonyInfo info(String ceremonyId) {
        return db.tx(c -> db.queryOne(
                        "SELECT ceremony_id, model_id, he_params_id, holder_ids, status, record_hash, public_key_hash, failure, opened_at, completed_at FROM ceremonies WHERE ceremony_id = ?",
                        rs -> {
                            Map<String, List<String>> sent = new LinkedHashMap<>();
                            for (CeremonyPhase p : List.of(
                                    CeremonyPhase.SEED_CONTRIBUTION,
                                    CeremonyPhase.KEY_SHARE_COMMITMENT,
                                    CeremonyPhase.KEY_SHARE)) {
                                sent.put(
                                        p.name(),
                                        db.query(
                                                "SELECT holder_id FROM ceremony_messages WHERE ceremony_id = ? AND phase = ? ORDER BY seq",
                                                r -> r.getString(1),
                                                ceremonyId,
                                                p.name()));
                            }
                            List<CeremonyInfo.Rejection> rejections = db.query(
                                    "SELECT holder_id, phase, reason, detail, at_time FROM ceremony_rejections WHERE ceremony_id = ? ORDER BY at_time",
                                    r -> new CeremonyInfo.Rejection(
                                            r.getString(1),
                                            r.getString(2),
                                            r.getString(3),
                                            r.getString(4),
                                            r.getLong(5)),
                                    ceremonyId);
                            Object completed = rs.getObject(10);
                            return new CeremonyInfo(
                                    rs.getString(1),
                                    rs.getString(2),
                                    rs.getString(3),
                                    List.of(rs.getString(4).split(",")),
                                    rs.getString(5),
                                    rs.getString(6),
                                    rs.getString(7),
                                    sent,
                                    rejections,
                                    rs.getString(8),
                                    rs.getLong(9),
                                    completed == null ? null : ((Number) completed).longValue());
                        },
                        ceremonyId)
                .orElseThrow(() -> ApiException.notFound("unknown ceremony " + ceremonyId)));
    }

    /** Checks, logs and stores a holder's decryption shares (idempotent); returns false if refused. */
    boolean onDecryptionShares(DecryptionSharesPublished d) {
        Hash h = CanonicalHash.of(d);
        String problem = db.tx(c -> {
            if (db.queryLong("SELECT COUNT(*) FROM decryption_shares WHERE record_hash = ?", h.toHex()) > 0) {
                return null;
            }
            Optional<String[]> ceremony = db.queryOne(
                    "SELECT model_id, status, holder_ids FROM ceremonies WHERE ceremony_id = ?",
                    rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)},
                    d.getCeremonyId());
            if (ceremony.isEmpty()
                    || !ceremony.get()[0].equals(d.getModelId())
                    || !"completed".equals(ceremony.get()[1])) {
                return "ceremony " + d.getCeremonyId() + " is not a completed ceremony of " + d.getModelId();
            }
            if (!List.of(ceremony.get()[2].split(",")).contains(d.getHolderId())) {
                return d.getHolderId() + " is not a holder of ceremony " + d.getCeremonyId();
            }
            Optional<SigningPublicKey> key = svc.clientKey(d.getHolderId());
            if (key.isEmpty() || !Signatures.verifyRecord(d, key.get())) {
                return "not signed by " + d.getHolderId() + "'s enrolled key";
            }
            Hash agg = Hash.of(d.getAggregateHash());
            if (db.queryLong(
                            "SELECT COUNT(*) FROM aggregates WHERE aggregate_hash = ? AND model_id = ? AND round_no = ? AND status = ?",
                            agg.toHex(),
                            d.getModelId(),
                            d.getRound(),
                            AggregateStatus.COMPLETED.name())
                    == 0) {
                return "no completed aggregate " + agg + " for round " + d.getRound();
            }
            if (db.queryLong(
                            "SELECT COUNT(*) FROM decryption_shares WHERE aggregate_hash = ? AND holder_id = ?",
                            agg.toHex(),
                            d.getHolderId())
                    > 0) {
                return d.getHolderId() + " already published different shares of aggregate " + agg;
            }
            long now = System.currentTimeMillis();
            blobs.put(h, WireCodec.UNBOUNDED.encode(d));
            db.update(
                    "INSERT INTO decryption_shares (record_hash, model_id, round_no, ceremony_id, holder_id, aggregate_hash, received_at) VALUES (?,?,?,?,?,?,?)",
                    h.toHex(),
                    d.getModelId(),
                    d.getRound(),
                    d.getCeremonyId(),
                    d.getHolderId(),
                    agg.toHex(),
                    now);
            svc.appendCeremonyLog(
                    LogEntryKind.DECRYPTION_SHARES_PUBLISHED,
                    d.getModelId(),
                    d.getRound(),
                    h,
                    d.getHolderId(),
                    d.getCeremonyId(),
                    now);
            return null;
        });
        if (problem != null) {
            LOG.warn(
                    "refused decryption shares {} of {} for {}/{}: {}",
                    h,
                    d.getHolderId(),
                    d.getModelId(),
                    d.getRound(),
                    problem);
            return false;
        }
        return true;
    }

    /** The logged decryption shares of a round. */
    List<DecryptionSharesInfo> shares(String modelId, int round) {
        return db.query(
                "SELECT record_hash, model_id, round_no, ceremony_id, holder_id, aggregate_hash FROM decryption_shares WHERE model_id = ? AND round_no = ? ORDER BY holder_id",
                rs -> new DecryptionSharesInfo(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getInt(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6)),
                modelId,
                round);
    }

    /**
     * Checks a new version's threshold provenance: a threshold model's version names the ceremony
     * whose key its round used and exactly one logged share record per holder for its aggregate;
     * a single-key model's version names none. Runs inside the publishing transaction.
     *
     * @throws ApiException 409 {@code threshold_provenance} when it does not hold
     */
    void checkVersion(ModelVersionPublished v, String modelCeremonyId, RoundOpened round) {
        List<ByteBuffer> named = v.getDecryptionShareHashes();
        if (modelCeremonyId == null) {
            if (v.getCeremonyId() != null || !named.isEmpty()) {
                throw provenance("model " + v.getModelId()
                        + " is not a threshold model; its versions name no ceremony or shares");
            }
            return;
        }
        if (v.getCeremonyId() == null) {
            throw provenance("a threshold model's version must name its key ceremony and decryption shares");
        }
        Optional<String[]> ceremony = db.queryOne(
                "SELECT holder_ids, public_key_hash FROM ceremonies WHERE ceremony_id = ? AND model_id = ? AND status = 'completed'",
                rs -> new String[] {rs.getString(1), rs.getString(2)},
                v.getCeremonyId(),
                v.getModelId());
        if (ceremony.isEmpty()) {
            throw provenance("ceremony " + v.getCeremonyId() + " is not a completed ceremony of " + v.getModelId());
        }
        if (!Hash.fromHex(ceremony.get()[1]).matches(round.getPublicKeyHash())) {
            throw provenance(
                    "round " + v.getRound() + " was not encrypted under ceremony " + v.getCeremonyId() + "'s key");
        }
        Set<String> holders = new HashSet<>();
        byte[] previous = null;
        for (ByteBuffer b : named) {
            Hash h = Hash.of(b);
            if (previous != null && Arrays.compareUnsigned(previous, h.bytes()) >= 0) {
                throw provenance("decryptionShareHashes must be sorted and distinct");
            }
            previous = h.bytes();
            Optional<String> holder = db.queryOne(
                    "SELECT holder_id FROM decryption_shares WHERE record_hash = ? AND ceremony_id = ? AND aggregate_hash = ?",
                    rs -> rs.getString(1),
                    h.toHex(),
                    v.getCeremonyId(),
                    Hash.of(v.getAggregateHash()).toHex());
            if (holder.isEmpty()) {
                throw provenance("decryption shares " + h + " are not logged for this aggregate and ceremony");
            }
            holders.add(holder.get());
        }
        if (!holders.equals(Set.of(ceremony.get()[0].split(",")))) {
            throw provenance(
                    "the named shares come from " + holders + ", the ceremony's holders are " + ceremony.get()[0]);
        }
    }

    private static ApiException provenance(String message) {
        return ApiException.conflict("threshold_provenance", message);
    }

    private <T extends org.apache.avro.specific.SpecificRecord> T decode(Hash h, Class<T> type) {
        byte[] bytes = blobs.get(h).orElseThrow(() -> new IllegalStateException("blob " + h + " missing"));
        try {
            return RegistryService.LARGE.decode(bytes, type);
        } catch (WireFormatException e) {
            throw new IllegalStateException("stored record " + h + " is not a " + type.getSimpleName(), e);
        }
    }
}
