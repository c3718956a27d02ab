package org.fedseal.protocol;

import static org.fedseal.protocol.wire.ReasonCode.BAD_CHUNK_LAYOUT;
import static org.fedseal.protocol.wire.ReasonCode.BAD_SIGNATURE;
import static org.fedseal.protocol.wire.ReasonCode.CHUNK_HASH_MISMATCH;
import static org.fedseal.protocol.wire.ReasonCode.CHUNK_MISMATCH;
import static org.fedseal.protocol.wire.ReasonCode.CHUNK_MISSING;
import static org.fedseal.protocol.wire.ReasonCode.CLOCK_SKEW;
import static org.fedseal.protocol.wire.ReasonCode.DUPLICATE;
import static org.fedseal.protocol.wire.ReasonCode.HEADROOM_EXCEEDED;
import static org.fedseal.protocol.wire.ReasonCode.INVALID_WEIGHT;
import static org.fedseal.protocol.wire.ReasonCode.LATE;
import static org.fedseal.protocol.wire.ReasonCode.MALFORMED;
import static org.fedseal.protocol.wire.ReasonCode.NOT_SAMPLED;
import static org.fedseal.protocol.wire.ReasonCode.OVERSIZED;
import static org.fedseal.protocol.wire.ReasonCode.REPLAY;
import static org.fedseal.protocol.wire.ReasonCode.ROUND_CLOSED;
import static org.fedseal.protocol.wire.ReasonCode.UNKNOWN_CLIENT;
import static org.fedseal.protocol.wire.ReasonCode.UNKNOWN_ROUND;
import static org.fedseal.protocol.wire.ReasonCode.WRONG_BASE_MODEL;
import static org.fedseal.protocol.wire.ReasonCode.WRONG_HE_PARAMS;
import static org.fedseal.protocol.wire.ReasonCode.WRONG_MODEL;
import static org.fedseal.protocol.wire.ReasonCode.WRONG_ROUND;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;

/**
 * Validation of update records, shared by the aggregator and the registry. Stateless apart from
 * the {@link ValidationContext} it consults; thread-safe if the context is. Every method returns a
 * {@link ValidationResult} and never throws for bad input.
 *
 * <p>Not checked here: whether ciphertexts load in SEAL ({@code INVALID_CIPHERTEXT}, the
 * aggregator's job through he-native).
 */
public final class UpdateValidator {
    private final ValidationContext context;

    /** A validator over {@code context}. */
    public UpdateValidator(ValidationContext context) {
        this.context = Objects.requireNonNull(context, "context");
    }

    /** Raw Kafka record bytes decoded and validated; {@code envelope} is null if undecodable. */
    public record Checked(UpdateEnvelope envelope, ValidationResult result) {}

    /**
     * Decodes a record of the updates topic and validates it against its key: the envelope's
     * model/round/client must equal the key's, then {@link #validateChunk} or {@link #validateCommit}.
     */
    public Checked check(byte[] key, byte[] value) {
        ValidationLimits limits = context.limits();
        UpdateEnvelope env;
        try {
            env = new WireCodec(limits.maxRecordBytes()).decode(value, UpdateEnvelope.class);
        } catch (WireFormatException e) {
            return new Checked(null, ValidationResult.reject(e.reasonCode(), e.getMessage()));
        }
        Optional<UpdateKey> k = UpdateKey.parse(key);
        if (k.isEmpty()) {
            return new Checked(env, ValidationResult.reject(MALFORMED, "record key is not modelId/round/clientId"));
        }
        return new Checked(env, validateEnvelope(k.get(), env));
    }

    /** Validates an envelope that arrived under {@code key}. */
    public ValidationResult validateEnvelope(UpdateKey key, UpdateEnvelope envelope) {
        if (envelope == null || envelope.getPayload() == null) {
            return ValidationResult.reject(MALFORMED, "empty envelope");
        }
        Object p = envelope.getPayload();
        String model;
        int round;
        String client;
        if (p instanceof UpdateChunk c) {
            model = c.getModelId();
            round = c.getRound();
            client = c.getClientId();
        } else if (p instanceof UpdateCommit c) {
            model = c.getModelId();
            round = c.getRound();
            client = c.getClientId();
        } else {
            return ValidationResult.reject(
                    MALFORMED, "unknown payload " + p.getClass().getSimpleName());
        }
        if (key != null) {
            if (!key.modelId().equals(model)) {
                return ValidationResult.reject(WRONG_MODEL, "record for model " + model + " under key " + key);
            }
            if (key.round() != round) {
                return ValidationResult.reject(WRONG_ROUND, "record for round " + round + " under key " + key);
            }
            if (!key.clientId().equals(client)) {
                return ValidationResult.reject(CHUNK_MISMATCH, "record of client " + client + " under key " + key);
            }
        }
        return p instanceof UpdateChunk c ? validateChunk(c) : validateCommit((UpdateCommit) p);
    }

