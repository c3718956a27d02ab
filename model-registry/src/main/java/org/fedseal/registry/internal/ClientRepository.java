package org.fedseal.registry.internal;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** SQL of enrolled clients and key holders (table {@code clients}). */
final class ClientRepository {
    private final Database db;

    ClientRepository(Database db) {
        this.db = db;
    }

    void replace(String clientId, String publicKeyB64, List<String> modelIds, long enrolledAt) {
        db.tx(c -> {
            db.update("DELETE FROM clients WHERE client_id = ?", clientId);
            db.update(
                    "INSERT INTO clients (client_id, public_key, model_ids, enrolled_at) VALUES (?,?,?,?)",
                    clientId,
                    publicKeyB64,
                    String.join(",", modelIds),
                    enrolledAt);
            return null;
        });
    }

    /** Ids of the clients enrolled for {@code modelId} (with it in their model list, or an empty list: all models), sorted. */
    List<String> enrolledFor(String modelId) {
        return db
                .query("SELECT client_id, model_ids FROM clients ORDER BY client_id", rs -> {
                    String models = rs.getString(2);
                    return models.isEmpty() || List.of(models.split(",")).contains(modelId) ? rs.getString(1) : null;
                })
                .stream()
                .filter(java.util.Objects::nonNull)
                .toList();
    }

    Optional<String> publicKey(String clientId) {
        return db.queryOne("SELECT public_key FROM clients WHERE client_id = ?", rs -> rs.getString(1), clientId);
    }

    Optional<Map<String, Object>> find(String clientId) {
        return db.queryOne(
                "SELECT client_id, public_key, model_ids, enrolled_at FROM clients WHERE client_id = ?",
                rs -> Map.<String, Object>of(
                        "clientId",
                        rs.getString(1),
                        "publicKey",
                        rs.getString(2),
                        "modelIds",
                        rs.getString(3).isEmpty()
                                ? List.of()
                                : List.of(rs.getString(3).split(",")),
                        "enrolledAtEpochMillis",
                        rs.getLong(4)),
                clientId);
    }
}
