package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.fedseal.protocol.wire.ChunkLayout;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.protocol.wire.UpdateEnvelope;

/**
 * Cuts a client update (one serialized he-native ciphertext per {@code byte[]}) into
 * {@link UpdateChunk}s per a {@link ChunkLayout}, builds the signed {@link UpdateCommit}, and puts
 * committed updates back together. Chunk i always holds ciphertexts
 * {@code [i*ciphertextsPerChunk, min((i+1)*ciphertextsPerChunk, ciphertextCount))}, so every client's
 * chunk i can be summed with every other client's chunk i.
 */
public final class Chunker {
    /** Most ciphertexts a layout may hold after its value ciphertexts (a compact round's masking key). */
    public static final int MAX_KEY_CIPHERTEXTS = 1;

    /** Default limit for one Kafka record (value + key + record overhead): 1 MiB. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1 << 20;

    /**
     * Bytes reserved per record for everything but the ciphertexts: Kafka record and batch
     * overhead, the key, ids and Avro framing (ids are limited to {@link ValidationLimits#maxIdLength()}).
     */
    public static final int RECORD_OVERHEAD_BYTES = 8 * 1024;

    /** Bytes allowed for the Kafka key and record/batch overhead on top of the encoded envelope in {@link #split}. */
    public static final int KAFKA_OVERHEAD_BYTES = 1024;

    private Chunker() {}

    /** A signed update ready to produce: its chunks (in index order) and its commit. */
    public record PreparedUpdate(List<UpdateChunk> chunks, UpdateCommit commit) {
        /** Copies the list. */
        public PreparedUpdate {
            chunks = List.copyOf(chunks);
        }
    }

    /**
     * A consistent layout for {@code totalValues} values, {@code valuesPerCiphertext} per ciphertext
     * and {@code ciphertextsPerChunk} ciphertexts per chunk.
     */
    public static ChunkLayout layout(long totalValues, int valuesPerCiphertext, int ciphertextsPerChunk) {
        return layout(totalValues, valuesPerCiphertext, ciphertextsPerChunk, 0);
    }

    /**
     * A consistent layout whose value ciphertexts are followed by {@code keyCiphertexts} more (the
     * masking key of a compact round, see {@link CompactRounds}): {@code ciphertextCount} counts
     * both, so the layout itself says how many key ciphertexts it holds ({@link #keyCiphertexts}).
     */
    public static ChunkLayout layout(
            long totalValues, int valuesPerCiphertext, int ciphertextsPerChunk, int keyCiphertexts) {
        if (totalValues <= 0
                || valuesPerCiphertext <= 0
                || ciphertextsPerChunk <= 0
                || keyCiphertexts < 0
                || keyCiphertexts > MAX_KEY_CIPHERTEXTS) {
            throw new IllegalArgumentException("layout parameters must be positive");
        }
        long ctCount = ceilDiv(totalValues, valuesPerCiphertext) + keyCiphertexts;
        long chunkCount = ceilDiv(ctCount, ciphertextsPerChunk);
        return ChunkLayout.newBuilder()
                .setTotalValues(totalValues)
                .setValuesPerCiphertext(valuesPerCiphertext)
                .setCiphertextCount(Math.toIntExact(ctCount))
                .setCiphertextsPerChunk(ciphertextsPerChunk)
                .setChunkCount(Math.toIntExact(chunkCount))
                .build();
    }

    /**
     * The largest ciphertexts-per-chunk such that a chunk of ciphertexts of at most
     * {@code maxCiphertextBytes} each stays within {@code maxRecordBytes} including
     * {@link #RECORD_OVERHEAD_BYTES}.
     *
     * @throws IllegalArgumentException if not even one ciphertext fits
     */
    public static int ciphertextsPerChunk(int maxCiphertextBytes, int maxRecordBytes) {
        long perCt = maxCiphertextBytes + 5L; // + Avro length prefix
        long k = (maxRecordBytes - (long) RECORD_OVERHEAD_BYTES) / perCt;
        if (maxCiphertextBytes <= 0 || k < 1) {
            throw new IllegalArgumentException("a ciphertext of " + maxCiphertextBytes
                    + " bytes does not fit a record of " + maxRecordBytes + " bytes");
        }
        return (int) Math.min(k, Integer.MAX_VALUE);
    }

