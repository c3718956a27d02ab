package org.fedseal.aggregator.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.fedseal.aggregator.AggregatorConfig;
import org.fedseal.he.CiphertextSums;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.he.RunningSum;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateEnvelope;

/**
 * The summing stage: keyed by shard ({@link ShardKeys}), so one round's chunks are summed on every
 * subtask. It buffers the chunks the pre-validation sends it (as the raw Kafka bytes, never
 * re-serialized), folds a chunk into its running sum when the round's bookkeeping says the
 * update was accepted ({@link SumDecision#FOLD}; the two may arrive in either order), drops what
 * the bookkeeping refused, and on {@link SumDecision#CLOSE} publishes the chunk's sum as an
 * {@code AggregateChunkSum} record and its hash to the manifest assembler.
 *
 * <p>It holds ciphertexts and no round rules: it never decides what counts.
 */
public final class ChunkSummer extends KeyedCoProcessFunction<Integer, ChunkPayload, SumDecision, Outbound> {
    private static final long serialVersionUID = 1L;
    private static final char SEP = SumDecision.SEP;
    /** The hashes of published chunk sums, for the manifest assembler. */
    public static final OutputTag<ManifestPart> CHUNK_SUMS =
            new OutputTag<>("chunk-sums", TypeInformation.of(ManifestPart.class));

    private final AggregatorConfig config;

    /** payload key → the chunk's record bytes, until a FOLD or DROP. */
    private transient MapState<String, byte[]> buffered;
    /** payload key → the round's parameter set id: a FOLD that came before its chunk. */
    private transient MapState<String, String> pendingFolds;
    /** chunk key + index within the chunk → running sum of that ciphertext. */
    private transient MapState<String, byte[]> sums;
    /** chunk key → updates folded so far. */
    private transient MapState<String, Integer> folded;
    /** chunk key → its CLOSE, until the sum holds every accepted update. */
    private transient MapState<String, SumDecision> closing;
    /** chunk key → true once published or discarded: late chunks are not buffered. */
    private transient MapState<String, Boolean> closed;

    private transient Map<String, HeContext> contexts;
    /**
     * sum key → the running sum as a live native vector, always equal to {@link #sums}: a fold then
     * loads only the addend. Empty after a restore; filled from state on first use.
     */
    private transient Map<String, RunningSum> live;

    private transient Counter chunkSumsPublished;
    private transient Counter bytesFolded;

    public ChunkSummer(AggregatorConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext openContext) {
        TypeInformation<byte[]> bytes = PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
        var rc = getRuntimeContext();
        buffered = rc.getMapState(new MapStateDescriptor<>("buffered", Types.STRING, bytes));
        pendingFolds = rc.getMapState(new MapStateDescriptor<>("pendingFolds", Types.STRING, Types.STRING));
        sums = rc.getMapState(new MapStateDescriptor<>("sums", Types.STRING, bytes));
        folded = rc.getMapState(new MapStateDescriptor<>("folded", Types.STRING, Types.INT));
        closing = rc.getMapState(
                new MapStateDescriptor<>("closing", Types.STRING, TypeInformation.of(SumDecision.class)));
        closed = rc.getMapState(new MapStateDescriptor<>("closed", Types.STRING, Types.BOOLEAN));
        live = new java.util.HashMap<>();
        contexts = new java.util.HashMap<>();
        for (String id : config.heParamsIds()) {
            contexts.put(id, HeContext.create(HeParameters.byId(id).orElseThrow()));
        }
        chunkSumsPublished = rc.getMetricGroup().counter("chunkSumsPublished");
        bytesFolded = rc.getMetricGroup().counter("ciphertextBytesFolded");
    }

    @Override
    public void close() {
        if (live != null) {
            live.values().forEach(RunningSum::close);
        }
        if (contexts != null) {
            contexts.values().forEach(HeContext::close);
        }
    }

    @Override
    public void processElement1(ChunkPayload p, Context ctx, Collector<Outbound> out) throws Exception {
        String ck = SumDecision.chunkKey(p.modelId, p.round, p.chunkIndex);
        if (closed.contains(ck)) {
            return; // late: the bookkeeping gives it its verdict
        }
        String pk = p.stateKey();
        String params = pendingFolds.get(pk);
        if (params != null) {
            pendingFolds.remove(pk);
            fold(ck, params, p.value);
            tryPublish(ck, ctx, out);
        } else {
            buffered.put(pk, p.value);
        }
    }

