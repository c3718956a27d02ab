package org.fedseal.registry.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.HttpIngest;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.registry.RoundInfo;

/**
 * {@code POST /api/ingest/updates}: phones' way onto the updates topic (they do not speak Kafka).
 *
 * <p>Body: one Avro {@code UpdateEnvelope} ({@value HttpIngest#CONTENT_TYPE}), or a small batch
 * ({@value HttpIngest#BATCH_CONTENT_TYPE}: each envelope preceded by its length, 4-byte big-endian; at most
 * {@value HttpIngest#MAX_BATCH} records). Authentication: header {@value HttpIngest#HEADER_CLIENT} names an enrolled
 * client and {@value HttpIngest#HEADER_SIGNATURE} carries base64 Ed25519 by that client's enrolled key over
 * {@code "FedSeal-Ingest-v1:" + clientId + "\n" + body}. The header pair is required whenever the
 * body holds a chunk; a body of commits only may omit it, as each commit's own signature (checked
 * against the enrolled key) authenticates it. Every record must name the authenticated client,
 * a model it is enrolled for and a round that is open. Accepted records are written, in order, to
 * the updates topic keyed {@code modelId/round/clientId} (fl-protocol's {@link UpdateKey}) — the
 * same records and key the Kafka SDK produces, so the aggregator cannot tell the difference and
 * validates them the same way. The contract (paths, media types, headers, the signed message) is
 * fl-protocol's {@link HttpIngest}, shared with fl-client-sdk's {@code HttpUpdateTransport}. Replaying a request only re-sends records the aggregator drops as
 * duplicates.
 */
public final class UpdateIngest {
    private final RegistryService svc;

    /** Ingest over {@code svc}. */
    public UpdateIngest(RegistryService svc) {
        this.svc = svc;
    }

    /** Validates and publishes; returns the JSON answer. */
    public Map<String, Object> ingest(String contentType, String clientHeader, String signatureHeader, byte[] body) {
        String ct = contentType == null
                ? HttpIngest.CONTENT_TYPE
                : contentType.split(";")[0].trim().toLowerCase(java.util.Locale.ROOT);
        List<byte[]> raw;
        if (ct.equals(HttpIngest.CONTENT_TYPE)
                || ct.equals("application/octet-stream")
                || ct.equals("application/avro")) {
            raw = List.of(body);
        } else if (ct.equals(HttpIngest.BATCH_CONTENT_TYPE)) {
            raw = splitBatch(body);
        } else {
            throw new ApiException(
                    415,
                    "unsupported_media_type",
                    "send " + HttpIngest.CONTENT_TYPE + " (one UpdateEnvelope) or " + HttpIngest.BATCH_CONTENT_TYPE
                            + " (length-prefixed envelopes), not " + contentType);
        }
        if (raw.isEmpty()) {
            throw ApiException.badRequest("the body holds no UpdateEnvelope");
        }
        List<UpdateEnvelope> envelopes = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            try {
                envelopes.add(WireCodec.DEFAULT.decode(raw.get(i), UpdateEnvelope.class));
            } catch (WireFormatException e) {
                throw new ApiException(
                        e.reasonCode().name().equals("OVERSIZED") ? 413 : 400,
                        "malformed_record",
                        "record " + i + ": " + e.getMessage());
            }
        }
        boolean hasChunk = envelopes.stream().anyMatch(e -> e.getPayload() instanceof UpdateChunk);
        String authenticated = null;
        if (clientHeader != null || signatureHeader != null || hasChunk) {
            if (clientHeader == null
                    || clientHeader.isBlank()
                    || signatureHeader == null
                    || signatureHeader.isBlank()) {
                throw new ApiException(
                        401,
                        "unauthenticated",
                        "chunks need the " + HttpIngest.HEADER_CLIENT + " and " + HttpIngest.HEADER_SIGNATURE
                                + " headers (Ed25519 by the enrolled client key over \"" + HttpIngest.SIGNATURE_DOMAIN
                                + "<clientId>\\n<body>\")");
            }
            SigningPublicKey key = enrolledKey(clientHeader);
            byte[] sig;
            try {
                sig = Base64.getDecoder().decode(signatureHeader.trim());
            } catch (IllegalArgumentException e) {
                throw new ApiException(401, "bad_signature", HttpIngest.HEADER_SIGNATURE + " is not base64");
            }
            if (!key.verify(HttpIngest.signedMessage(clientHeader, body), sig)) {
                throw new ApiException(
                        401,
                        "bad_signature",
                        "the request signature does not verify with client " + clientHeader + "'s enrolled key");
            }
            authenticated = clientHeader;
        }
        List<Map<String, Object>> out = new ArrayList<>();
        List<UpdateKey> keys = new ArrayList<>();
        for (int i = 0; i < envelopes.size(); i++) {
            Object p = envelopes.get(i).getPayload();
            String client;
            String model;
            int round;
            Map<String, Object> m = new LinkedHashMap<>();
            if (p instanceof UpdateChunk c) {
                client = c.getClientId();
                model = c.getModelId();
                round = c.getRound();
                m.put("type", "chunk");
                m.put("updateId", c.getUpdateId());
                m.put("chunkIndex", c.getChunkIndex());
                m.put("hash", CanonicalHash.of(c).toHex());
            } else if (p instanceof UpdateCommit c) {
                client = c.getClientId();
                model = c.getModelId();
                round = c.getRound();
                if (!Signatures.verify(c, enrolledKey(client))) {
                    throw new ApiException(
                            401,
                            "bad_signature",
                            "record " + i + ": the commit's signature does not verify with client " + client
                                    + "'s enrolled key");
                }
                m.put("type", "commit");
                m.put("updateId", c.getUpdateId());
                m.put("hash", CanonicalHash.of(c).toHex());
            } else {
                throw ApiException.badRequest("record " + i + ": unknown payload");
            }
            if (authenticated != null && !authenticated.equals(client)) {
                throw new ApiException(
                        403,
                        "client_mismatch",
                        "record " + i + " is from client " + client + ", the request is authenticated as "
                                + authenticated);
            }
            checkEnrolledFor(client, model);
            checkOpen(model, round);
            keys.add(new UpdateKey(model, round, client));
            out.add(m);
        }
        for (int i = 0; i < envelopes.size(); i++) {
            svc.publishUpdate(keys.get(i).toBytes(), envelopes.get(i));
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("accepted", envelopes.size());
        answer.put("records", out);
        return answer;
    }

