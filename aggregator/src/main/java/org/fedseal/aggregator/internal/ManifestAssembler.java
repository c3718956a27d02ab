package org.fedseal.aggregator.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.fedseal.aggregator.AggregatorConfig;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.Topics;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.AggregatePublished;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keyed by (model, round): waits for the round's unsigned manifest from the bookkeeping and the
 * hash of every chunk sum from the summing stage, then signs the manifest (with the chunk-sum
 * hashes in chunk order) and publishes it. Only then is the aggregate complete: a crash between
 * the chunk sums and the manifest replays both from the last checkpoint, and Kafka transactions
 * make each visible once.
 */
public final class ManifestAssembler extends KeyedProcessFunction<String, ManifestPart, Outbound> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ManifestAssembler.class);

    private final AggregatorConfig config;
    private transient ValueState<byte[]> draft;
    private transient ValueState<Integer> expected;
    private transient MapState<Integer, byte[]> chunkSumHashes;
    private transient SigningPrivateKey signingKey;
    private transient boolean failOnce;

    public ManifestAssembler(AggregatorConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext openContext) {
        var rc = getRuntimeContext();
        draft = rc.getState(new ValueStateDescriptor<>("draft", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        expected = rc.getState(new ValueStateDescriptor<>("expected", Types.INT));
        chunkSumHashes = rc.getMapState(new MapStateDescriptor<>(
                "chunkSumHashes", Types.INT, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        signingKey = SigningPrivateKey.importPkcs8(config.signingKeyPkcs8());
        failOnce = config.testFailBeforeManifest() && rc.getTaskInfo().getAttemptNumber() == 0;
    }

    @Override
    public void processElement(ManifestPart p, Context ctx, Collector<Outbound> out) throws Exception {
        if (p.kind == ManifestPart.DRAFT) {
            draft.update(p.value);
            expected.update(p.chunkIndex);
        } else {
            chunkSumHashes.put(p.chunkIndex, p.value);
        }
        Integer n = expected.value();
        if (n == null) {
            return;
        }
        List<ByteBuffer> hashes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] h = chunkSumHashes.get(i);
            if (h == null) {
                return; // a chunk sum is still being formed
            }
            hashes.add(ByteBuffer.wrap(h));
        }
        if (failOnce) {
            failOnce = false;
            FailureInjector.INJECTED.incrementAndGet();
            throw new IllegalStateException(
                    "injected failure between the chunk sums and the manifest (test.fail.before.manifest)");
        }
        AggregatePublished manifest = AggregatePublished.newBuilder(
                        WireCodec.UNBOUNDED.decode(draft.value(), AggregatePublished.class))
                .setChunkSumHashes(hashes)
                .setSignature(ByteBuffer.allocate(0))
                .build();
        AggregatePublished signed = Signatures.sign(manifest, signingKey);
        out.collect(new Outbound(
                Outbound.AGGREGATE, Topics.roundKey(p.modelId, p.round), WireCodec.UNBOUNDED.encode(signed)));
        LOG.info("aggregate of {}/{} published: {}, {} chunk sums", p.modelId, p.round, signed.getStatus(), n);
        draft.clear();
        expected.clear();
        chunkSumHashes.clear();
    }
}
