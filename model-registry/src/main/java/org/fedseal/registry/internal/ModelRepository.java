package org.fedseal.registry.internal;

import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.fedseal.protocol.Hash;
import org.fedseal.registry.ModelInfo;

/** SQL of models (table {@code models}) and their HE public keys (table {@code he_public_keys}). */
final class ModelRepository {
    private final Database db;

    ModelRepository(Database db) {
        this.db = db;
    }

    boolean exists(String modelId) {
        return db.queryLong("SELECT COUNT(*) FROM models WHERE model_id = ?", modelId) > 0;
    }

    void insert(
            String modelId,
            String architecture,
            String heParamsId,
            String keyHolderId,
            long parameterCount,
            long createdAt,
            byte[] canonicalLayout) {
        db.update(
                "INSERT INTO models (model_id, architecture, he_params_id, key_holder_id, parameter_count, created_at, layout, layout_hash)"
                        + " VALUES (?,?,?,?,?,?,?,?)",
                modelId,
                architecture,
                heParamsId,
                keyHolderId,
                parameterCount,
                createdAt,
                canonicalLayout == null ? null : Base64.getEncoder().encodeToString(canonicalLayout),
                canonicalLayout == null ? null : Hash.sha256(canonicalLayout).toHex());
    }

    List<String> ids() {
        return db.query("SELECT model_id FROM models ORDER BY created_at, model_id", rs -> rs.getString(1));
    }

    Optional<ModelInfo> find(String modelId) {
        return db.read(c -> db.queryOne(
                "SELECT model_id, architecture, he_params_id, parameter_count, he_public_key_hash, key_holder_id, created_at, ceremony_id, layout_hash, dp_epsilon_budget, dp_delta FROM models WHERE model_id = ?",
                rs -> new ModelInfo(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getLong(4),
                        rs.getString(5),
                        rs.getString(6),
                        latestVersion(rs.getString(1)),
                        (int) db.queryLong("SELECT COUNT(*) FROM versions WHERE model_id = ?", rs.getString(1)),
                        (int) db.queryLong("SELECT COUNT(*) FROM rounds WHERE model_id = ?", rs.getString(1)),
                        rs.getLong(7),
                        rs.getString(8),
                        rs.getString(9),
                        nullableDouble(rs, 10),
                        nullableDouble(rs, 11),
                        latestEpsilon(rs.getString(1))),
                modelId));
    }

    /** ε after the newest version, or null (no budget). */
    private Double latestEpsilon(String modelId) {
        List<Double> eps = db.query(
                "SELECT dp_epsilon FROM versions WHERE model_id = ? ORDER BY seq DESC",
                rs -> nullableDouble(rs, 1),
                modelId);
        return eps.isEmpty() ? null : eps.get(0);
    }

    private static Double nullableDouble(java.sql.ResultSet rs, int column) throws java.sql.SQLException {
        double d = rs.getDouble(column);
        return rs.wasNull() ? null : d;
    }

    Optional<byte[]> layout(String modelId) {
        return db.queryOne(
                "SELECT layout FROM models WHERE model_id = ? AND layout IS NOT NULL",
                rs -> Base64.getDecoder().decode(rs.getString(1)),
                modelId);
    }

    private String latestVersion(String modelId) {
        return db.queryOne(
                        "SELECT version_hash FROM versions WHERE model_id = ? ORDER BY seq DESC",
                        rs -> rs.getString(1),
                        modelId)
                .orElse(null);
    }

    boolean hasHeKey(Hash keyHash) {
        return db.queryLong("SELECT COUNT(*) FROM he_public_keys WHERE key_hash = ?", keyHash.toHex()) > 0;
    }

    void insertHeKey(Hash keyHash, String modelId, String heParamsId, long createdAt) {
        db.update(
                "INSERT INTO he_public_keys (key_hash, model_id, he_params_id, created_at) VALUES (?,?,?,?)",
                keyHash.toHex(),
                modelId,
                heParamsId,
                createdAt);
    }

    void setHeKey(String modelId, Hash keyHash) {
        db.update("UPDATE models SET he_public_key_hash = ? WHERE model_id = ?", keyHash.toHex(), modelId);
    }
}
