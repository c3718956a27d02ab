package org.fedseal.registry.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.wire.ClientEnrolled;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.registry.RegistryConfig;

/** The registry's enrolment section: clients' and key holders' signing keys. */
final class Enrolment {
    private final Database db;
    private final ProvenanceLog log;
    private final RegistryConfig config;
    private final Supplier<EventPublisher> publisher;
    private final ModelsAndKeys models;
    private final ClientRepository clients;

    Enrolment(
            Database db,
            ProvenanceLog log,
            RegistryConfig config,
            Supplier<EventPublisher> publisher,
            ModelsAndKeys models) {
        this.db = db;
        this.log = log;
        this.config = config;
        this.publisher = publisher;
        this.models = models;
        this.clients = new ClientRepository(db);
    }

    boolean enrollClient(String clientId, byte[] x509, List<String> modelIds) {
        ModelsAndKeys.requireId(clientId, "clientId");
        SigningPublicKey key;
        try {
            key = SigningPublicKey.fromX509(x509);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("publicKey: " + e.getMessage());
        }
        List<String> ms = modelIds == null ? List.of() : List.copyOf(modelIds);
        for (String m : ms) {
            models.model(m);
        }
        long now = System.currentTimeMillis();
        String keyB64 = Base64.getEncoder().encodeToString(key.toX509());
        db.tx(c -> {
            clients.replace(clientId, keyB64, ms, now);
            // Logged so that auditors can tell which key a client (or key holder) had when it signed.
            log.append(
                    LogEntryKind.CLIENT_ENROLLED,
                    String.join(",", ms),
                    0,
                    key.fingerprint(),
                    clientId,
                    null,
                    null,
                    null,
                    now);
            return null;
        });
        ClientEnrolled rec = ClientEnrolled.newBuilder()
                .setClientId(clientId)
                .setSigningPublicKey(ByteBuffer.wrap(key.toX509()))
                .setModelIds(new ArrayList<>(ms))
                .setRevoked(false)
                .setEnrolledAtEpochMillis(now)
                .build();
        return publisher
                .get()
                .publish(config.get(RegistryConfig.TOPIC_ENROLLMENTS), clientId.getBytes(StandardCharsets.UTF_8), rec);
    }

    /** Ids enrolled for {@code modelId} (or for all models), sorted; service identities included. */
    List<String> clientsOf(String modelId) {
        return clients.enrolledFor(modelId);
    }

    Optional<SigningPublicKey> clientKey(String clientId) {
        return clients.publicKey(clientId)
                .map(k -> SigningPublicKey.fromX509(Base64.getDecoder().decode(k)));
    }

    Map<String, Object> client(String clientId) {
        return clients.find(clientId).orElseThrow(() -> ApiException.notFound("unknown client " + clientId));
    }
}