    /** A layout for these ciphertexts with the largest chunks that fit {@code maxRecordBytes}. */
    public static ChunkLayout layoutFor(
            List<byte[]> ciphertexts, long totalValues, int valuesPerCiphertext, int maxRecordBytes) {
        int max = 0;
        for (byte[] c : ciphertexts) {
            max = Math.max(max, c.length);
        }
        ChunkLayout l = layout(totalValues, valuesPerCiphertext, ciphertextsPerChunk(max, maxRecordBytes));
        if (l.getCiphertextCount() != ciphertexts.size()) {
            throw new IllegalArgumentException(ciphertexts.size() + " ciphertexts, but " + totalValues + " values at "
                    + valuesPerCiphertext + " per ciphertext need " + l.getCiphertextCount());
        }
        return l;
    }

    /** True if the layout's derived counts agree with its inputs. */
    public static boolean isConsistent(ChunkLayout l) {
        return l != null
                && l.getTotalValues() > 0
                && l.getValuesPerCiphertext() > 0
                && l.getCiphertextsPerChunk() > 0
                && l.getCiphertextCount() - ceilDiv(l.getTotalValues(), l.getValuesPerCiphertext()) >= 0
                && l.getCiphertextCount() - ceilDiv(l.getTotalValues(), l.getValuesPerCiphertext())
                        <= MAX_KEY_CIPHERTEXTS
                && l.getChunkCount() == ceilDiv(l.getCiphertextCount(), l.getCiphertextsPerChunk());
    }

    /** The ciphertexts that carry values: {@code ceil(totalValues / valuesPerCiphertext)}. */
    public static int valueCiphertexts(ChunkLayout l) {
        return Math.toIntExact(ceilDiv(l.getTotalValues(), l.getValuesPerCiphertext()));
    }

    /** The ciphertexts after the value ciphertexts: the masking key of a compact round (1), else 0. */
    public static int keyCiphertexts(ChunkLayout l) {
        return l.getCiphertextCount() - valueCiphertexts(l);
    }

    /** Number of ciphertexts chunk {@code chunkIndex} holds under {@code l}; 0 if the index is out of range. */
    public static int ciphertextsInChunk(ChunkLayout l, int chunkIndex) {
        if (chunkIndex < 0 || chunkIndex >= l.getChunkCount()) {
            return 0;
        }
        long start = (long) chunkIndex * l.getCiphertextsPerChunk();
        return (int) Math.min(l.getCiphertextsPerChunk(), l.getCiphertextCount() - start);
    }

    /**
     * Splits {@code ciphertexts} into chunks per {@code layout}.
     *
     * @throws IllegalArgumentException if the count does not match the layout
     * @throws RecordTooLargeException if a chunk's encoded {@link UpdateEnvelope} plus
     *     {@link #KAFKA_OVERHEAD_BYTES} would exceed {@code maxRecordBytes}
     */
    public static List<UpdateChunk> split(
            String clientId,
            String modelId,
            int round,
            String updateId,
            List<byte[]> ciphertexts,
            ChunkLayout layout,
            int maxRecordBytes) {
        Objects.requireNonNull(ciphertexts, "ciphertexts");
        if (!isConsistent(layout)) {
            throw new IllegalArgumentException("inconsistent chunk layout " + layout);
        }
        if (ciphertexts.size() != layout.getCiphertextCount()) {
            throw new IllegalArgumentException(
                    "layout expects " + layout.getCiphertextCount() + " ciphertexts, got " + ciphertexts.size());
        }
        List<UpdateChunk> out = new ArrayList<>(layout.getChunkCount());
        int per = layout.getCiphertextsPerChunk();
        for (int i = 0; i < layout.getChunkCount(); i++) {
            int from = i * per;
            int to = Math.min(from + per, ciphertexts.size());
            List<ByteBuffer> cts = new ArrayList<>(to - from);
            for (byte[] c : ciphertexts.subList(from, to)) {
                cts.add(ByteBuffer.wrap(c.clone()));
            }
            UpdateChunk chunk = UpdateChunk.newBuilder()
                    .setClientId(clientId)
                    .setModelId(modelId)
                    .setRound(round)
                    .setUpdateId(updateId)
                    .setChunkIndex(i)
                    .setCiphertexts(cts)
                    .build();
            long size = (long) WireCodec.encodedSize(new UpdateEnvelope(chunk)) + KAFKA_OVERHEAD_BYTES;
            if (size > maxRecordBytes) {
                throw new RecordTooLargeException("UpdateChunk " + i, size, maxRecordBytes);
            }
            out.add(chunk);
        }
        return out;
    }

