package org.fedseal.aggregator.internal;

import java.nio.ByteBuffer;
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
import org.fedseal.aggregator.AggregatorConfig;
import org.fedseal.he.EncryptedVector;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.HeOperationException;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.MerkleHashes;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.RoundState;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPrivateKey;
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
import org.fedseal.protocol.wire.ChunkSum;
import org.fedseal.protocol.wire.ClientEnrolled;
import org.fedseal.protocol.wire.ReasonCode;
import org.fedseal.protocol.wire.RecordKind;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.UpdateAccepted;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;
import org.fedseal.protocol.wire.UpdateRejected;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stateful heart of the job, keyed by model id, with client enrollments broadcast to every
 * instance. Per model it keeps the opened rounds, buffered chunks, validated commits waiting for
 * their chunks, the ids of updates seen (replay detection across rounds), the accepted updates and
 * the per-ciphertext running sums (serialized he-native vectors, {@code byte[]} in Flink state).
 *
 * <p>Every input record ends as exactly one verdict: part of an {@code UpdateAccepted} (chunks and
 * commit of a folded update) or one {@code UpdateRejected} with a WARN line. Records for a round or
 * a client not seen yet are parked for {@code pending.grace.ms}, since rounds, enrollments and
 * updates arrive on different topics in no guaranteed order.
 */
