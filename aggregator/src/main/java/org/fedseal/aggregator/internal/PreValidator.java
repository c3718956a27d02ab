package org.fedseal.aggregator.internal;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.he.MaskedVectors;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.UpdateKey;
import org.fedseal.protocol.UpdateValidator;
import org.fedseal.protocol.ValidationLimits;
import org.fedseal.protocol.ValidationResult;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RecordKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;

/**
 * The stateless, expensive part of validation, before the keyed stages (runs at full parallelism):
 * decoding, key/payload consistency, the chunk's shape and sizes, SEAL's validating load of every
 * ciphertext and the range check of every masked block's coefficients ({@code INVALID_CIPHERTEXT}) and the chunk's canonical hash. A valid chunk leaves in
 * two parts: its bytes to the summing stage ({@link #CHUNKS}), its receipt (what the load found,
 * no ciphertexts) to the round's bookkeeping. Never throws for a record: anything unexpected
 * becomes a MALFORMED rejection that the bookkeeping reports.
 */
public final class PreValidator extends ProcessFunction<Inbound, Inbound> {
    private static final long serialVersionUID = 1L;
    /** Valid chunks, to the summing stage. */
    public static final OutputTag<ChunkPayload> CHUNKS =
            new OutputTag<>("chunks", TypeInformation.of(ChunkPayload.class));

    private final java.util.List<String> heParamsIds;
    private final int maxRecordBytes;
    /** One context per served parameter set; a ciphertext must load (with its exact scale) in one of them. */
    private transient java.util.List<HeContext> contexts;

    private transient WireCodec codec;
    private transient ValidationLimits limits;

