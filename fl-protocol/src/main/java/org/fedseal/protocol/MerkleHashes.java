package org.fedseal.protocol;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.fedseal.protocol.internal.TreeMath;

/**
 * RFC 9162 / RFC 6962 tree hashing with SHA-256: leaf hash {@code SHA-256(0x00 || entry)}, node hash
 * {@code SHA-256(0x01 || left || right)}, empty tree hash {@code SHA-256("")}, and the Merkle Tree Hash
 * (MTH) of RFC 6962 §2.1 (split at the largest power of two smaller than n).
 */
public final class MerkleHashes {
    private static final byte[] LEAF_PREFIX = {0x00};
    private static final Hash EMPTY = Hash.sha256(new byte[0]);

    private MerkleHashes() {}

    /** SHA-256 of the empty string: the root of an empty tree. */
    public static Hash emptyRoot() {
        return EMPTY;
    }

    /** {@code SHA-256(0x00 || entry)}. */
    public static Hash leafHash(byte[] entry) {
        return Hash.sha256(LEAF_PREFIX, Objects.requireNonNull(entry, "entry"));
    }

    /** {@code SHA-256(0x01 || left || right)}. */
    public static Hash nodeHash(Hash left, Hash right) {
        return TreeMath.nodeHash(left, right);
    }

    /** MTH over the given leaf hashes (not entries). */
    public static Hash rootOfLeafHashes(List<Hash> leafHashes) {
        if (leafHashes.isEmpty()) {
            return EMPTY;
        }
        return TreeMath.rangeHash(listHasher(leafHashes), 0, leafHashes.size());
    }

    /** MTH over the given entries. */
    public static Hash rootOfEntries(List<byte[]> entries) {
        List<Hash> leaves = new ArrayList<>(entries.size());
        for (byte[] e : entries) {
            leaves.add(leafHash(e));
        }
        return rootOfLeafHashes(leaves);
    }

    /** RFC 6962 §2.1.1 inclusion proof for leaf {@code index} in the tree of the given leaf hashes. */
    public static InclusionProof inclusionProof(List<Hash> leafHashes, long index) {
        return TreeMath.inclusionProof(listHasher(leafHashes), index, leafHashes.size());
    }

    /** RFC 6962 §2.1.2 consistency proof between the first {@code size1} leaves and all of {@code leafHashes}. */
    public static ConsistencyProof consistencyProof(List<Hash> leafHashes, long size1) {
        return TreeMath.consistencyProof(listHasher(leafHashes), size1, leafHashes.size());
    }

    /** The accepted update hashes in canonical (unsigned lexicographic, duplicates removed) order. */
    public static List<Hash> sortedUpdateHashes(Collection<Hash> updateHashes) {
        return updateHashes.stream().distinct().sorted().toList();
    }

    /**
     * The {@code acceptedUpdateRoot} of an aggregate: MTH over the update hashes in
     * {@linkplain #sortedUpdateHashes sorted order}, each hash's 32 bytes being one leaf entry.
     */
    public static Hash acceptedUpdateRoot(Collection<Hash> updateHashes) {
        List<Hash> sorted = sortedUpdateHashes(updateHashes);
        List<Hash> leaves = new ArrayList<>(sorted.size());
        for (Hash h : sorted) {
            leaves.add(leafHash(h.raw()));
        }
        return rootOfLeafHashes(leaves);
    }

    private static TreeMath.RangeHasher listHasher(List<Hash> leafHashes) {
        return new TreeMath.RangeHasher() {
            @Override
            public Hash leaf(long index) {
                return leafHashes.get(Math.toIntExact(index));
            }
        };
    }
}