    private SigningPublicKey enrolledKey(String clientId) {
        return svc.clientKey(clientId)
                .orElseThrow(() -> new ApiException(403, "unknown_client", "client " + clientId + " is not enrolled"));
    }

    @SuppressWarnings("unchecked")
    private void checkEnrolledFor(String clientId, String modelId) {
        List<String> models = (List<String>) svc.client(clientId).get("modelIds");
        if (!models.isEmpty() && !models.contains(modelId)) {
            throw new ApiException(403, "not_enrolled", "client " + clientId + " is not enrolled for model " + modelId);
        }
    }

    private void checkOpen(String modelId, int round) {
        RoundInfo r;
        try {
            r = svc.round(modelId, round);
        } catch (ApiException e) {
            throw new ApiException(409, "round_not_open", "round " + modelId + "/" + round + " does not exist");
        }
        if (!"open".equals(r.status()) || System.currentTimeMillis() > r.deadlineEpochMillis()) {
            throw new ApiException(
                    409,
                    "round_not_open",
                    "round " + modelId + "/" + round + " is not open (" + r.status()
                            + (System.currentTimeMillis() > r.deadlineEpochMillis() ? ", deadline passed" : "") + ")");
        }
    }

    private static List<byte[]> splitBatch(byte[] body) {
        List<byte[]> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(body);
        while (b.hasRemaining()) {
            if (b.remaining() < 4) {
                throw ApiException.badRequest("truncated batch: " + b.remaining() + " trailing bytes");
            }
            int len = b.getInt();
            if (len <= 0 || len > b.remaining()) {
                throw ApiException.badRequest("bad record length " + len + " in batch");
            }
            if (out.size() == HttpIngest.MAX_BATCH) {
                throw new ApiException(413, "too_large", "a batch holds at most " + HttpIngest.MAX_BATCH + " records");
            }
            byte[] r = new byte[len];
            b.get(r);
            out.add(r);
        }
        return out;
    }
}
