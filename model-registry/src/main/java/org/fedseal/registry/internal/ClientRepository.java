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
            db.update("INSERT INTO clients (client_id, public_key, model_ids, enrolled_at) VALUES (?,?,?,?)",
                    clientId, publicKeyB64, String.join(",", modelIds), enrolledAt);
            return null;
        });
    }

    Optional<String> publicKey(String clientId) {
        return db.queryOne("SELECT public_key FROM clients WHERE client_id = ?", rs -> rs.getString(1), clientId);
    }

    Optional<Map<String, Object>> find(String clientId) {
        return db.queryOne("SELECT client_id, public_key, model_ids, enrolled_at FROM clients WHERE client_id = ?",
                rs -> Map.<String, Object>of("clientId", rs.getString(1), "publicKey", rs.getString(2),
                        "modelIds", rs.getString(3).isEmpty() ? List.of() : List.of(rs.getString(3).split(",")),
                        "enrolledAtEpochMillis", rs.getLong(4)), clientId);
    }
}