public final class RoundAggregator extends KeyedBroadcastProcessFunction<String, Inbound, Inbound, Outbound> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RoundAggregator.class);
    private static final char SEP = '\u0000';
    private static final long RETRY_MS = 200;

    /** Broadcast state: clientId → encoded ClientEnrolled. */
    public static final MapStateDescriptor<String, byte[]> ENROLLMENTS =
            new MapStateDescriptor<>("enrollments", Types.STRING,
                    org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);

    private final AggregatorConfig config;

    private transient MapState<Integer, byte[]> rounds;
    private transient MapState<Integer, Long> roundArrival;
    private transient MapState<Integer, Long> roundClosed;
    private transient MapState<Integer, Integer> roundRejects;
    private transient MapState<String, byte[]> accepted;
    private transient MapState<String, Integer> seenUpdates;
    private transient MapState<String, byte[]> chunks;
    private transient MapState<String, byte[]> commits;
    private transient MapState<String, byte[]> sums;
    private transient MapState<Long, Inbound> parked;
    private transient ValueState<Long> parkSeq;

    /** One context per served parameter set, by id. */
    private transient Map<String, HeContext> contexts;
    private transient SigningPrivateKey signingKey;
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

    public RoundAggregator(AggregatorConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext openContext) {
        TypeInformation<byte[]> bytes = org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
        var rc = getRuntimeContext();
        rounds = rc.getMapState(new MapStateDescriptor<>("rounds", Types.INT, bytes));
        roundArrival = rc.getMapState(new MapStateDescriptor<>("roundArrival", Types.INT, Types.LONG));
        roundClosed = rc.getMapState(new MapStateDescriptor<>("roundClosed", Types.INT, Types.LONG));
        roundRejects = rc.getMapState(new MapStateDescriptor<>("roundRejects", Types.INT, Types.INT));
        accepted = rc.getMapState(new MapStateDescriptor<>("accepted", Types.STRING, bytes));
        seenUpdates = rc.getMapState(new MapStateDescriptor<>("seenUpdates", Types.STRING, Types.INT));
        chunks = rc.getMapState(new MapStateDescriptor<>("chunks", Types.STRING, bytes));
        commits = rc.getMapState(new MapStateDescriptor<>("commits", Types.STRING, bytes));
        sums = rc.getMapState(new MapStateDescriptor<>("sums", Types.STRING, bytes));
        parked = rc.getMapState(new MapStateDescriptor<>("parked", Types.LONG, TypeInformation.of(Inbound.class)));
        parkSeq = rc.getState(new ValueStateDescriptor<>("parkSeq", Types.LONG));

        contexts = new HashMap<>();
        for (String id : config.heParamsIds()) {
            contexts.put(id, HeContext.create(HeParameters.byId(id).orElseThrow()));
        }
        signingKey = SigningPrivateKey.importPkcs8(config.signingKeyPkcs8());
        limits = new ValidationLimits(config.maxRecordBytes(), config.maxRecordBytes(),
                ValidationLimits.DEFAULTS.maxIdLength(), ValidationLimits.DEFAULTS.maxClockSkewMillis());
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

    @Override
    public void close() {
        if (contexts != null) {
            contexts.values().forEach(HeContext::close);
        }
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
                emitReject(out, "", -1, null, null, RecordKind.UNKNOWN, ex.reasonCode(),
                        "undecodable ClientEnrolled at " + in.origin + ": " + ex.getMessage(), null);
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
            closeRound(ctx.getCurrentKey(), r, now, out);
        }
    }

    // ---------------------------------------------------------------- rounds

    private void handleRound(Inbound in, ReadOnlyContext ctx, Collector<Outbound> out) throws Exception {
        if (in.rejectReason != null) {
            emitReject(out, in.modelId, in.round, null, null, RecordKind.ROUND_OPENED,
                    ReasonCode.valueOf(in.rejectReason), in.rejectDetail + " (" + in.origin + ")", null);
            return;
        }
        RoundOpened o;
        try {
            o = new WireCodec(config.maxRecordBytes()).decode(in.value, RoundOpened.class);
        } catch (WireFormatException e) {
            emitReject(out, in.modelId, in.round, null, null, RecordKind.ROUND_OPENED, e.reasonCode(), e.getMessage(), null);
            return;
        }
        int r = o.getRound();
        String model = o.getModelId();
        if (rounds.contains(r)) {
            emitReject(out, model, r, null, null, RecordKind.ROUND_OPENED, ReasonCode.DUPLICATE,
                    "round " + model + "/" + r + " was already opened", null);
            return;
        }
        if (!contexts.containsKey(o.getHeParamsId())) {
            emitReject(out, model, r, null, null, RecordKind.ROUND_OPENED, ReasonCode.WRONG_HE_PARAMS,
                    "round uses HE parameters " + o.getHeParamsId() + ", this aggregator serves " + config.heParamsIds(), null);
            return;
        }
        if (!Chunker.isConsistent(o.getChunkLayout())) {
            emitReject(out, model, r, null, null, RecordKind.ROUND_OPENED, ReasonCode.BAD_CHUNK_LAYOUT,
                    "inconsistent chunk layout " + o.getChunkLayout(), null);
            return;
        }
        String boundsProblem = boundsProblem(o);
        if (boundsProblem != null) {
            emitReject(out, model, r, null, null, RecordKind.ROUND_OPENED, ReasonCode.HEADROOM_EXCEEDED, boundsProblem, null);
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
        LOG.info("round {}/{} opened: quorum {}, deadline {}, {} chunks", model, r, o.getQuorum(),
                o.getDeadlineEpochMillis(), o.getChunkLayout().getChunkCount());
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
            return "clipNorm " + b.clipNorm() + " x maxTotalWeight " + b.maxTotalWeight() + " exceeds the headroom " + headroom
                    + " of " + o.getHeParamsId();
        }
        return null;
    }

    // ---------------------------------------------------------------- updates

    private void handleUpdate(Inbound in, ReadOnlyContext ctx, Collector<Outbound> out, boolean mayPark) throws Exception {
        RecordKind kind = in.recordKind == null ? RecordKind.UPDATE_ENVELOPE : RecordKind.valueOf(in.recordKind);
        if (in.rejectReason != null) {
            emitReject(out, in, kind, ReasonCode.valueOf(in.rejectReason), in.rejectDetail);
            return;
        }
        try {
            UpdateEnvelope env = WireCodec.UNBOUNDED.decode(in.value, UpdateEnvelope.class);
            StateContext vctx = new StateContext(ctx, in.modelId);
            UpdateValidator validator = new UpdateValidator(vctx);
            if (env.getPayload() instanceof UpdateChunk c) {
                ValidationResult res = validator.validateChunk(c);
                if (parkIfWaiting(in, res, ctx, mayPark)) {
                    return;
                }
                if (res.isRejected()) {
                    emitReject(out, in, kind, res.reasonCode(), res.detail());
                    return;
                }
                onChunk(c, in, ctx, out);
            } else if (env.getPayload() instanceof UpdateCommit c) {
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

    private boolean parkIfWaiting(Inbound in, ValidationResult res, ReadOnlyContext ctx, boolean mayPark) throws Exception {
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

    private void onChunk(UpdateChunk c, Inbound in, ReadOnlyContext ctx, Collector<Outbound> out) throws Exception {
        int r = c.getRound();
        String client = c.getClientId();
        byte[] acc = accepted.get(r + "" + SEP + client);
        if (acc != null) {
            emitReject(out, in, RecordKind.UPDATE_CHUNK, ReasonCode.DUPLICATE,
                    "client " + client + " already has an accepted update in " + c.getModelId() + "/" + r);
            return;
        }
        String key = chunkKey(r, client, c.getUpdateId(), c.getChunkIndex(), in.chunkHash);
        if (chunks.contains(key)) {
            emitReject(out, in, RecordKind.UPDATE_CHUNK, ReasonCode.DUPLICATE,
                    "chunk " + c.getChunkIndex() + " of update " + c.getUpdateId() + " received twice");
            return;
        }
        chunks.put(key, in.value);
        tryComplete(ctx.getCurrentKey(), r, client, ctx, out);
    }

    private void onCommit(UpdateCommit c, Inbound in, ReadOnlyContext ctx, Collector<Outbound> out) throws Exception {
        int r = c.getRound();
        String client = c.getClientId();
        String ck = r + "" + SEP + client;
        if (commits.contains(ck)) {
            emitReject(out, in, RecordKind.UPDATE_COMMIT, ReasonCode.DUPLICATE,
                    "client " + client + " already has a commit waiting for its chunks in " + c.getModelId() + "/" + r);
            return;
        }
        seenUpdates.put(client + SEP + c.getUpdateId(), r);
        commits.put(ck, in.value);
        tryComplete(ctx.getCurrentKey(), r, client, ctx, out);
    }

    /** Folds the update of {@code client} in round {@code r} if its commit and all its chunks are here. */
    private void tryComplete(String model, int r, String client, ReadOnlyContext ctx, Collector<Outbound> out) throws Exception {
        String ck = r + "" + SEP + client;
        byte[] commitBytes = commits.get(ck);
        if (commitBytes == null) {
            return;
        }
        UpdateCommit commit = ((UpdateEnvelope) WireCodec.UNBOUNDED.decode(commitBytes, UpdateEnvelope.class)).getPayload() instanceof UpdateCommit uc
                ? uc : null;
        if (commit == null) {
            return;
        }
        List<String> keys = new ArrayList<>();
        List<byte[]> parts = new ArrayList<>();
        for (int i = 0; i < commit.getChunkCount(); i++) {
            String k = chunkKey(r, client, commit.getUpdateId(), i, Hash.of(commit.getChunkHashes().get(i)).toHex());
            byte[] b = chunks.get(k);
            if (b == null) {
                return; // wait for more chunks
            }
            keys.add(k);
            parts.add(b);
        }
        RoundOpened round = decodeRound(rounds.get(r));
        // The sum is formed here, so its bound is enforced here: an update that would take the
        // round's total weight past maxTotalWeight could make the encrypted sum wrap.
        RoundBounds bounds = RoundBounds.of(round);
        long total = acceptedWeight(r);
        if (bounds.addWeight(total, commit.getWeight()).isEmpty()) {
            rejectUpdate(model, r, client, commit, keys, ck, ReasonCode.HEADROOM_EXCEEDED, "weight " + commit.getWeight()
                    + " on top of the accepted " + total + " would pass the round's maxTotalWeight " + bounds.maxTotalWeight(), out);
            return;
        }
        ChunkLayout layout = round.getChunkLayout();
        // The round's own parameter set: a ciphertext of another set (e.g. another scale) is refused here.
        HeContext he = contexts.get(round.getHeParamsId());
        long now = System.currentTimeMillis();

        // load and check every addend before touching the sums
        List<EncryptedVector> addends = new ArrayList<>(layout.getCiphertextCount());
        long bytes = 0;
        String problem = null;
        try {
            for (int i = 0; i < parts.size() && problem == null; i++) {
                UpdateChunk chunk = (UpdateChunk) WireCodec.UNBOUNDED.decode(parts.get(i), UpdateEnvelope.class).getPayload();
                List<ByteBuffer> cts = chunk.getCiphertexts();
                for (int j = 0; j < cts.size(); j++) {
                    long g = (long) i * layout.getCiphertextsPerChunk() + j;
                    byte[] ct = toArray(cts.get(j));
                    bytes += ct.length;
                    EncryptedVector v = he.loadVector(ct);
                    addends.add(v);
                    long expectedLen = Math.min(layout.getValuesPerCiphertext(),
                            layout.getTotalValues() - g * layout.getValuesPerCiphertext());
                    if (v.ciphertextCount() != 1 || v.length() != expectedLen) {
                        problem = "ciphertext " + g + " encrypts " + v.length() + " values in " + v.ciphertextCount()
                                + " ciphertexts, the layout needs " + expectedLen + " in 1";
                        break;
                    }
                    if (j == 0 && i == 0) {
                        continue;
                    }
                    if (v.packing() != addends.get(0).packing()) {
                        problem = "ciphertext " + g + " uses packing " + v.packing() + ", ciphertext 0 " + addends.get(0).packing();
                        break;
                    }
                }
            }
            if (problem == null && addends.size() != layout.getCiphertextCount()) {
                problem = addends.size() + " ciphertexts, the layout needs " + layout.getCiphertextCount();
            }
            if (problem == null) {
                // compatibility with what is summed so far
                byte[] first = sums.get(r + "" + SEP + 0);
                if (first != null) {
                    try (EncryptedVector s0 = he.loadVector(first)) {
                        if (s0.packing() != addends.get(0).packing()) {
                            problem = "update uses packing " + addends.get(0).packing() + ", the round's sum " + s0.packing();
                        }
                    }
                }
            }
            if (problem != null) {
                rejectUpdate(model, r, client, commit, keys, ck, ReasonCode.INVALID_CIPHERTEXT, problem, out);
                return;
            }
            // Every new sum is computed before any is stored: an update is folded in whole or not at all.
            List<byte[]> next = new ArrayList<>(addends.size());
            for (int g = 0; g < addends.size(); g++) {
                byte[] sum = sums.get(r + "" + SEP + g);
                if (sum == null) {
                    next.add(addends.get(g).toBytes());
                } else {
                    try (EncryptedVector s = he.loadVector(sum)) {
                        s.addInPlace(addends.get(g));
                        next.add(s.toBytes());
                    }
                }
            }
            for (int g = 0; g < next.size(); g++) {
                sums.put(r + "" + SEP + g, next.get(g));
            }
        } catch (MalformedHeDataException | IllegalArgumentException | HeOperationException e) {
            // A ciphertext SEAL cannot add to this round's sum is the sender's fault, never the job's.
            rejectUpdate(model, r, client, commit, keys, ck, ReasonCode.INVALID_CIPHERTEXT, e.getMessage(), out);
            return;
        } finally {
            for (EncryptedVector v : addends) {
                v.close();
            }
        }
        bytesSummed.inc(bytes);
        for (String k : keys) {
            chunks.remove(k);
        }
        commits.remove(ck);
        UpdateAccepted a = UpdateAccepted.newBuilder()
                .setModelId(model).setRound(r).setClientId(client).setUpdateId(commit.getUpdateId())
                .setUpdateHash(CanonicalHash.of(commit).toByteBuffer()).setWeight(commit.getWeight())
                .setAcceptedAtEpochMillis(now).build();
        byte[] enc = WireCodec.UNBOUNDED.encode(a);
        accepted.put(ck, enc);
        acceptedCounter.inc();
        out.collect(new Outbound(Outbound.ACCEPTED, Topics.roundKey(model, r), enc));
        LOG.info("accepted update {} of {} in {}/{} ({} chunks, {} bytes)", commit.getUpdateId(), client, model, r,
                keys.size(), bytes);
        if (config.closeAtQuorum() && countAccepted(r) >= round.getQuorum()) {
            closeRound(model, r, now, out);
        }
    }

    private void rejectUpdate(String model, int r, String client, UpdateCommit commit, List<String> chunkKeys, String ck,
                              ReasonCode reason, String detail, Collector<Outbound> out) throws Exception {
        for (String k : chunkKeys) {
            chunks.remove(k);
            emitReject(out, model, r, client, commit.getUpdateId(), RecordKind.UPDATE_CHUNK, reason, detail, r);
        }
        commits.remove(ck);
        emitReject(out, model, r, client, commit.getUpdateId(), RecordKind.UPDATE_COMMIT, reason, detail, r);
    }

    // ---------------------------------------------------------------- closing

    private void closeRound(String model, int r, long now, Collector<Outbound> out) throws Exception {
        if (roundClosed.contains(r)) {
            return;
        }
        roundClosed.put(r, now);
        RoundOpened round = decodeRound(rounds.get(r));
        String prefix = r + "" + SEP;

        // leftovers: chunks never committed (or not matching their commit), commits missing chunks
        List<Map.Entry<String, byte[]>> left = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : chunks.entries()) {
            if (e.getKey().startsWith(prefix)) {
                left.add(Map.entry(e.getKey(), e.getValue()));
            }
        }
        for (Map.Entry<String, byte[]> e : left) {
            chunks.remove(e.getKey());
            String[] p = e.getKey().split(String.valueOf(SEP), -1);
            boolean clientAccepted = accepted.contains(prefix + p[1]);
            emitReject(out, model, r, p[1], p[2], RecordKind.UPDATE_CHUNK,
                    clientAccepted ? ReasonCode.CHUNK_HASH_MISMATCH : ReasonCode.INCOMPLETE,
                    clientAccepted ? "chunk " + p[3] + " does not match the client's committed chunk hash"
                            : "chunk " + p[3] + " was never committed before the round closed", r);
        }
        List<String> pendingCommits = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : commits.entries()) {
            if (e.getKey().startsWith(prefix)) {
                pendingCommits.add(e.getKey());
            }
        }
        for (String k : pendingCommits) {
            UpdateCommit c = (UpdateCommit) WireCodec.UNBOUNDED.decode(commits.get(k), UpdateEnvelope.class).getPayload();
            commits.remove(k);
            emitReject(out, model, r, c.getClientId(), c.getUpdateId(), RecordKind.UPDATE_COMMIT, ReasonCode.CHUNK_MISSING,
                    "round closed before every chunk of the update arrived", r);
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
        ChunkLayout layout = round.getChunkLayout();
        List<ChunkSum> chunkSums = new ArrayList<>();
        if (complete) {
            for (int i = 0; i < layout.getChunkCount(); i++) {
                List<ByteBuffer> cts = new ArrayList<>();
                int n = Chunker.ciphertextsInChunk(layout, i);
                for (int j = 0; j < n; j++) {
                    cts.add(ByteBuffer.wrap(sums.get(prefix + (i * layout.getCiphertextsPerChunk() + j))));
                }
                chunkSums.add(ChunkSum.newBuilder().setChunkIndex(i).setCiphertexts(cts).build());
            }
        }
        List<String> participants = new ArrayList<>();
        List<Hash> hashes = new ArrayList<>();
        long totalWeight = 0;
        for (UpdateAccepted a : acc) {
            participants.add(a.getClientId());
            hashes.add(Hash.of(a.getUpdateHash()));
            // bounded by maxTotalWeight when each update was folded; exact all the same: nothing that overflowed is signed
            totalWeight = Math.addExact(totalWeight, a.getWeight());
        }
        participants.sort(null);
        List<Hash> sorted = MerkleHashes.sortedUpdateHashes(hashes);
        List<ByteBuffer> hashBufs = new ArrayList<>();
        for (Hash h : sorted) {
            hashBufs.add(h.toByteBuffer());
        }
        Integer rej = roundRejects.get(r);
        AggregatePublished agg = AggregatePublished.newBuilder()
                .setModelId(model).setRound(r)
                .setStatus(complete ? AggregateStatus.COMPLETED : AggregateStatus.FAILED_BELOW_QUORUM)
                .setChunkSums(chunkSums)
                .setParticipants(participants)
                .setTotalWeight(totalWeight)
                .setAcceptedUpdateHashes(hashBufs)
                .setAcceptedUpdateRoot(MerkleHashes.acceptedUpdateRoot(sorted).toByteBuffer())
                .setAcceptedCount(acc.size())
                .setRejectedCount(rej == null ? 0 : rej)
                .setHeParamsId(round.getHeParamsId())
                .setAggregatorId(config.aggregatorId())
                .setClosedAtEpochMillis(now)
                .setSignature(ByteBuffer.allocate(0))
                .build();
        agg = Signatures.sign(agg, signingKey);
        byte[] encoded = WireCodec.UNBOUNDED.encode(agg);
        if (encoded.length > config.maxOutputRecordBytes()) {
            // Kafka would refuse the record and the job would fail and replay forever: publish the
            // outcome without the sums instead, and say what to change.
            LOG.error("aggregate of {}/{} is {} bytes, over the output limit of {} (the aggregates topic's "
                    + "max.message.bytes / max.output.record.bytes): published as FAILED_TOO_LARGE without sums",
                    model, r, encoded.length, config.maxOutputRecordBytes());
            agg = Signatures.sign(AggregatePublished.newBuilder(agg).setStatus(AggregateStatus.FAILED_TOO_LARGE)
                    .setChunkSums(List.of()).setSignature(ByteBuffer.allocate(0)).build(), signingKey);
            encoded = WireCodec.UNBOUNDED.encode(agg);
        }
        out.collect(new Outbound(Outbound.AGGREGATE, Topics.roundKey(model, r), encoded));

        for (String k : accKeys) {
            accepted.remove(k);
        }
        for (int g = 0; g < layout.getCiphertextCount(); g++) {
            sums.remove(prefix + g);
        }
        Long arrived = roundArrival.get(r);
        long latency = arrived == null ? 0 : now - arrived;
        lastRoundLatencyMs = latency;
        roundLatency.update(latency);
        roundsClosed.inc();
        LOG.info("round {}/{} closed {}: {} accepted, {} rejected, total weight {}, latency {} ms", model, r,
                agg.getStatus(), acc.size(), agg.getRejectedCount(), totalWeight, latency);
    }

    /** Total weight of the updates accepted so far in round r (exact: each was bounded when folded). */
    private long acceptedWeight(int r) throws Exception {
        String prefix = r + "" + SEP;
        long total = 0;
        for (Map.Entry<String, byte[]> e : accepted.entries()) {
            if (e.getKey().startsWith(prefix)) {
                total = Math.addExact(total, WireCodec.UNBOUNDED.decode(e.getValue(), UpdateAccepted.class).getWeight());
            }
        }
        return total;
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
        emitReject(out, in.modelId, in.round, in.clientId, in.updateId, kind, reason, detail + " (" + in.origin + ")",
                in.round >= 0 && in.modelId != null && !in.modelId.isEmpty() ? in.round : null);
    }

    private void emitReject(Collector<Outbound> out, String model, int round, String client, String updateId,
                            RecordKind kind, ReasonCode reason, String detail, Integer countForRound) throws Exception {
        long now = System.currentTimeMillis();
        UpdateRejected rej = ValidationResult.reject(reason, detail)
                .toRejected(model, round, client, updateId, kind, now);
        LOG.warn("rejected {} {}/{} client={} update={}: {} {}", kind, model, round, client, updateId, reason, detail);
        rejectedCounter.inc();
        rejectedByReason.computeIfAbsent(reason.name(),
                k -> getRuntimeContext().getMetricGroup().addGroup("reason", k).counter("recordsRejected")).inc();
        if (countForRound != null && rounds != null && model != null && !model.isEmpty()) {
            Integer c = roundRejects.get(countForRound);
            roundRejects.put(countForRound, c == null ? 1 : c + 1);
        }
        out.collect(new Outbound(Outbound.REJECTED, Topics.roundKey(model == null ? "" : model, round),
                WireCodec.UNBOUNDED.encode(rej)));
    }

    private static String chunkKey(int r, String client, String updateId, int index, String hashHex) {
        return r + "" + SEP + client + SEP + updateId + SEP + index + SEP + hashHex;
    }

    private static byte[] toArray(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] a = new byte[d.remaining()];
        d.get(a);
        return a;
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
                return b == null ? Optional.empty() : Optional.of(new RoundState(decodeRound(b), roundClosed.contains(round)));
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
                        k = SigningPublicKey.fromX509(toArray(e.getSigningPublicKey()));
                    } catch (IllegalArgumentException bad) {
                        LOG.warn("enrollment of {} has an invalid signing key", clientId);
                    }
                    cached = new Object[] {b, e, k};
                    keyCache.put(clientId, cached);
                }
                ClientEnrolled e = (ClientEnrolled) cached[1];
                if (cached[2] == null || e.getRevoked()
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