    /**
     * Checks one chunk on its own: well-formed, within size limits, from an enrolled client, for a
     * known, open round before its deadline, with an index and ciphertext count that fit the
     * round's layout: {@link #checkChunkShape} then {@link #validateChunkInRound}. (Chunks are
     * authenticated only through the signed commit: see {@link #validateComplete}.)
     */
    public ValidationResult validateChunk(UpdateChunk chunk) {
        if (chunk == null) {
            return ValidationResult.reject(MALFORMED, "null chunk");
        }
        ValidationResult r = checkChunkShape(chunk, context.limits());
        if (r.isRejected()) {
            return r;
        }
        return validateChunkInRound(
                chunk.getModelId(),
                chunk.getRound(),
                chunk.getClientId(),
                chunk.getChunkIndex(),
                chunk.getCiphertexts().size());
    }

    /**
     * The checks of {@link #validateChunk} that need only the record (no state): ids, ciphertexts
     * present, each and the whole within {@code limits}. The aggregator runs them where the
     * ciphertexts are, in parallel, before a chunk's receipt reaches the round's bookkeeping.
     */
    public static ValidationResult checkChunkShape(UpdateChunk chunk, ValidationLimits limits) {
        ValidationResult r = checkIds(limits, chunk.getClientId(), chunk.getModelId(), chunk.getUpdateId());
        if (r.isRejected()) {
            return r;
        }
        List<ByteBuffer> cts = chunk.getCiphertexts();
        if (cts == null || cts.isEmpty()) {
            return ValidationResult.reject(MALFORMED, "chunk " + chunk.getChunkIndex() + " has no ciphertexts");
        }
        long size = 64L
                + chunk.getClientId().length()
                + chunk.getModelId().length()
                + chunk.getUpdateId().length();
        for (ByteBuffer b : cts) {
            if (b == null || b.remaining() == 0) {
                return ValidationResult.reject(MALFORMED, "empty ciphertext in chunk " + chunk.getChunkIndex());
            }
            if (b.remaining() > limits.maxCiphertextBytes()) {
                return ValidationResult.reject(
                        OVERSIZED, "ciphertext of " + b.remaining() + " bytes exceeds " + limits.maxCiphertextBytes());
            }
            size += b.remaining() + 5L;
        }
        if (size > limits.maxRecordBytes()) {
            return ValidationResult.reject(
                    OVERSIZED, "chunk of about " + size + " bytes exceeds " + limits.maxRecordBytes());
        }
        return ValidationResult.ok();
    }

    /**
     * The checks of {@link #validateChunk} that need the round and the enrolments: the client is
     * enrolled, the round known and open before its deadline, the client in the round's sample
     * if it names one ({@link ClientSampling#admits}, else {@code NOT_SAMPLED}), the index and ciphertext count fit
     * the round's layout.
     */
    public ValidationResult validateChunkInRound(
            String modelId, int round, String clientId, int chunkIndex, int ciphertextCount) {
        if (context.clientKey(clientId).isEmpty()) {
            return ValidationResult.reject(UNKNOWN_CLIENT, "client " + clientId + " is not enrolled");
        }
        RoundCheck rc = openRound(modelId, round);
        if (rc.result.isRejected()) {
            return rc.result;
        }
        if (!ClientSampling.admits(rc.round, clientId)) {
            return notSampled(clientId, rc.round);
        }
        ChunkLayout layout = rc.round.getChunkLayout();
        if (chunkIndex < 0 || chunkIndex >= layout.getChunkCount()) {
            return ValidationResult.reject(
                    BAD_CHUNK_LAYOUT, "chunk index " + chunkIndex + " outside [0, " + layout.getChunkCount() + ")");
        }
        int expected = Chunker.ciphertextsInChunk(layout, chunkIndex);
        if (ciphertextCount != expected) {
            return ValidationResult.reject(
                    BAD_CHUNK_LAYOUT,
                    "chunk " + chunkIndex + " has " + ciphertextCount + " ciphertexts, layout says " + expected);
        }
        return ValidationResult.ok();
    }

