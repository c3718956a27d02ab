package org.fedseal.registry.internal;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateRejected;
import org.fedseal.registry.RoundInfo;

/**
 * SQL of rounds and what is ingested into them: tables {@code rounds}, {@code accepted_updates},
 * {@code rejected_updates}, {@code update_chunks}, {@code update_commits} and {@code aggregates}.
 */
final class RoundRepository {
    private static final String COLS =
            "model_id, round_no, status, quorum, deadline, local_epochs, base_hash, public_key_hash, opened_at, closed_at, accepted_count, rejected_count, aggregate_hash, record";
    private final Database db;

    RoundRepository(Database db) {
        this.db = db;
    }

    /** Marks open rounds of {@code modelId} past their deadline as failed. */
    void failExpired(String modelId, long now) {
        db.update(
                "UPDATE rounds SET status = 'failed', closed_at = ? WHERE model_id = ? AND status = 'open' AND deadline < ?",
                now,
                modelId,
                now);
    }

    Optional<Integer> openRoundNumber(String modelId) {
        return db.queryOne(
                "SELECT round_no FROM rounds WHERE model_id = ? AND status = 'open'", rs -> rs.getInt(1), modelId);
    }

    int nextRoundNumber(String modelId) {
        return (int) db.queryLong("SELECT MAX(round_no) FROM rounds WHERE model_id = ?", modelId) + 1;
    }

    void insert(RoundOpened r, String baseHash, String publicKeyHash) {
        db.update(
                "INSERT INTO rounds (model_id, round_no, status, quorum, deadline, local_epochs, base_hash, public_key_hash, opened_at, accepted_count, rejected_count, record) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                r.getModelId().toString(),
                r.getRound(),
                "open",
                r.getQuorum(),
                r.getDeadlineEpochMillis(),
                r.getLocalEpochs(),
                baseHash,
                publicKeyHash,
                r.getOpenedAtEpochMillis(),
                0,
                0,
                Records.b64(WireCodec.UNBOUNDED.encode(r)));
    }

    Optional<RoundOpened> opened(String modelId, int round) {
        return db.queryOne(
                "SELECT record FROM rounds WHERE model_id = ? AND round_no = ?",
                rs -> Records.decode(rs.getString(1), RoundOpened.class),
                modelId,
                round);
    }

    Optional<RoundOpened> current(String modelId, long now) {
        return db.queryOne(
                "SELECT record FROM rounds WHERE model_id = ? AND status = 'open' AND deadline > ? ORDER BY round_no DESC LIMIT 1",
                rs -> Records.decode(rs.getString(1), RoundOpened.class),
                modelId,
                now);
    }

    Optional<RoundInfo> find(String modelId, int round, boolean published) {
        return db.read(c -> db.queryOne(
                "SELECT " + COLS + " FROM rounds WHERE model_id = ? AND round_no = ?",
                rs -> row(rs, published),
                modelId,
                round));
    }

    List<RoundInfo> ofModel(String modelId, boolean published) {
        return db.read(c -> db.query(
                "SELECT " + COLS + " FROM rounds WHERE model_id = ? ORDER BY round_no",
                rs -> row(rs, published),
                modelId));
    }

    private RoundInfo row(ResultSet rs, boolean published) throws SQLException {
        String model = rs.getString(1);
        int round = rs.getInt(2);
        long opened = rs.getLong(9);
        long closedRaw = rs.getLong(10);
        Long closed = rs.wasNull() ? null : closedRaw;
        List<String> participants = db.query(
                "SELECT DISTINCT client_id FROM accepted_updates WHERE model_id = ? AND round_no = ? ORDER BY client_id",
                r -> r.getString(1),
                model,
                round);
        RoundOpened record = Records.decode(rs.getString(14), RoundOpened.class);
        return new RoundInfo(
                model,
                round,
                rs.getString(3),
                rs.getInt(4),
                rs.getLong(5),
                rs.getInt(6),
                rs.getString(7),
                rs.getString(8),
                opened,
                closed,
                closed == null ? null : closed - opened,
                rs.getInt(11),
                rs.getInt(12),
                participants,
                rs.getString(13),
                published,
                record.getClipNorm(),
                record.getMaxUpdateWeight(),
                record.getMaxTotalWeight(),
                record.getSumNormBound(),
                record.getLearningRate(),
                record.getBatchSize(),
                record.getProximalMu(),
                record.getSamplingFraction(),
                record.getMinSampledClients(),
                List.copyOf(record.getSampledClients()));
    }

