package org.fedseal.protocol;

import java.util.List;

/**
 * RFC 9162 inclusion proof (audit path) of leaf {@code leafIndex} (0-based) in the tree of size
 * {@code treeSize}; {@code path} is ordered from the leaf's sibling up to the root's child.
 */
public record InclusionProof(long leafIndex, long treeSize, List<Hash> path) {
    /** Copies the path. */
    public InclusionProof {
        path = List.copyOf(path);
    }
}
