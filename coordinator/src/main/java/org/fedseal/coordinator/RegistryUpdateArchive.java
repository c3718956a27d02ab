package org.fedseal.coordinator;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregateChunkSum;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;
import org.fedseal.registry.RegistryClient;
import org.fedseal.registry.RegistryException;

/**
 * The registry's archive of accepted updates and of aggregates' chunk sums, for key holders (the
 * threshold holders' re-sum check; decrypting a chunked aggregate) and the combiner. Every
 * commit, chunk and chunk sum is checked against its content hash, so the registry need not be
 * trusted. The registry archives from Kafka on its own schedule: a missing blob is waited for
 * briefly. {@code archive::chunkSum} is an {@code Aggregates.ChunkSource}.
 */
public final class RegistryUpdateArchive implements ThresholdKeyHolder.UpdateArchive {
    private static final WireCodec CODEC = WireCodec.withMaxRecordBytes(64 << 20);
    private final RegistryClient registry;
    private final Duration wait;

    /** @param wait how long to wait for an update the registry has not archived yet */
    public RegistryUpdateArchive(RegistryClient registry, Duration wait) {
        this.registry = registry;
        this.wait = wait;
    }

    @Override
    public List<byte[]> ciphertexts(Hash updateHash) {
        UpdateCommit commit = fetch(updateHash, UpdateCommit.class);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < commit.getChunkCount(); i++) {
            UpdateChunk chunk = fetch(Hash.of(commit.getChunkHashes().get(i)), UpdateChunk.class);
            if (chunk.getChunkIndex() != i) {
                throw new IllegalStateException(
                        "archived chunk " + i + " of update " + updateHash + " claims index " + chunk.getChunkIndex());
            }
            for (ByteBuffer b : chunk.getCiphertexts()) {
                byte[] bytes = new byte[b.remaining()];
                b.duplicate().get(bytes);
                out.add(bytes);
            }
        }
        return out;
    }

    @Override
    public AggregateChunkSum chunkSum(Hash chunkSumHash) {
        return fetch(chunkSumHash, AggregateChunkSum.class);
    }

    private <T extends org.apache.avro.specific.SpecificRecord> T fetch(Hash hash, Class<T> type) {
        long end = System.nanoTime() + wait.toNanos();
        while (true) {
            try {
                T record = CODEC.decode(registry.blob(hash), type);
                if (!CanonicalHash.of(record).equals(hash)) {
                    throw new IllegalStateException("archived " + type.getSimpleName() + " does not hash to " + hash);
                }
                return record;
            } catch (RegistryException e) {
                if (System.nanoTime() > end) {
                    throw new IllegalStateException(
                            type.getSimpleName() + " " + hash + " is not archived: " + e.getMessage());
                }
                sleep();
            } catch (WireFormatException e) {
                throw new IllegalStateException(
                        "archived " + type.getSimpleName() + " " + hash + " is malformed: " + e.getMessage());
            }
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the archive");
        }
    }
}