    /** The unsigned commit for these chunks (signature empty, chunk hashes filled in). */
    public static UpdateCommit commitFor(
            List<UpdateChunk> chunks, String heParamsId, Hash baseModelHash, long weight, long createdAtEpochMillis) {
        if (chunks.isEmpty()) {
            throw new IllegalArgumentException("an update has at least one chunk");
        }
        UpdateChunk first = chunks.get(0);
        List<ByteBuffer> hashes = new ArrayList<>(chunks.size());
        for (int i = 0; i < chunks.size(); i++) {
            UpdateChunk c = chunks.get(i);
            if (c.getChunkIndex() != i) {
                throw new IllegalArgumentException(
                        "chunks must be in index order; position " + i + " has index " + c.getChunkIndex());
            }
            hashes.add(CanonicalHash.of(c).toByteBuffer());
        }
        return UpdateCommit.newBuilder()
                .setClientId(first.getClientId())
                .setModelId(first.getModelId())
                .setRound(first.getRound())
                .setUpdateId(first.getUpdateId())
                .setHeParamsId(heParamsId)
                .setBaseModelHash(baseModelHash.toByteBuffer())
                .setChunkCount(chunks.size())
                .setChunkHashes(hashes)
                .setWeight(weight)
                .setCreatedAtEpochMillis(createdAtEpochMillis)
                .setSignature(ByteBuffer.allocate(0))
                .build();
    }

    /**
     * Splits, hashes and signs a whole update for the round described by {@code round}'s fields.
     *
     * @param ciphertexts one serialized ciphertext per element, in layout order
     */
    public static PreparedUpdate prepare(
            String clientId,
            org.fedseal.protocol.wire.RoundOpened round,
            String updateId,
            List<byte[]> ciphertexts,
            long weight,
            long createdAtEpochMillis,
            SigningPrivateKey clientKey,
            int maxRecordBytes) {
        List<UpdateChunk> chunks = split(
                clientId,
                round.getModelId(),
                round.getRound(),
                updateId,
                ciphertexts,
                round.getChunkLayout(),
                maxRecordBytes);
        UpdateCommit commit = commitFor(
                chunks, round.getHeParamsId(), Hash.of(round.getBaseModelHash()), weight, createdAtEpochMillis);
        return new PreparedUpdate(chunks, Signatures.sign(commit, clientKey));
    }

    /**
     * The ciphertexts of a complete update, in layout order. Does not validate: run
     * {@link UpdateValidator#validateComplete} first.
     *
     * @param chunks the update's chunks in any order
     */
    public static List<byte[]> reassemble(List<UpdateChunk> chunks) {
        List<UpdateChunk> sorted = new ArrayList<>(chunks);
        sorted.sort((a, b) -> Integer.compare(a.getChunkIndex(), b.getChunkIndex()));
        List<byte[]> out = new ArrayList<>();
        for (UpdateChunk c : sorted) {
            for (ByteBuffer b : c.getCiphertexts()) {
                out.add(Bytes.toArray(b));
            }
        }
        return Collections.unmodifiableList(out);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
