package org.fedseal.protocol;

/**
 * Append-only storage behind a {@link MerkleLog}. Indices are dense and 0-based. Implementations
 * must make an append durable before returning if they claim durability; {@link MerkleLog}
 * serialises calls, so implementations need not be thread-safe for a single log.
 */
public interface LogStore {
    /** Appends an entry with its precomputed leaf hash; returns its index (the previous size). */
    long append(byte[] entry, Hash leafHash);

    /** Number of leaves. */
    long size();

    /** Leaf hash at {@code index}. @throws IndexOutOfBoundsException if absent */
    Hash leafHash(long index);

    /** Entry bytes at {@code index} (a copy). @throws IndexOutOfBoundsException if absent */
    byte[] entry(long index);
}