    /**
     * Checks a commit on its own: well-formed, from an enrolled client with a valid signature, for a
     * known, open round before its deadline, sampled for it if the round names a sample
     * ({@code NOT_SAMPLED}), on the round's base model and HE parameters, with the
     * round's chunk count, a weight within the round's {@link RoundBounds}, not a duplicate or replay.
     */
    public ValidationResult validateCommit(UpdateCommit commit) {
        if (commit == null) {
            return ValidationResult.reject(MALFORMED, "null commit");
        }
        ValidationLimits limits = context.limits();
        ValidationResult r = checkIds(limits, commit.getClientId(), commit.getModelId(), commit.getUpdateId());
        if (r.isRejected()) {
            return r;
        }
        if (commit.getHeParamsId() == null
                || commit.getBaseModelHash() == null
                || commit.getChunkHashes() == null
                || commit.getSignature() == null) {
            return ValidationResult.reject(MALFORMED, "commit has missing fields");
        }
        Optional<SigningPublicKey> key = context.clientKey(commit.getClientId());
        if (key.isEmpty()) {
            return ValidationResult.reject(UNKNOWN_CLIENT, "client " + commit.getClientId() + " is not enrolled");
        }
        if (!Signatures.verify(commit, key.get())) {
            return ValidationResult.reject(
                    BAD_SIGNATURE,
                    "commit " + commit.getUpdateId() + " is not signed by the enrolled key "
                            + key.get().fingerprint());
        }
        RoundCheck rc = openRound(commit.getModelId(), commit.getRound());
        if (rc.result.isRejected()) {
            return rc.result;
        }
        RoundOpened round = rc.round;
        if (!ClientSampling.admits(round, commit.getClientId())) {
            return notSampled(commit.getClientId(), round);
        }
        if (commit.getCreatedAtEpochMillis() > context.nowEpochMillis() + limits.maxClockSkewMillis()) {
            return ValidationResult.reject(
                    CLOCK_SKEW,
                    "commit created at " + commit.getCreatedAtEpochMillis() + ", in the future of "
                            + context.nowEpochMillis());
        }
        if (!sameBytes(commit.getBaseModelHash(), round.getBaseModelHash())) {
            return ValidationResult.reject(WRONG_BASE_MODEL, "update trained from a base model other than the round's");
        }
        if (!commit.getHeParamsId().equals(round.getHeParamsId())) {
            return ValidationResult.reject(
                    WRONG_HE_PARAMS,
                    "HE parameters " + commit.getHeParamsId() + ", round uses " + round.getHeParamsId());
        }
        int expected = round.getChunkLayout().getChunkCount();
        if (commit.getChunkCount() != expected || commit.getChunkHashes().size() != expected) {
            return ValidationResult.reject(
                    BAD_CHUNK_LAYOUT,
                    "commit declares " + commit.getChunkCount() + " chunks and "
                            + commit.getChunkHashes().size() + " hashes, round layout has " + expected);
        }
        for (ByteBuffer h : commit.getChunkHashes()) {
            if (h == null || h.remaining() != Hash.LENGTH) {
                return ValidationResult.reject(MALFORMED, "a chunk hash is not " + Hash.LENGTH + " bytes");
            }
        }
        RoundBounds bounds;
        try {
            bounds = RoundBounds.of(round);
        } catch (IllegalArgumentException e) {
            return ValidationResult.reject(HEADROOM_EXCEEDED, e.getMessage());
        }
        Optional<String> weightProblem = bounds.weightProblem(commit.getWeight());
        if (weightProblem.isPresent()) {
            return ValidationResult.reject(INVALID_WEIGHT, weightProblem.get());
        }
        if (context.alreadyAccepted(commit.getModelId(), commit.getRound(), commit.getClientId())) {
            return ValidationResult.reject(
                    DUPLICATE,
                    "client " + commit.getClientId() + " already has an accepted update in " + commit.getModelId() + "/"
                            + commit.getRound());
        }
        if (context.updateIdSeen(commit.getClientId(), commit.getUpdateId(), commit.getModelId(), commit.getRound())) {
            return ValidationResult.reject(REPLAY, "update id " + commit.getUpdateId() + " was seen before");
        }
        return ValidationResult.ok();
    }