    @Override
    public void processElement2(SumDecision d, Context ctx, Collector<Outbound> out) throws Exception {
        String ck = SumDecision.chunkKey(d.modelId, d.round, d.chunkIndex);
        switch (d.kind) {
            case SumDecision.FOLD -> {
                String pk = d.payloadKey();
                byte[] value = buffered.get(pk);
                if (value == null) {
                    pendingFolds.put(pk, d.heParamsId);
                } else {
                    buffered.remove(pk);
                    fold(ck, d.heParamsId, value);
                    tryPublish(ck, ctx, out);
                }
            }
            case SumDecision.DROP -> buffered.remove(d.payloadKey());
            case SumDecision.CLOSE -> {
                closing.put(ck, d);
                tryPublish(ck, ctx, out);
            }
            default -> throw new IllegalStateException("unknown decision " + d.kind);
        }
    }

    /** Adds every ciphertext of the chunk record {@code value} into the chunk's running sums. */
    private void fold(String ck, String heParamsId, byte[] value) throws Exception {
        UpdateChunk chunk = (UpdateChunk)
                WireCodec.UNBOUNDED.decode(value, UpdateEnvelope.class).getPayload();
        HeContext he = contexts.get(heParamsId);
        List<ByteBuffer> cts = chunk.getCiphertexts();
        try {
            for (int j = 0; j < cts.size(); j++) {
                String sk = ck + SEP + j;
                ByteBuffer ct = cts.get(j);
                RunningSum sum = live.get(sk);
                if (sum == null && sums.contains(sk)) {
                    sum = CiphertextSums.startPrevalidated(he, ByteBuffer.wrap(sums.get(sk)));
                    live.put(sk, sum);
                }
                bytesFolded.inc(ct.remaining());
                // the pre-validation loaded these bytes with SEAL's validating loader (or range-checked a masked block)
                if (sum == null) {
                    sum = CiphertextSums.startPrevalidated(he, ct);
                    live.put(sk, sum);
                } else {
                    sum.addPrevalidated(ct);
                }
                sums.put(sk, sum.toBytes());
            }
        } catch (MalformedHeDataException | IllegalArgumentException e) {
            // the bookkeeping checked parameter set, packing and lengths against the pre-validation's load
            throw new IllegalStateException(
                    "an accepted chunk does not add to " + ck.replace(SEP, '/') + ": " + e.getMessage(), e);
        }
        Integer n = folded.get(ck);
        folded.put(ck, n == null ? 1 : n + 1);
    }

    private void tryPublish(String ck, Context ctx, Collector<Outbound> out) throws Exception {
        SumDecision d = closing.get(ck);
        if (d == null) {
            return;
        }
        if (d.expectedFolds >= 0) {
            Integer n = folded.get(ck);
            if ((n == null ? 0 : n) < d.expectedFolds) {
                return; // an accepted chunk is still on its way
            }
            List<byte[]> cts = new ArrayList<>();
            for (int j = 0; sums.contains(ck + SEP + j); j++) {
                cts.add(sums.get(ck + SEP + j));
            }
            AggregateChunkSum sum = Aggregates.chunkSum(
                    d.modelId, d.round, d.chunkIndex, d.heParamsId, Hash.of(d.acceptedUpdateRoot), cts);
            out.collect(new Outbound(
                    Outbound.AGGREGATE_CHUNK, Topics.roundKey(d.modelId, d.round), WireCodec.UNBOUNDED.encode(sum)));
            ctx.output(
                    CHUNK_SUMS,
                    ManifestPart.of(
                            ManifestPart.CHUNK_SUM,
                            d.modelId,
                            d.round,
                            d.chunkIndex,
                            CanonicalHash.of(sum).bytes()));
            chunkSumsPublished.inc();
        }
        discard(ck);
    }

    /** Frees everything of one chunk index of a round and remembers that it is closed. */
    private void discard(String ck) throws Exception {
        for (int j = 0; sums.contains(ck + SEP + j); j++) {
            sums.remove(ck + SEP + j);
            RunningSum v = live.remove(ck + SEP + j);
            if (v != null) {
                v.close();
            }
        }
        folded.remove(ck);
        closing.remove(ck);
        String prefix = ck + SEP;
        for (MapState<String, ?> s : List.<MapState<String, ?>>of(buffered, pendingFolds)) {
            List<String> keys = new ArrayList<>();
            for (String k : s.keys()) {
                if (k.startsWith(prefix)) {
                    keys.add(k);
                }
            }
            for (String k : keys) {
                s.remove(k);
            }
        }
        closed.put(ck, true);
    }
}