    /** Rejections of a round by reason code, most frequent first. */
    Map<String, Long> rejectsByReason(String modelId, int round) {
        Map<String, Long> out = new LinkedHashMap<>();
        db.query(
                "SELECT reason, COUNT(*) FROM rejected_updates WHERE model_id = ? AND round_no = ? GROUP BY reason ORDER BY COUNT(*) DESC, reason",
                rs -> out.put(rs.getString(1), rs.getLong(2)),
                modelId,
                round);
        return out;
    }

    void insertChunkIfAbsent(Hash h, UpdateChunk chunk, long now) {
        db.tx(c -> {
            if (db.queryLong("SELECT COUNT(*) FROM update_chunks WHERE chunk_hash = ?", h.toHex()) == 0) {
                db.update(
                        "INSERT INTO update_chunks (chunk_hash, model_id, round_no, client_id, update_id, chunk_index, received_at) VALUES (?,?,?,?,?,?,?)",
                        h.toHex(),
                        chunk.getModelId(),
                        chunk.getRound(),
                        chunk.getClientId(),
                        chunk.getUpdateId(),
                        chunk.getChunkIndex(),
                        now);
            }
            return null;
        });
    }

    void insertCommitIfAbsent(Hash h, UpdateCommit commit, long now) {
        db.tx(c -> {
            if (db.queryLong("SELECT COUNT(*) FROM update_commits WHERE commit_hash = ?", h.toHex()) == 0) {
                db.update(
                        "INSERT INTO update_commits (commit_hash, model_id, round_no, client_id, update_id, received_at) VALUES (?,?,?,?,?,?)",
                        h.toHex(),
                        commit.getModelId(),
                        commit.getRound(),
                        commit.getClientId(),
                        commit.getUpdateId(),
                        now);
            }
            return null;
        });
    }

    /** Hashes of the round's archived update chunks and commits. */
    List<String> archivedRecordHashes(String modelId, int round) {
        List<String> out = new java.util.ArrayList<>(db.query(
                "SELECT chunk_hash FROM update_chunks WHERE model_id = ? AND round_no = ?",
                rs -> rs.getString(1),
                modelId,
                round));
        out.addAll(db.query(
                "SELECT commit_hash FROM update_commits WHERE model_id = ? AND round_no = ?",
                rs -> rs.getString(1),
                modelId,
                round));
        return out;
    }

    boolean hasChunk(String chunkHash) {
        return db.queryLong("SELECT COUNT(*) FROM update_chunks WHERE chunk_hash = ?", chunkHash) > 0;
    }

    boolean hasAccepted(Hash updateHash) {
        return db.queryLong("SELECT COUNT(*) FROM accepted_updates WHERE update_hash = ?", updateHash.toHex()) > 0;
    }

    void insertAccepted(Hash h, UpdateAccepted a) {
        db.update(
                "INSERT INTO accepted_updates (update_hash, model_id, round_no, client_id, update_id, weight, accepted_at) VALUES (?,?,?,?,?,?,?)",
                h.toHex(),
                a.getModelId(),
                a.getRound(),
                a.getClientId(),
                a.getUpdateId(),
                a.getWeight(),
                a.getAcceptedAtEpochMillis());
        db.update(
                "UPDATE rounds SET accepted_count = accepted_count + 1 WHERE model_id = ? AND round_no = ? AND status = 'open'",
                a.getModelId(),
                a.getRound());
    }

