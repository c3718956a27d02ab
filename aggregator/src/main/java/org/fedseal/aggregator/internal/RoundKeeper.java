package org.fedseal.aggregator.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.fedseal.aggregator.AggregatorConfig;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.Bytes;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.CompactRounds;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.RoundState;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.UpdateValidator;
import org.fedseal.protocol.ValidationContext;
import org.fedseal.protocol.ValidationLimits;
import org.fedseal.protocol.ValidationResult;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.ClientEnrolled;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RecordKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.protocol.wire.UpdateRejected;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The round's bookkeeping, keyed by model id, with client enrollments broadcast to every instance.
 * Per model it keeps the opened rounds, the receipts of chunks (what the pre-validation found, no
 * ciphertexts), validated commits waiting for their chunks, the ids of updates seen (replay
 * detection across the model's rounds, which is why the key is the model and not the round), the
 * accepted updates and their total weight. It holds no ciphertext and does no arithmetic: it tells
 * the summing stage ({@link ChunkSummer}, keyed by shard) which chunks to fold, drop and close
 * ({@link #DECISIONS}), and the manifest assembler the round's unsigned manifest ({@link #MANIFESTS}).
 *
 * <p>Every input record ends as exactly one verdict: part of an {@code UpdateAccepted} (chunks and
 * commit of a folded update) or one {@code UpdateRejected} with a WARN line. Records for a round or
 * a client not seen yet are parked for {@code pending.grace.ms}, since rounds, enrollments and
 * updates arrive on different topics in no guaranteed order.
 */
public final class RoundKeeper extends KeyedBroadcastProcessFunction<String, Inbound, Inbound, Outbound> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RoundKeeper.class);
    private static final char SEP = '\u0000';
    private static final long RETRY_MS = 200;

    /** What the summing stage must do with chunks. */
    public static final OutputTag<SumDecision> DECISIONS =
            new OutputTag<>("sum-decisions", TypeInformation.of(SumDecision.class));
    /** Unsigned manifests of closed rounds, for the assembler. */
    public static final OutputTag<ManifestPart> MANIFESTS =
            new OutputTag<>("manifests", TypeInformation.of(ManifestPart.class));

    /** Broadcast state: clientId → encoded ClientEnrolled. */
    public static final MapStateDescriptor<String, byte[]> ENROLLMENTS = new MapStateDescriptor<>(
            "enrollments",
            Types.STRING,
            org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);

    private final AggregatorConfig config;

    private transient MapState<Integer, byte[]> rounds;
    private transient MapState<Integer, Long> roundArrival;
    private transient MapState<Integer, Long> roundClosed;
    private transient MapState<Integer, Integer> roundRejects;
    private transient MapState<String, byte[]> accepted;
    private transient MapState<String, Integer> seenUpdates;
    /** chunk key → the chunk's receipt ({@link Receipt#encode}). */
    private transient MapState<String, byte[]> chunks;

    private transient MapState<String, byte[]> commits;
    /** round → the packing of its accepted updates. */
    private transient MapState<Integer, String> roundPacking;
    /** round → the total weight of its accepted updates. */
    private transient MapState<Integer, Long> roundWeight;

    private transient MapState<Long, Inbound> parked;
    private transient ValueState<Long> parkSeq;

    private transient ValidationLimits limits;
    private transient Map<String, Object[]> keyCache;
    private transient boolean firstSubtask;

    private transient Counter acceptedCounter;
    private transient Counter rejectedCounter;
    private transient Counter bytesSummed;
    private transient Counter roundsClosed;
    private transient Histogram roundLatency;
    private transient Map<String, Counter> rejectedByReason;
    private transient volatile long lastRoundLatencyMs;

    public RoundKeeper(AggregatorConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext openContext) {
        TypeInformation<byte[]> bytes =
                org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
        var rc = getRuntimeContext();
        rounds = rc.getMapState(new MapStateDescriptor<>("rounds", Types.INT, bytes));
        roundArrival = rc.getMapState(new MapStateDescriptor<>("roundArrival", Types.INT, Types.LONG));
        roundClosed = rc.getMapState(new MapStateDescriptor<>("roundClosed", Types.INT, Types.LONG));
        roundRejects = rc.getMapState(new MapStateDescriptor<>("roundRejects", Types.INT, Types.INT));
        accepted = rc.getMapState(new MapStateDescriptor<>("accepted", Types.STRING, bytes));
        seenUpdates = rc.getMapState(new MapStateDescriptor<>("seenUpdates", Types.STRING, Types.INT));
        chunks = rc.getMapState(new MapStateDescriptor<>("chunks", Types.STRING, bytes));
        commits = rc.getMapState(new MapStateDescriptor<>("commits", Types.STRING, bytes));
        roundPacking = rc.getMapState(new MapStateDescriptor<>("roundPacking", Types.INT, Types.STRING));
        roundWeight = rc.getMapState(new MapStateDescriptor<>("roundWeight", Types.INT, Types.LONG));
        parked = rc.getMapState(new MapStateDescriptor<>("parked", Types.LONG, TypeInformation.of(Inbound.class)));
        parkSeq = rc.getState(new ValueStateDescriptor<>("parkSeq", Types.LONG));

        limits = new ValidationLimits(
                config.maxRecordBytes(),
                config.maxRecordBytes(),
                ValidationLimits.DEFAULTS.maxIdLength(),
                ValidationLimits.DEFAULTS.maxClockSkewMillis());
        keyCache = new HashMap<>();
        firstSubtask = rc.getTaskInfo().getIndexOfThisSubtask() == 0;

        MetricGroup g = rc.getMetricGroup();
        acceptedCounter = g.counter("updatesAccepted");
        rejectedCounter = g.counter("recordsRejected");
        bytesSummed = g.counter("ciphertextBytesSummed");
        roundsClosed = g.counter("roundsClosed");
        roundLatency = g.histogram("roundLatencyMs", new DescriptiveStatisticsHistogram(1000));
        g.gauge("lastRoundLatencyMs", () -> lastRoundLatencyMs);
        rejectedByReason = new HashMap<>();
    }

    // ---------------------------------------------------------------- inputs

    @Override
    public void processElement(Inbound in, ReadOnlyContext ctx, Collector<Outbound> out) throws Exception {
        if (in.source == Inbound.ROUND) {
            handleRound(in, ctx, out);
        } else {
            if (!parked.isEmpty()) { // keep arrival order: earlier parked records go first
                retryParked(ctx, out, System.currentTimeMillis());
            }
            handleUpdate(in, ctx, out, true);
        }
    }

    @Override
    public void processBroadcastElement(Inbound in, Context ctx, Collector<Outbound> out) throws Exception {
        ClientEnrolled e;
        try {
            e = WireCodec.DEFAULT.decode(in.value, ClientEnrolled.class);
            if (e.getClientId() == null || e.getClientId().isEmpty()) {
                throw new WireFormatException(ReasonCode.MALFORMED, "enrollment without client id", null);
            }
        } catch (WireFormatException ex) {
            if (firstSubtask) { // broadcast: every instance sees it, one reports it
                emitReject(
                        out,
                        "",
                        -1,
                        null,
                        null,
                        RecordKind.UNKNOWN,
                        ex.reasonCode(),
                        "undecodable ClientEnrolled at " + in.origin + ": " + ex.getMessage(),
                        null);
            }
            return;
        }
        ctx.getBroadcastState(ENROLLMENTS).put(e.getClientId(), in.value);
        keyCache.remove(e.getClientId());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Outbound> out) throws Exception {
        long now = System.currentTimeMillis();
        List<Integer> due = new ArrayList<>();
        for (Map.Entry<Integer, byte[]> r : rounds.entries()) {
            if (!roundClosed.contains(r.getKey())) {
                RoundOpened o = decodeRound(r.getValue());
                if (o.getDeadlineEpochMillis() <= now) {
                    due.add(r.getKey());
                }
            }
        }
        // parked records first: an update that arrived before the deadline and was only waiting
        // for its round / enrollment still counts (or is rejected with its real reason)
        retryParked(ctx, out, now);
        for (int r : due) {
            closeRound(ctx, ctx.getCurrentKey(), r, now, out);
        }
    }

    // ---------------------------------------------------------------- rounds

    private void handleRound(Inbound in, ReadOnlyContext ctx, Collector<Outbound> out) throws Exception {
        if (in.rejectReason != null) {
            emitReject(
                    out,
                    in.modelId,
                    in.round,
                    null,
                    null,
                    RecordKind.ROUND_OPENED,
                    ReasonCode.valueOf(in.rejectReason),
                    in.rejectDetail + " (" + in.origin + ")",
                    null);
            return;
        }
        RoundOpened o;
        try {
            o = new WireCodec(config.maxRecordBytes()).decode(in.value, RoundOpened.class);
        } catch (WireFormatException e) {
            emitReject(
                    out,
                    in.modelId,
                    in.round,
                    null,
                    null,
                    RecordKind.ROUND_OPENED,
                    e.reasonCode(),
                    e.getMessage(),
                    null);
            return;
        }
        int r = o.getRound();
        String model = o.getModelId();
        if (rounds.contains(r)) {
            emitReject(
                    out,
                    model,
                    r,
                    null,
                    null,
                    RecordKind.ROUND_OPENED,
                    ReasonCode.DUPLICATE,
                    "round " + model + "/" + r + " was already opened",
                    null);
            return;
        }
        if (!config.heParamsIds().contains(o.getHeParamsId())) {
            emitReject(
                    out,
                    model,
                    r,
                    null,
                    null,
                    RecordKind.ROUND_OPENED,
                    ReasonCode.WRONG_HE_PARAMS,
                    "round uses HE parameters " + o.getHeParamsId() + ", this aggregator serves "
                            + config.heParamsIds(),
                    null);
            return;
        }
        if (!Chunker.isConsistent(o.getChunkLayout())) {
            emitReject(
                    out,
                    model,
                    r,
                    null,
                    null,
                    RecordKind.ROUND_OPENED,
                    ReasonCode.BAD_CHUNK_LAYOUT,
                    "inconsistent chunk layout " + o.getChunkLayout(),
                    null);
            return;
        }
        String boundsProblem = boundsProblem(o);
        if (boundsProblem != null) {
            emitReject(
                    out,
                    model,
                    r,
                    null,
                    null,
                    RecordKind.ROUND_OPENED,
                    ReasonCode.HEADROOM_EXCEEDED,
                    boundsProblem,
                    null);
            return;
        }
        long now = System.currentTimeMillis();
        if (o.getQuorum() <= 0) {
            o.setQuorum(config.defaultQuorum());
        }
        if (o.getDeadlineEpochMillis() <= 0) {
            long opened = o.getOpenedAtEpochMillis() > 0 ? o.getOpenedAtEpochMillis() : now;
            o.setDeadlineEpochMillis(opened + config.defaultRoundDurationMs());
        }
        rounds.put(r, WireCodec.UNBOUNDED.encode(o));
        roundArrival.put(r, now);
        ctx.timerService().registerProcessingTimeTimer(o.getDeadlineEpochMillis() + 1);
        LOG.info(
                "round {}/{} opened: quorum {}, deadline {}, {} chunks",
                model,
                r,
                o.getQuorum(),
                o.getDeadlineEpochMillis(),
                o.getChunkLayout().getChunkCount());
        retryParked(ctx, out, now);
    }

    /**
     * Why a round's bounds could let its sum wrap, or null: they must be present, consistent, and
     * fit this aggregator's own figure of the parameter set's headroom (never the record's claim).
     */
    private static String boundsProblem(RoundOpened o) {
        RoundBounds b;
        try {
            b = RoundBounds.of(o);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        double headroom = HeParameters.byId(o.getHeParamsId()).orElseThrow().maxSumNorm();
        if (b.clipNorm() * b.maxTotalWeight() > headroom) {
            return "clipNorm " + b.clipNorm() + " x maxTotalWeight " + b.maxTotalWeight() + " exceeds the headroom "
                    + headroom + " of " + o.getHeParamsId();
        }
        return CompactRounds.problem(o).orElse(null);
    }

    // ---------------------------------------------------------------- updates

    private void handleUpdate(Inbound in, ReadOnlyContext ctx, Collector<Outbound> out, boolean mayPark)
            throws Exception {
        RecordKind kind = in.recordKind == null ? RecordKind.UPDATE_ENVELOPE : RecordKind.valueOf(in.recordKind);
        if (in.rejectReason != null) {
            emitReject(out, in, kind, ReasonCode.valueOf(in.rejectReason), in.rejectDetail);
            return;
        }
        try {
            StateContext vctx = new StateContext(ctx, in.modelId);
            UpdateValidator validator = new UpdateValidator(vctx);
            if (in.payloadKind == Inbound.PAYLOAD_CHUNK) {
                ValidationResult res = validator.validateChunkInRound(
                        in.modelId, in.round, in.clientId, in.chunkIndex, in.vectorLengths.length);
                if (parkIfWaiting(in, res, ctx, mayPark)) {
                    return;
                }
                if (res.isRejected()) {
                    drop(ctx, in.modelId, in.round, in.chunkIndex, in.clientId, in.updateId, in.chunkHash);
                    emitReject(out, in, kind, res.reasonCode(), res.detail());
                    return;
                }
                onChunk(in, ctx, out);
                return;
            }
            UpdateEnvelope env = WireCodec.UNBOUNDED.decode(in.value, UpdateEnvelope.class);
            if (env.getPayload() instanceof UpdateCommit c) {
                ValidationResult res = validator.validateCommit(c);
                if (parkIfWaiting(in, res, ctx, mayPark)) {
                    return;
                }
                if (res.isRejected()) {
                    emitReject(out, in, kind, res.reasonCode(), res.detail());
                    return;
                }
                onCommit(c, in, ctx, out);
            } else {
                emitReject(out, in, kind, ReasonCode.MALFORMED, "empty envelope");
            }
        } catch (WireFormatException e) {
            emitReject(out, in, kind, e.reasonCode(), e.getMessage());
        } catch (RuntimeException e) { // one bad record never fails the job
            LOG.error("unexpected error on {}", in, e);
            emitReject(out, in, kind, ReasonCode.MALFORMED, "unexpected " + e);
        }
    }

    private boolean parkIfWaiting(Inbound in, ValidationResult res, ReadOnlyContext ctx, boolean mayPark)
            throws Exception {
        if (!mayPark || res.isAccepted() || config.pendingGraceMs() == 0) {
            return false;
        }
        if (res.reasonCode() != ReasonCode.UNKNOWN_ROUND && res.reasonCode() != ReasonCode.UNKNOWN_CLIENT) {
            return false;
        }
        Long seq = parkSeq.value();
        long next = seq == null ? 0 : seq + 1;
        parkSeq.update(next);
        parked.put(next, in);
        long now = System.currentTimeMillis();
        ctx.timerService().registerProcessingTimeTimer((now + RETRY_MS) / 100 * 100 + 100);
        LOG.debug("parked {} ({})", in, res);
        return true;
    }

    private void retryParked(ReadOnlyContext ctx, Collector<Outbound> out, long now) throws Exception {
        if (parked.isEmpty()) {
            return;
        }
        TreeMap<Long, Inbound> items = new TreeMap<>();
        for (Map.Entry<Long, Inbound> e : parked.entries()) {
            items.put(e.getKey(), e.getValue());
        }
        parked.clear();
        for (Inbound in : items.values()) {
            handleUpdate(in, ctx, out, in.arrivalMillis + config.pendingGraceMs() > now);
        }
    }

    private void onChunk(Inbound in, ReadOnlyContext ctx, Collector<Outbound> out) throws Exception {
        int r = in.round;
        String client = in.clientId;
        byte[] acc = accepted.get(r + "" + SEP + client);
        if (acc != null) {
            // its twin was folded already; the summing stage may free this copy
            drop(ctx, in.modelId, r, in.chunkIndex, client, in.updateId, in.chunkHash);
            emitReject(
                    out,
                    in,
                    RecordKind.UPDATE_CHUNK,
                    ReasonCode.DUPLICATE,
                    "client " + client + " already has an accepted update in " + in.modelId + "/" + r);
            return;
        }
        String key = chunkKey(r, client, in.updateId, in.chunkIndex, in.chunkHash);
        if (chunks.contains(key)) {
            // no DROP: the summing stage holds one copy under this key, the first one's
            emitReject(
                    out,
                    in,
                    RecordKind.UPDATE_CHUNK,
                    ReasonCode.DUPLICATE,
                    "chunk " + in.chunkIndex + " of update " + in.updateId + " received twice");
            return;
        }
        chunks.put(key, Receipt.of(in).encode());
        tryComplete(ctx.getCurrentKey(), r, client, ctx, out);
    }

    private void onCommit(UpdateCommit c, Inbound in, ReadOnlyContext ctx, Collector<Outbound> out) throws Exception {
        int r = c.getRound();
        String client = c.getClientId();
        String ck = r + "" + SEP + client;
        if (commits.contains(ck)) {
            emitReject(
                    out,
                    in,
                    RecordKind.UPDATE_COMMIT,
                    ReasonCode.DUPLICATE,
                    "client " + client + " already has a commit waiting for its chunks in " + c.getModelId() + "/" + r);
            return;
        }
        seenUpdates.put(client + SEP + c.getUpdateId(), r);
        commits.put(ck, in.value);
        tryComplete(ctx.getCurrentKey(), r, client, ctx, out);
    }

    /** Folds the update of {@code client} in round {@code r} if its commit and all its chunks are here. */
    private void tryComplete(String model, int r, String client, ReadOnlyContext ctx, Collector<Outbound> out)
            throws Exception {
        String ck = r + "" + SEP + client;
        byte[] commitBytes = commits.get(ck);
        if (commitBytes == null) {
            return;
        }
        UpdateCommit commit =
                WireCodec.UNBOUNDED.decode(commitBytes, UpdateEnvelope.class).getPayload() instanceof UpdateCommit uc
                        ? uc
                        : null;
        if (commit == null) {
            return;
        }
        List<String> keys = new ArrayList<>();
        List<Receipt> parts = new ArrayList<>();
        for (int i = 0; i < commit.getChunkCount(); i++) {
            String k = chunkKey(
                    r,
                    client,
                    commit.getUpdateId(),
                    i,
                    Hash.of(commit.getChunkHashes().get(i)).toHex());
            byte[] b = chunks.get(k);
            if (b == null) {
                return; // wait for more chunks
            }
            keys.add(k);
            parts.add(Receipt.decode(b));
        }
        RoundOpened round = decodeRound(rounds.get(r));
        // The sum is formed from what is accepted here, so its bound is enforced here: an update that
        // would take the round's total weight past maxTotalWeight could make the encrypted sum wrap.
        RoundBounds bounds = RoundBounds.of(round);
        Long accumulated = roundWeight.get(r);
        long total = accumulated == null ? 0 : accumulated;
        Optional<Long> next = bounds.addWeight(total, commit.getWeight());
        if (next.isEmpty()) {
            rejectUpdate(
                    ctx,
                    model,
                    r,
                    client,
                    commit,
                    keys,
                    ck,
                    ReasonCode.HEADROOM_EXCEEDED,
                    "weight " + commit.getWeight() + " on top of the accepted " + total
                            + " would pass the round's maxTotalWeight " + bounds.maxTotalWeight(),
                    out);
            return;
        }
        String problem = layoutProblem(round, parts, roundPacking.get(r));
        if (problem != null) {
            rejectUpdate(ctx, model, r, client, commit, keys, ck, ReasonCode.INVALID_CIPHERTEXT, problem, out);
            return;
        }
        long now = System.currentTimeMillis();
        long bytes = 0;
        for (int i = 0; i < keys.size(); i++) {
            SumDecision d = SumDecision.about(SumDecision.FOLD, model, r, i);
            d.clientId = client;
            d.updateId = commit.getUpdateId();
            d.chunkHash = Hash.of(commit.getChunkHashes().get(i)).toHex();
            d.heParamsId = round.getHeParamsId();
            ctx.output(DECISIONS, d);
            bytes += parts.get(i).bytes;
            chunks.remove(keys.get(i));
        }
        roundPacking.put(r, packingOf(parts));
        roundWeight.put(r, next.get());
        bytesSummed.inc(bytes);
        commits.remove(ck);
        UpdateAccepted a = UpdateAccepted.newBuilder()
                .setModelId(model)
                .setRound(r)
                .setClientId(client)
                .setUpdateId(commit.getUpdateId())
                .setUpdateHash(CanonicalHash.of(commit).toByteBuffer())
                .setWeight(commit.getWeight())
                .setAcceptedAtEpochMillis(now)
                .build();
        byte[] enc = WireCodec.UNBOUNDED.encode(a);
        accepted.put(ck, enc);
        acceptedCounter.inc();
        out.collect(new Outbound(Outbound.ACCEPTED, Topics.roundKey(model, r), enc));
        LOG.info(
                "accepted update {} of {} in {}/{} ({} chunks, {} bytes)",
                commit.getUpdateId(),
                client,
                model,
                r,
                keys.size(),
                bytes);
        if (config.closeAtQuorum() && countAccepted(r) >= round.getQuorum()) {
            closeRound(ctx, model, r, now, out);
        }
    }

    /**
     * Why the chunks of an update cannot be summed with the round's (from their receipts), or null:
     * one entry per layout slot; CKKS entries under the round's own parameter set (a ciphertext of
     * another scale loads in another served set), with the layout's number of values and one packing
     * throughout, the same as the round's accepted updates; in a compact round, masked blocks of the
     * round's modulus and block size in every value slot, and a CKKS key ciphertext after them.
     */
    private static String layoutProblem(RoundOpened round, List<Receipt> parts, String roundPacking) {
        ChunkLayout layout = round.getChunkLayout();
        long q = round.getMaskModulus();
        int vpc = layout.getValuesPerCiphertext();
        int valueCiphertexts = Chunker.valueCiphertexts(layout);
        String packing = null;
        for (int i = 0; i < parts.size(); i++) {
            Receipt p = parts.get(i);
            for (int j = 0; j < p.lengths.length; j++) {
                long g = (long) i * layout.getCiphertextsPerChunk() + j;
                long modulus = p.moduli[j];
                if (q != 0 && g < valueCiphertexts) {
                    if (modulus != q) {
                        return "ciphertext " + g + " is "
                                + (modulus == 0 ? "a CKKS ciphertext" : "masked modulo " + modulus)
                                + ", the round masks its values modulo " + q;
                    }
                    if (p.lengths[j] != vpc) {
                        return "masked block " + g + " has " + p.lengths[j] + " coefficients, the round's blocks "
                                + vpc;
                    }
                    continue;
                }
                if (modulus != 0) {
                    return "ciphertext " + g + " is a masked block, the round expects a CKKS ciphertext there";
                }
                if (!round.getHeParamsId().equals(p.heParamsId)) {
                    return "chunk " + i + " is encrypted under " + p.heParamsId + ", the round uses "
                            + round.getHeParamsId();
                }
                if (p.packing == null || (packing != null && !p.packing.equals(packing))) {
                    return "chunk " + i + " uses packing " + p.packing + ", an earlier chunk " + packing;
                }
                packing = p.packing;
                long expected = g < valueCiphertexts ? Math.min(vpc, layout.getTotalValues() - g * vpc) : vpc;
                if (p.lengths[j] != expected) {
                    return "ciphertext " + g + " encrypts " + p.lengths[j] + " values, the layout needs " + expected;
                }
            }
        }
        if (roundPacking != null && packing != null && !roundPacking.equals(packing)) {
            return "update uses packing " + packing + ", the round's sum " + roundPacking;
        }
        return null;
    }

    /** The packing of the update's CKKS entries (every update has at least one: the key ciphertext in compact rounds). */
    private static String packingOf(List<Receipt> parts) {
        for (Receipt p : parts) {
            if (p.packing != null) {
                return p.packing;
            }
        }
        return null;
    }

    private void rejectUpdate(
            ReadOnlyContext ctx,
            String model,
            int r,
            String client,
            UpdateCommit commit,
            List<String> chunkKeys,
            String ck,
            ReasonCode reason,
            String detail,
            Collector<Outbound> out)
            throws Exception {
        for (String k : chunkKeys) {
            chunks.remove(k);
            String[] p = k.split(String.valueOf(SEP), -1);
            drop(ctx, model, r, Integer.parseInt(p[3]), client, commit.getUpdateId(), p[4]);
            emitReject(out, model, r, client, commit.getUpdateId(), RecordKind.UPDATE_CHUNK, reason, detail, r);
        }
        commits.remove(ck);
        emitReject(out, model, r, client, commit.getUpdateId(), RecordKind.UPDATE_COMMIT, reason, detail, r);
    }

    /** Tells the summing stage to free a refused chunk. */
    private static void drop(
            ReadOnlyContext ctx, String model, int r, int chunkIndex, String client, String updateId, String hashHex) {
        if (model == null || model.isEmpty() || hashHex == null || chunkIndex < 0) {
            return; // never reached the summing stage
        }
        SumDecision d = SumDecision.about(SumDecision.DROP, model, r, chunkIndex);
        d.clientId = client;
        d.updateId = updateId;
        d.chunkHash = hashHex;
        ctx.output(DECISIONS, d);
    }

    // ---------------------------------------------------------------- closing

    private void closeRound(ReadOnlyContext ctx, String model, int r, long now, Collector<Outbound> out)
            throws Exception {
        if (roundClosed.contains(r)) {
            return;
        }
        roundClosed.put(r, now);
        RoundOpened round = decodeRound(rounds.get(r));
        String prefix = r + "" + SEP;

        // leftovers: chunks never committed (or not matching their commit), commits missing chunks;
        // the summing stage frees their bytes when it closes the chunk
        List<String> left = new ArrayList<>();
        for (String k : chunks.keys()) {
            if (k.startsWith(prefix)) {
                left.add(k);
            }
        }
        for (String k : left) {
            chunks.remove(k);
            String[] p = k.split(String.valueOf(SEP), -1);
            boolean clientAccepted = accepted.contains(prefix + p[1]);
            emitReject(
                    out,
                    model,
                    r,
                    p[1],
                    p[2],
                    RecordKind.UPDATE_CHUNK,
                    clientAccepted ? ReasonCode.CHUNK_HASH_MISMATCH : ReasonCode.INCOMPLETE,
                    clientAccepted
                            ? "chunk " + p[3] + " does not match the client's committed chunk hash"
                            : "chunk " + p[3] + " was never committed before the round closed",
                    r);
        }
        List<String> pendingCommits = new ArrayList<>();
        for (String k : commits.keys()) {
            if (k.startsWith(prefix)) {
                pendingCommits.add(k);
            }
        }
        for (String k : pendingCommits) {
            UpdateCommit c = (UpdateCommit) WireCodec.UNBOUNDED
                    .decode(commits.get(k), UpdateEnvelope.class)
                    .getPayload();
            commits.remove(k);
            emitReject(
                    out,
                    model,
                    r,
                    c.getClientId(),
                    c.getUpdateId(),
                    RecordKind.UPDATE_COMMIT,
                    ReasonCode.CHUNK_MISSING,
                    "round closed before every chunk of the update arrived",
                    r);
        }

        List<UpdateAccepted> acc = new ArrayList<>();
        List<String> accKeys = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : accepted.entries()) {
            if (e.getKey().startsWith(prefix)) {
                acc.add(WireCodec.UNBOUNDED.decode(e.getValue(), UpdateAccepted.class));
                accKeys.add(e.getKey());
            }
        }
        boolean complete = acc.size() >= round.getQuorum();
        Integer rej = roundRejects.get(r);
        AggregatePublished draft = Aggregates.manifest(
                model,
                r,
                complete ? AggregateStatus.COMPLETED : AggregateStatus.FAILED_BELOW_QUORUM,
                round.getHeParamsId(),
                acc,
                List.of(),
                rej == null ? 0 : rej,
                config.aggregatorId(),
                now);
        // every chunk index of the round is closed: summed (COMPLETED) or discarded
        int chunkCount = round.getChunkLayout().getChunkCount();
        for (int i = 0; i < chunkCount; i++) {
            SumDecision d = SumDecision.about(SumDecision.CLOSE, model, r, i);
            d.expectedFolds = complete ? acc.size() : -1;
            d.acceptedUpdateRoot = Hash.of(draft.getAcceptedUpdateRoot()).bytes();
            d.heParamsId = round.getHeParamsId();
            ctx.output(DECISIONS, d);
        }
        ctx.output(
                MANIFESTS,
                ManifestPart.of(
                        ManifestPart.DRAFT, model, r, complete ? chunkCount : 0, WireCodec.UNBOUNDED.encode(draft)));

        for (String k : accKeys) {
            accepted.remove(k);
        }
        roundPacking.remove(r);
        roundWeight.remove(r);
        Long arrived = roundArrival.get(r);
        long latency = arrived == null ? 0 : now - arrived;
        lastRoundLatencyMs = latency;
        roundLatency.update(latency);
        roundsClosed.inc();
        LOG.info(
                "round {}/{} closed {}: {} accepted, {} rejected, total weight {}, latency {} ms",
                model,
                r,
                draft.getStatus(),
                acc.size(),
                draft.getRejectedCount(),
                draft.getTotalWeight(),
                latency);
    }

    private int countAccepted(int r) throws Exception {
        String prefix = r + "" + SEP;
        int n = 0;
        for (String k : accepted.keys()) {
            if (k.startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }

    // ---------------------------------------------------------------- helpers

    private void emitReject(Collector<Outbound> out, Inbound in, RecordKind kind, ReasonCode reason, String detail)
            throws Exception {
        emitReject(
                out,
                in.modelId,
                in.round,
                in.clientId,
                in.updateId,
                kind,
                reason,
                detail + " (" + in.origin + ")",
                in.round >= 0 && in.modelId != null && !in.modelId.isEmpty() ? in.round : null);
    }

    private void emitReject(
            Collector<Outbound> out,
            String model,
            int round,
            String client,
            String updateId,
            RecordKind kind,
            ReasonCode reason,
            String detail,
            Integer countForRound)
            throws Exception {
        long now = System.currentTimeMillis();
        UpdateRejected rej =
                ValidationResult.reject(reason, detail).toRejected(model, round, client, updateId, kind, now);
        LOG.warn("rejected {} {}/{} client={} update={}: {} {}", kind, model, round, client, updateId, reason, detail);
        rejectedCounter.inc();
        rejectedByReason
                .computeIfAbsent(
                        reason.name(),
                        k -> getRuntimeContext()
                                .getMetricGroup()
                                .addGroup("reason", k)
                                .counter("recordsRejected"))
                .inc();
        if (countForRound != null && rounds != null && model != null && !model.isEmpty()) {
            Integer c = roundRejects.get(countForRound);
            roundRejects.put(countForRound, c == null ? 1 : c + 1);
        }
        out.collect(new Outbound(
                Outbound.REJECTED,
                Topics.roundKey(model == null ? "" : model, round),
                WireCodec.UNBOUNDED.encode(rej)));
    }

    private static String chunkKey(int r, String client, String updateId, int index, String hashHex) {
        return r + "" + SEP + client + SEP + updateId + SEP + index + SEP + hashHex;
    }

    /** What the bookkeeping keeps of a chunk: what the pre-validation's load of its ciphertexts found. */
    static final class Receipt {
        final String heParamsId;
        final String packing;
        final int[] lengths;
        /** Per entry: the modulus of a masked block, 0 for a CKKS ciphertext. */
        final long[] moduli;

        final long bytes;

        private Receipt(String heParamsId, String packing, int[] lengths, long[] moduli, long bytes) {
            this.heParamsId = heParamsId;
            this.packing = packing;
            this.lengths = lengths;
            this.moduli = moduli;
            this.bytes = bytes;
        }

        static Receipt of(Inbound in) {
            long[] moduli = in.maskModuli != null ? in.maskModuli : new long[in.vectorLengths.length];
            return new Receipt(in.heParamsId, in.packing, in.vectorLengths, moduli, in.ciphertextBytes);
        }

        byte[] encode() {
            StringBuilder b = new StringBuilder()
                    .append(heParamsId == null ? "" : heParamsId)
                    .append(SEP)
                    .append(packing == null ? "" : packing)
                    .append(SEP)
                    .append(bytes);
            for (int i = 0; i < lengths.length; i++) {
                b.append(SEP).append(lengths[i]);
                if (moduli[i] != 0) {
                    b.append('@').append(moduli[i]);
                }
            }
            return b.toString().getBytes(StandardCharsets.UTF_8);
        }

        static Receipt decode(byte[] b) {
            String[] p = new String(b, StandardCharsets.UTF_8).split(String.valueOf(SEP), -1);
            int[] lengths = new int[p.length - 3];
            long[] moduli = new long[lengths.length];
            for (int i = 0; i < lengths.length; i++) {
                String e = p[i + 3];
                int at = e.indexOf('@');
                lengths[i] = Integer.parseInt(at < 0 ? e : e.substring(0, at));
                moduli[i] = at < 0 ? 0 : Long.parseLong(e.substring(at + 1));
            }
            return new Receipt(
                    p[0].isEmpty() ? null : p[0], p[1].isEmpty() ? null : p[1], lengths, moduli, Long.parseLong(p[2]));
        }
    }

    private static RoundOpened decodeRound(byte[] b) {
        try {
            return WireCodec.UNBOUNDED.decode(b, RoundOpened.class);
        } catch (WireFormatException e) {
            throw new IllegalStateException("corrupt round in state", e);
        }
    }

    /** {@link ValidationContext} over this function's state for the current key (= model). */
    private final class StateContext implements ValidationContext {
        private final ReadOnlyBroadcastState<String, byte[]> enrolled;
        private final String model;
        private final long now = System.currentTimeMillis();

        StateContext(ReadOnlyContext ctx, String model) throws Exception {
            this.enrolled = ctx.getBroadcastState(ENROLLMENTS);
            this.model = model;
        }

        @Override
        public Optional<RoundState> round(String modelId, int round) {
            if (!model.equals(modelId)) {
                return Optional.empty();
            }
            try {
                byte[] b = rounds.get(round);
                return b == null
                        ? Optional.empty()
                        : Optional.of(new RoundState(decodeRound(b), roundClosed.contains(round)));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Optional<SigningPublicKey> clientKey(String clientId) {
            try {
                byte[] b = enrolled.get(clientId);
                if (b == null) {
                    return Optional.empty();
                }
                Object[] cached = keyCache.get(clientId);
                if (cached == null || cached[0] != b) {
                    ClientEnrolled e = WireCodec.DEFAULT.decode(b, ClientEnrolled.class);
                    SigningPublicKey k = null;
                    try {
                        k = SigningPublicKey.fromX509(Bytes.toArray(e.getSigningPublicKey()));
                    } catch (IllegalArgumentException bad) {
                        LOG.warn("enrollment of {} has an invalid signing key", clientId);
                    }
                    cached = new Object[] {b, e, k};
                    keyCache.put(clientId, cached);
                }
                ClientEnrolled e = (ClientEnrolled) cached[1];
                if (cached[2] == null
                        || e.getRevoked()
                        || (!e.getModelIds().isEmpty() && !e.getModelIds().contains(model))) {
                    return Optional.empty();
                }
                return Optional.of((SigningPublicKey) cached[2]);
            } catch (Exception e) {
                return Optional.empty();
            }
        }

        @Override
        public long nowEpochMillis() {
            return now;
        }

        @Override
        public ValidationLimits limits() {
            return limits;
        }

        @Override
        public boolean alreadyAccepted(String modelId, int round, String clientId) {
            try {
                return accepted.contains(round + "" + SEP + clientId);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public boolean updateIdSeen(String clientId, String updateId, String modelId, int round) {
            try {
                Integer r = seenUpdates.get(clientId + SEP + updateId);
                return r != null && r != round;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
