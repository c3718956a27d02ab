package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.ChunkSum;
import org.fedseal.protocol.wire.UpdateAccepted;

/**
 * The one builder and verifier of aggregates, for the aggregator job, the registry, the key
 * holders, the combiner and the auditor.
 *
 * <h2>The chunked form</h2>
 * A round's aggregate is a signed manifest ({@link AggregatePublished}: status, participants,
 * total weight, the accepted-update hashes and their RFC 9162 Merkle root, and
 * {@code chunkSumHashes}) plus one {@link AggregateChunkSum} record per chunk, each bound to the
 * manifest by its canonical hash. No record grows with the model, so any model fits Kafka's
 * default 1 MiB record limit, and the chunk sums can be computed on different machines. The
 * manifest's canonical hash ({@link CanonicalHash#of}) commits to every ciphertext of the sum; it
 * is the aggregate's identity in the provenance log. Records of release 0.1 (sums inline in
 * {@code chunkSums}) are still read.
 */
public final class Aggregates {
    private Aggregates() {}

    /**
     * The unsigned manifest of a round from its accepted updates; sign it with
     * {@link Signatures#sign(AggregatePublished, SigningPrivateKey)}.
     *
     * @param chunkSums the round's chunk sums in chunk order (empty unless COMPLETED)
     * @throws ArithmeticException if the accepted weights overflow a long (never for a round whose
     *     updates were bounded by its {@link RoundBounds})
     * @throws IllegalArgumentException if a chunk sum is of another round or out of order
     */
    public static AggregatePublished manifest(
            String modelId,
            int round,
            AggregateStatus status,
            String heParamsId,
            Collection<UpdateAccepted> accepted,
            List<AggregateChunkSum> chunkSums,
            int rejectedCount,
            String aggregatorId,
            long closedAtEpochMillis) {
        List<String> participants = new ArrayList<>();
        List<Hash> hashes = new ArrayList<>();
        long totalWeight = 0;
        for (UpdateAccepted a : accepted) {
            participants.add(a.getClientId());
            hashes.add(Hash.of(a.getUpdateHash()));
            totalWeight = Math.addExact(totalWeight, a.getWeight());
        }
        participants.sort(null);
        List<Hash> sorted = MerkleHashes.sortedUpdateHashes(hashes);
        List<ByteBuffer> chunkHashes = new ArrayList<>();
        for (int i = 0; i < chunkSums.size(); i++) {
            AggregateChunkSum c = chunkSums.get(i);
            if (!c.getModelId().equals(modelId) || c.getRound() != round || c.getChunkIndex() != i) {
                throw new IllegalArgumentException("chunk sum " + c.getModelId() + "/" + c.getRound() + "#"
                        + c.getChunkIndex() + " at position " + i + " of " + modelId + "/" + round);
            }
            chunkHashes.add(CanonicalHash.of(c).toByteBuffer());
        }
        return AggregatePublished.newBuilder()
                .setModelId(modelId)
                .setRound(round)
                .setStatus(status)
                .setChunkSums(List.of())
                .setChunkSumHashes(chunkHashes)
                .setParticipants(participants)
                .setTotalWeight(totalWeight)
                .setAcceptedUpdateHashes(sorted.stream().map(Hash::toByteBuffer).toList())
                .setAcceptedUpdateRoot(MerkleHashes.acceptedUpdateRoot(sorted).toByteBuffer())
                .setAcceptedCount(accepted.size())
                .setRejectedCount(rejectedCount)
                .setHeParamsId(heParamsId)
                .setAggregatorId(aggregatorId)
                .setClosedAtEpochMillis(closedAtEpochMillis)
                .setSignature(ByteBuffer.allocate(0))
                .build();
    }

    /** A chunk sum record bound to the accepted set {@code acceptedUpdateRoot}. */
    public static AggregateChunkSum chunkSum(
            String modelId,
            int round,
            int chunkIndex,
            String heParamsId,
            Hash acceptedUpdateRoot,
            List<byte[]> ciphertexts) {
        return AggregateChunkSum.newBuilder()
                .setModelId(modelId)
                .setRound(round)
                .setChunkIndex(chunkIndex)
                .setHeParamsId(heParamsId)
                .setAcceptedUpdateRoot(acceptedUpdateRoot.toByteBuffer())
                .setCiphertexts(ciphertexts.stream().map(ByteBuffer::wrap).toList())
                .build();
    }

