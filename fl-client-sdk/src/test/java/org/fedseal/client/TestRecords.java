package org.fedseal.client;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.he.HeParameters;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.RoundBounds;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.ChunkSum;
import org.fedseal.protocol.wire.RoundOpened;

final class TestRecords {
    private TestRecords() {}

    static RoundOpened round(
            String modelId,
            int round,
            Hash base,
            String heParamsId,
            Hash publicKey,
            ChunkLayout layout,
            long deadline) {
        double headroom =
                HeParameters.byId(heParamsId).orElse(HeParameters.CKKS_8192).maxSumNorm(); // unknown ids are tested too
        return RoundBounds.loosest(headroom, 10.0)
                .applyTo(RoundOpened.newBuilder())
                .setModelId(modelId)
                .setRound(round)
                .setBaseModelHash(base.toByteBuffer())
                .setHeParamsId(heParamsId)
                .setPublicKeyHash(publicKey.toByteBuffer())
                .setQuorum(1)
                .setDeadlineEpochMillis(deadline)
                .setChunkLayout(layout)
                .setLocalEpochs(1)
                .setOpenedAtEpochMillis(0L)
                .build();
    }

    /** An unsigned COMPLETED aggregate over per-ciphertext sums grouped into chunks per the layout. */
    static AggregatePublished aggregate(
            String modelId,
            int round,
            String heParamsId,
            ChunkLayout layout,
            List<byte[]> summedCiphertexts,
            long totalWeight,
            int participants) {
        List<ChunkSum> sums = new ArrayList<>();
        int per = layout.getCiphertextsPerChunk();
        for (int c = 0; c < layout.getChunkCount(); c++) {
            List<ByteBuffer> cts = new ArrayList<>();
            for (int i = c * per; i < Math.min(summedCiphertexts.size(), (c + 1) * per); i++) {
                cts.add(ByteBuffer.wrap(summedCiphertexts.get(i)));
            }
            sums.add(ChunkSum.newBuilder().setChunkIndex(c).setCiphertexts(cts).build());
        }
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < participants; i++) {
            ids.add("client-" + i);
        }
        return AggregatePublished.newBuilder()
                .setModelId(modelId)
                .setRound(round)
                .setStatus(AggregateStatus.COMPLETED)
                .setChunkSums(sums)
                .setParticipants(ids)
                .setTotalWeight(totalWeight)
                .setAcceptedUpdateHashes(List.of())
                .setAcceptedUpdateRoot(ByteBuffer.allocate(32))
                .setAcceptedCount(participants)
                .setRejectedCount(0)
                .setHeParamsId(heParamsId)
                .setAggregatorId("test")
                .setClosedAtEpochMillis(0L)
                .setSignature(ByteBuffer.allocate(0))
                .build();
    }
}