    public PreValidator(java.util.List<String> heParamsIds, int maxRecordBytes) {
        this.heParamsIds = java.util.List.copyOf(heParamsIds);
        this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public void open(OpenContext openContext) {
        contexts = new java.util.ArrayList<>();
        for (String id : heParamsIds) {
            contexts.add(HeContext.create(HeParameters.byId(id).orElseThrow()));
        }
        codec = new WireCodec(maxRecordBytes);
        limits = new ValidationLimits(
                maxRecordBytes,
                maxRecordBytes,
                ValidationLimits.DEFAULTS.maxIdLength(),
                ValidationLimits.DEFAULTS.maxClockSkewMillis());
    }

    @Override
    public void close() {
        if (contexts != null) {
            contexts.forEach(HeContext::close);
        }
    }

    @Override
    public void processElement(Inbound in, Context ctx, Collector<Inbound> out) {
        in.arrivalMillis = System.currentTimeMillis();
        try {
            switch (in.source) {
                case Inbound.UPDATE -> preUpdate(in, ctx);
                case Inbound.ROUND -> preRound(in);
                default -> {}
            }
        } catch (RuntimeException e) { // never fail the job because of one record
            reject(in, ReasonCode.MALFORMED, "unexpected " + e);
        }
        out.collect(in);
    }

    private void preRound(Inbound in) {
        in.recordKind = RecordKind.ROUND_OPENED.name();
        try {
            RoundOpened r = codec.decode(in.value, RoundOpened.class);
            in.modelId = r.getModelId() == null ? "" : r.getModelId();
            in.round = r.getRound();
        } catch (WireFormatException e) {
            fromKey(in);
            reject(in, e.reasonCode(), "undecodable RoundOpened: " + e.getMessage());
        }
    }

    private void preUpdate(Inbound in, Context ctx) {
        in.recordKind = RecordKind.UPDATE_ENVELOPE.name();
        fromKey(in);
        UpdateEnvelope env;
        try {
            env = codec.decode(in.value, UpdateEnvelope.class);
        } catch (WireFormatException e) {
            reject(in, e.reasonCode(), e.getMessage());
            return;
        }
        Optional<UpdateKey> key = UpdateKey.parse(in.key);
        Object p = env.getPayload();
        String model;
        int round;
        String client;
        if (p instanceof UpdateChunk c) {
            in.recordKind = RecordKind.UPDATE_CHUNK.name();
            in.payloadKind = Inbound.PAYLOAD_CHUNK;
            model = c.getModelId();
            round = c.getRound();
            client = c.getClientId();
            in.updateId = c.getUpdateId();
            in.chunkIndex = c.getChunkIndex();
        } else if (p instanceof UpdateCommit c) {
            in.recordKind = RecordKind.UPDATE_COMMIT.name();
            in.payloadKind = Inbound.PAYLOAD_COMMIT;
            model = c.getModelId();
            round = c.getRound();
            client = c.getClientId();
            in.updateId = c.getUpdateId();
        } else {
            reject(in, ReasonCode.MALFORMED, "empty envelope");
            return;
        }
        if (key.isEmpty()) {
            in.modelId = model == null ? "" : model;
            in.round = round;
            in.clientId = client;
            reject(in, ReasonCode.MALFORMED, "record key is not modelId/round/clientId");
            return;
        }
        UpdateKey k = key.get();
        if (!k.modelId().equals(model)) {
            reject(in, ReasonCode.WRONG_MODEL, "record for model " + model + " under key " + k);
            return;
        }
        if (k.round() != round) {
            reject(in, ReasonCode.WRONG_ROUND, "record for round " + round + " under key " + k);
            return;
        }
        if (!k.clientId().equals(client)) {
            reject(in, ReasonCode.CHUNK_MISMATCH, "record of client " + client + " under key " + k);
            return;
        }
        if (p instanceof UpdateChunk c) {
            ValidationResult shape = UpdateValidator.checkChunkShape(c, limits);
            if (shape.isRejected()) {
                reject(in, shape.reasonCode(), shape.detail());
                return;
            }
            int[] lengths = new int[c.getCiphertexts().size()];
            long[] moduli = new long[lengths.length];
            Set<String> packings = new HashSet<>();
            String params = null;
            long bytes = 0;
            for (int i = 0; i < lengths.length; i++) {
                ByteBuffer ct = c.getCiphertexts().get(i);
                bytes += ct.remaining();
                if (MaskedVectors.isMasked(ct)) {
                    // a compact round's masked block: every coefficient below its modulus; the bookkeeping
                    // checks the modulus and size against the round
                    try {
                        MaskedVectors.validate(ct);
                        moduli[i] = MaskedVectors.modulus(ct);
                        lengths[i] = MaskedVectors.coefficientCount(ct);
                    } catch (MalformedHeDataException e) {
                        reject(
                                in,
                                ReasonCode.INVALID_CIPHERTEXT,
                                "masked block " + i + " of chunk " + c.getChunkIndex() + ": " + e.getMessage());
                        return;
                    }
                    continue;
                }
                try (EncryptedVector v = loadInAnyServedSet(ct)) {
                    if (v.ciphertextCount() != 1) {
                        reject(
                                in,
                                ReasonCode.INVALID_CIPHERTEXT,
                                "ciphertext " + i + " of chunk " + c.getChunkIndex() + " holds " + v.ciphertextCount()
                                        + " ciphertexts, expected 1");
                        return;
                    }
                    if (params != null && !params.equals(v.parameters().id())) {
                        reject(
                                in,
                                ReasonCode.INVALID_CIPHERTEXT,
                                "chunk " + c.getChunkIndex() + " mixes parameter sets " + params + " and "
                                        + v.parameters().id());
                        return;
                    }
                    params = v.parameters().id();
                    lengths[i] = v.length();
                    packings.add(v.packing().name());
                } catch (MalformedHeDataException e) {
                    reject(
                            in,
                            ReasonCode.INVALID_CIPHERTEXT,
                            "ciphertext " + i + " of chunk " + c.getChunkIndex() + ": " + e.getMessage());
                    return;
                }
            }
            in.ciphertextBytes = bytes;
            // The canonical encoding of a chunk (it has no signature field) is its Avro binary, which is the
            // envelope after its union tag (0 = UpdateChunk): hash it in place instead of re-encoding. A
            // sender's non-canonical encoding hashes differently and simply fails to match its own commit.
            in.chunkHash = in.value.length > 1 && in.value[0] == 0
                    ? Hash.sha256(in.value, 1, in.value.length - 1).toHex()
                    : CanonicalHash.of(c).toHex();
            in.heParamsId = params;
            in.packing = packings.size() == 1 ? packings.iterator().next() : null;
            in.vectorLengths = lengths;
            in.maskModuli = moduli;
            ChunkPayload payload = new ChunkPayload();
            payload.modelId = in.modelId;
            payload.round = in.round;
            payload.chunkIndex = in.chunkIndex;
            payload.clientId = in.clientId;
            payload.updateId = in.updateId;
            payload.chunkHash = in.chunkHash;
            payload.value = in.value;
            ctx.output(CHUNKS, payload);
            in.value = new byte[0]; // the bookkeeping gets the receipt, never the ciphertexts
        }
    }

    /** Loads with the first served parameter set that accepts the bytes; the round's own set is checked when folding. */
    private EncryptedVector loadInAnyServedSet(ByteBuffer ct) throws MalformedHeDataException {
        MalformedHeDataException first = null;
        for (HeContext he : contexts) {
            try {
                return he.loadVector(ct);
            } catch (MalformedHeDataException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        throw first;
    }

    private static void fromKey(Inbound in) {
        Optional<UpdateKey> key = UpdateKey.parse(in.key);
        if (key.isPresent()) {
            in.modelId = key.get().modelId();
            in.round = key.get().round();
            in.clientId = key.get().clientId();
        } else if (in.key != null) {
            String s = new String(in.key, java.nio.charset.StandardCharsets.UTF_8);
            int slash = s.indexOf('/');
            if (slash > 0) {
                in.modelId = s.substring(0, slash);
                try {
                    in.round = Integer.parseInt(s.substring(slash + 1));
                } catch (NumberFormatException ignored) {
                    // leave -1
                }
            }
        }
    }

    private static void reject(Inbound in, ReasonCode reason, String detail) {
        in.rejectReason = reason.name();
        in.rejectDetail = detail;
        in.value = new byte[0]; // the keyed stage needs only the verdict
        if (in.modelId == null) {
            in.modelId = "";
        }
    }
}
