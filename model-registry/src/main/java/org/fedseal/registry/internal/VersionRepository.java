package org.fedseal.registry.internal;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.Strategy;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.registry.VersionInfo;

/** SQL of model versions (table {@code versions}). */
final class VersionRepository {
    private static final String COLS =
            "version_hash, model_id, seq, parent_hash, round_no, aggregate_hash, update_root, weights_hash, publisher_id, accuracy, published_at, dp_epsilon, record";
    private final Database db;

    VersionRepository(Database db) {
        this.db = db;
    }

    void insert(ModelVersionPublished v, int seq, String publisherId, Double accuracy) {
        db.update(
                "INSERT INTO versions (version_hash, model_id, seq, parent_hash, round_no, aggregate_hash, update_root, weights_hash, publisher_id, accuracy, published_at, record) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                Hash.of(v.getVersionHash()).toHex(),
                v.getModelId().toString(),
                seq,
                Records.hexOrNull(v.getParentHash()),
                v.getRound(),
                Records.hexOrNull(v.getAggregateHash()),
                Records.hexOrNull(v.getAcceptedUpdateRoot()),
                Hash.of(v.getWeightsHash()).toHex(),
                publisherId,
                accuracy,
                v.getPublishedAtEpochMillis(),
                Records.b64(WireCodec.UNBOUNDED.encode(v)));
    }

    boolean exists(Hash versionHash) {
        return db.queryLong("SELECT COUNT(*) FROM versions WHERE version_hash = ?", versionHash.toHex()) > 0;
    }

    boolean isVersionOf(Hash versionHash, String modelId) {
        return db.queryLong(
                        "SELECT COUNT(*) FROM versions WHERE version_hash = ? AND model_id = ?",
                        versionHash.toHex(),
                        modelId)
                > 0;
    }

    int nextSeq(String modelId) {
        return (int) db.queryLong("SELECT MAX(seq) FROM versions WHERE model_id = ?", modelId) + 1;
    }

    void setAccuracy(Hash versionHash, double accuracy) {
        db.update("UPDATE versions SET accuracy = ? WHERE version_hash = ?", accuracy, versionHash.toHex());
    }

    List<VersionInfo> ofModel(String modelId) {
        return db.query(
                "SELECT " + COLS + " FROM versions WHERE model_id = ? ORDER BY seq", VersionRepository::row, modelId);
    }

    Optional<VersionInfo> find(Hash versionHash) {
        return db.queryOne(
                "SELECT " + COLS + " FROM versions WHERE version_hash = ?",
                VersionRepository::row,
                versionHash.toHex());
    }

    Optional<byte[]> record(Hash versionHash) {
        return db.queryOne(
                "SELECT record FROM versions WHERE version_hash = ?",
                rs -> Base64.getDecoder().decode(rs.getString(1)),
                versionHash.toHex());
    }

    private static VersionInfo row(ResultSet rs) throws SQLException {
        double acc = rs.getDouble(10);
        Double accuracy = rs.wasNull() ? null : acc;
        double eps = rs.getDouble(12);
        Double epsilon = rs.wasNull() ? null : eps;
        return new VersionInfo(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getInt(3),
                        rs.getString(4),
                        rs.getInt(5),
                        rs.getString(6),
                        rs.getString(7),
                        rs.getString(8),
                        rs.getString(9),
                        accuracy,
                        rs.getLong(11))
                .withEpsilon(epsilon)
                .withStrategy(rs.getInt(3) == 0 ? null : strategyOf(rs.getString(13)));
    }

    /** The strategy a stored version record names, as text ({@code FedAvg} when it names none). */
    private static String strategyOf(String recordBase64) {
        ModelVersionPublished v;
        try {
            v = WireCodec.UNBOUNDED.decode(Base64.getDecoder().decode(recordBase64), ModelVersionPublished.class);
        } catch (WireFormatException e) {
            // the registry checked the record when it stored it
            throw new IllegalStateException("stored version record does not decode: " + e.getMessage(), e);
        }
        if (v.getStrategy() == null) {
            return Strategy.fedAvg().toString();
        }
        try {
            return Strategy.fromSpec(v.getStrategy()).toString();
        } catch (IllegalArgumentException e) {
            return v.getStrategy().getName() + " (unreadable: " + e.getMessage() + ")";
        }
    }
}