    /** True if the manifest carries its sums as separate {@link AggregateChunkSum} records. */
    public static boolean isChunked(AggregatePublished a) {
        return !a.getChunkSumHashes().isEmpty();
    }

    /** How many chunk sums the aggregate has. */
    public static int chunkCount(AggregatePublished a) {
        return isChunked(a) ? a.getChunkSumHashes().size() : a.getChunkSums().size();
    }

    /** The canonical hash of chunk sum {@code i} named by a chunked manifest. */
    public static Hash chunkSumHash(AggregatePublished a, int i) {
        return Hash.of(a.getChunkSumHashes().get(i));
    }

    /**
     * Checks that {@code c} is chunk sum {@code i} of manifest {@code a}: its canonical hash is
     * the manifest's entry and its model, round, index, parameter set and accepted-update root match.
     *
     * @throws IllegalArgumentException naming the mismatch
     */
    public static void verifyChunk(AggregatePublished a, int i, AggregateChunkSum c) {
        Objects.requireNonNull(c, "chunk sum");
        if (i < 0 || i >= a.getChunkSumHashes().size()) {
            throw new IllegalArgumentException("chunk index " + i + " outside the manifest's "
                    + a.getChunkSumHashes().size());
        }
        if (!chunkSumHash(a, i).equals(CanonicalHash.of(c))) {
            throw new IllegalArgumentException("chunk sum " + i + " of " + a.getModelId() + "/" + a.getRound()
                    + " does not hash to the manifest's entry " + chunkSumHash(a, i));
        }
        if (!c.getModelId().equals(a.getModelId())
                || c.getRound() != a.getRound()
                || c.getChunkIndex() != i
                || !c.getHeParamsId().equals(a.getHeParamsId())
                || !c.getAcceptedUpdateRoot().equals(a.getAcceptedUpdateRoot())) {
            throw new IllegalArgumentException(
                    "chunk sum " + i + " belongs to another aggregate than " + a.getModelId() + "/" + a.getRound());
        }
    }

    /** Where the chunk sums of a manifest come from (the registry's blobs, a topic, memory). */
    @FunctionalInterface
    public interface ChunkSource {
        /** The chunk sum with this canonical hash; may throw if it is unavailable. */
        AggregateChunkSum get(Hash chunkSumHash);
    }

    /** For aggregates that carry their sums inline (release 0.1): a chunked one is refused. */
    public static final ChunkSource INLINE = h -> {
        throw new IllegalArgumentException("the aggregate is chunked: its chunk sums are needed (chunk sum " + h + ")");
    };

    /** A source over chunk sums in memory, by canonical hash. */
    public static ChunkSource of(Collection<AggregateChunkSum> chunkSums) {
        java.util.Map<Hash, AggregateChunkSum> byHash = new java.util.HashMap<>();
        for (AggregateChunkSum c : chunkSums) {
            byHash.put(CanonicalHash.of(c), c);
        }
        return h -> {
            AggregateChunkSum c = byHash.get(h);
            if (c == null) {
                throw new IllegalArgumentException("no chunk sum " + h);
            }
            return c;
        };
    }

    /**
     * Every summed ciphertext of the aggregate in layout order, each chunk verified against the
     * manifest ({@link #verifyChunk}); inline (0.1) aggregates need no source.
     *
     * @throws IllegalArgumentException if a chunk sum does not match its manifest
     */
    public static List<byte[]> ciphertexts(AggregatePublished a, ChunkSource source) {
        List<byte[]> out = new ArrayList<>();
        if (!isChunked(a)) {
            for (ChunkSum c : a.getChunkSums()) {
                c.getCiphertexts().forEach(b -> out.add(Bytes.toArray(b)));
            }
            return out;
        }
        for (int i = 0; i < a.getChunkSumHashes().size(); i++) {
            AggregateChunkSum c = source.get(chunkSumHash(a, i));
            verifyChunk(a, i, c);
            c.getCiphertexts().forEach(b -> out.add(Bytes.toArray(b)));
        }
        return out;
    }
}