    boolean hasRejected(Hash subject) {
        return db.queryLong("SELECT COUNT(*) FROM rejected_updates WHERE subject_hash = ?", subject.toHex()) > 0;
    }

    void insertRejected(Hash h, UpdateRejected r) {
        db.update(
                "INSERT INTO rejected_updates (subject_hash, model_id, round_no, client_id, update_id, reason, detail, at_time) VALUES (?,?,?,?,?,?,?,?)",
                h.toHex(),
                r.getModelId(),
                r.getRound(),
                r.getClientId(),
                r.getUpdateId(),
                r.getReason().name(),
                r.getDetail(),
                r.getAtEpochMillis());
        db.update(
                "UPDATE rounds SET rejected_count = rejected_count + 1 WHERE model_id = ? AND round_no = ? AND status = 'open'",
                r.getModelId(),
                r.getRound());
    }

    boolean hasAggregate(Hash h) {
        return db.queryLong("SELECT COUNT(*) FROM aggregates WHERE aggregate_hash = ?", h.toHex()) > 0;
    }

    /** Stores an aggregate and closes (or fails) its round with the aggregate's counts. */
    void insertAggregateAndClose(Hash h, AggregatePublished a, boolean completed) {
        db.update(
                "INSERT INTO aggregates (aggregate_hash, model_id, round_no, status, update_root, participants, total_weight, accepted_count, rejected_count, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                h.toHex(),
                a.getModelId(),
                a.getRound(),
                a.getStatus().name(),
                Hash.of(a.getAcceptedUpdateRoot()).toHex(),
                String.join(
                        ",", a.getParticipants().stream().map(Object::toString).toList()),
                a.getTotalWeight(),
                a.getAcceptedCount(),
                a.getRejectedCount(),
                a.getClosedAtEpochMillis());
        db.update(
                "UPDATE rounds SET status = ?, closed_at = ?, aggregate_hash = ?, accepted_count = ?, rejected_count = ? WHERE model_id = ? AND round_no = ?",
                completed ? "closed" : "failed",
                a.getClosedAtEpochMillis(),
                h.toHex(),
                a.getAcceptedCount(),
                a.getRejectedCount(),
                a.getModelId(),
                a.getRound());
    }

    /** {aggregate_hash, update_root, status} of a round's stored aggregate. */
    Optional<String[]> aggregateOf(String modelId, int round) {
        return db.queryOne(
                "SELECT aggregate_hash, update_root, status FROM aggregates WHERE model_id = ? AND round_no = ?",
                rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)},
                modelId,
                round);
    }

    Optional<String> latestAggregateHash(String modelId, int round) {
        return db.queryOne(
                "SELECT aggregate_hash FROM aggregates WHERE model_id = ? AND round_no = ? ORDER BY closed_at DESC",
                rs -> rs.getString(1),
                modelId,
                round);
    }

    List<String> chunkHashesUpTo(String modelId, int cutoff) {
        return db.query(
                "SELECT chunk_hash FROM update_chunks WHERE model_id = ? AND round_no <= ?",
                rs -> rs.getString(1),
                modelId,
                cutoff);
    }

    void deleteChunksUpTo(String modelId, int cutoff) {
        db.update("DELETE FROM update_chunks WHERE model_id = ? AND round_no <= ?", modelId, cutoff);
    }

    /** One accepted update: hash, client, update id, weight. */
    record Accepted(String hash, String clientId, String updateId, long weight) {}

    List<Accepted> accepted(String modelId, int round) {
        return db.query(
                "SELECT update_hash, client_id, update_id, weight FROM accepted_updates WHERE model_id = ? AND round_no = ? ORDER BY update_hash",
                rs -> new Accepted(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4)),
                modelId,
                round);
    }
}
