package org.fedseal.protocol;

import java.util.List;

/** RFC 9162 consistency proof between the tree of size {@code size1} and the tree of size {@code size2}. */
public record ConsistencyProof(long size1, long size2, List<Hash> path) {
    /** Copies the path. */
    public ConsistencyProof {
        path = List.copyOf(path);
    }
}