    /**
     * Checks a complete update: {@link #validateCommit} on the commit, then that {@code chunks}
     * holds exactly one chunk for every index of the commit, each belonging to the same model,
     * round, client and update, each valid on its own, and each hashing to the commit's entry.
     *
     * @param chunks the chunks received for this update, in any order (exact duplicates are tolerated)
     */
    public ValidationResult validateComplete(UpdateCommit commit, Collection<UpdateChunk> chunks) {
        ValidationResult r = validateCommit(commit);
        if (r.isRejected()) {
            return r;
        }
        if (chunks == null) {
            return ValidationResult.reject(CHUNK_MISSING, "no chunks");
        }
        Map<Integer, Hash> seen = new HashMap<>();
        for (UpdateChunk c : chunks) {
            if (c == null) {
                return ValidationResult.reject(MALFORMED, "null chunk");
            }
            if (!commit.getModelId().equals(c.getModelId())) {
                return ValidationResult.reject(
                        WRONG_MODEL,
                        "chunk " + c.getChunkIndex() + " is for model " + c.getModelId() + ", commit for "
                                + commit.getModelId());
            }
            if (commit.getRound() != c.getRound()) {
                return ValidationResult.reject(
                        WRONG_ROUND,
                        "chunk " + c.getChunkIndex() + " is for round " + c.getRound() + ", commit for "
                                + commit.getRound());
            }
            if (!commit.getClientId().equals(c.getClientId())
                    || !commit.getUpdateId().equals(c.getUpdateId())) {
                return ValidationResult.reject(
                        CHUNK_MISMATCH,
                        "chunk " + c.getChunkIndex() + " belongs to " + c.getClientId() + "/" + c.getUpdateId());
            }
            ValidationResult cr = validateChunk(c);
            if (cr.isRejected()) {
                return cr;
            }
            int idx = c.getChunkIndex();
            Hash h = CanonicalHash.of(c);
            if (!h.matches(commit.getChunkHashes().get(idx))) {
                return ValidationResult.reject(
                        CHUNK_HASH_MISMATCH, "chunk " + idx + " hashes to " + h + ", not to the committed hash");
            }
            seen.putIfAbsent(idx, h);
        }
        if (seen.size() != commit.getChunkCount()) {
            for (int i = 0; i < commit.getChunkCount(); i++) {
                if (!seen.containsKey(i)) {
                    return ValidationResult.reject(
                            CHUNK_MISSING, "chunk " + i + " of " + commit.getChunkCount() + " is missing");
                }
            }
        }
        return ValidationResult.ok();
    }

    private record RoundCheck(RoundOpened round, ValidationResult result) {}

    private RoundCheck openRound(String modelId, int round) {
        Optional<RoundState> s = context.round(modelId, round);
        if (s.isEmpty()) {
            return new RoundCheck(
                    null, ValidationResult.reject(UNKNOWN_ROUND, "no round " + round + " of model " + modelId));
        }
        RoundOpened o = s.get().opened();
        if (!modelId.equals(o.getModelId())) {
            return new RoundCheck(
                    null, ValidationResult.reject(WRONG_MODEL, "round lookup returned model " + o.getModelId()));
        }
        if (o.getRound() != round) {
            return new RoundCheck(
                    null, ValidationResult.reject(WRONG_ROUND, "round lookup returned round " + o.getRound()));
        }
        if (s.get().closed()) {
            return new RoundCheck(
                    null, ValidationResult.reject(ROUND_CLOSED, "round " + modelId + "/" + round + " is closed"));
        }
        if (context.nowEpochMillis() > o.getDeadlineEpochMillis()) {
            return new RoundCheck(
                    null,
                    ValidationResult.reject(
                            LATE,
                            "round " + modelId + "/" + round + " deadline " + o.getDeadlineEpochMillis()
                                    + " has passed"));
        }
        if (!Chunker.isConsistent(o.getChunkLayout())) {
            return new RoundCheck(
                    null, ValidationResult.reject(BAD_CHUNK_LAYOUT, "round has an inconsistent chunk layout"));
        }
        return new RoundCheck(o, ValidationResult.ok());
    }

    private static ValidationResult notSampled(String clientId, RoundOpened round) {
        return ValidationResult.reject(
                NOT_SAMPLED,
                "client " + clientId + " is not among the "
                        + round.getSampledClients().size() + " clients sampled for round " + round.getModelId() + "/"
                        + round.getRound());
    }

    private static ValidationResult checkIds(ValidationLimits limits, String... ids) {
        for (String id : ids) {
            if (id == null || id.isEmpty()) {
                return ValidationResult.reject(MALFORMED, "missing id");
            }
            if (id.length() > limits.maxIdLength()) {
                return ValidationResult.reject(MALFORMED, "id longer than " + limits.maxIdLength());
            }
        }
        return ValidationResult.ok();
    }

    private static boolean sameBytes(ByteBuffer a, ByteBuffer b) {
        return a != null && b != null && a.duplicate().equals(b.duplicate());
    }
}
