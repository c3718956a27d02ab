package org.fedseal.protocol.internal;

import java.util.ArrayList;
import java.util.List;
import org.fedseal.protocol.ConsistencyProof;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.InclusionProof;

/** RFC 6962 §2.1 tree algorithms over an abstract source of subtree hashes. Not API. */
public final class TreeMath {
    private static final byte[] NODE_PREFIX = {0x01};

    private TreeMath() {}

    /** RFC 6962 §2.1 interior node: {@code SHA-256(0x01 || left || right)} (public as {@code MerkleHashes.nodeHash}). */
    public static Hash nodeHash(Hash left, Hash right) {
        return Hash.sha256(NODE_PREFIX, left.bytes(), right.bytes());
    }

    /** Source of leaf hashes, optionally with cached hashes of perfect aligned subtrees. */
    public interface RangeHasher {
        /** Leaf hash at {@code index}. */
        Hash leaf(long index);

        /**
         * Hash of the perfect subtree of height {@code level} starting at leaf {@code index << level},
         * or null if not cached (then it is computed from the leaves).
         */
        default Hash perfect(int level, long index) {
            return null;
        }
    }

    /** Largest power of two strictly smaller than {@code n} (n &gt;= 2). */
    public static long splitPoint(long n) {
        return Long.highestOneBit(n - 1);
    }

    /** MTH of leaves [lo, hi), hi &gt; lo, with lo aligned as in the RFC recursion. */
    public static Hash rangeHash(RangeHasher h, long lo, long hi) {
        long n = hi - lo;
        if (n == 1) {
            return h.leaf(lo);
        }
        if (Long.bitCount(n) == 1 && lo % n == 0) {
            int level = Long.numberOfTrailingZeros(n);
            Hash cached = h.perfect(level, lo >>> level);
            if (cached != null) {
                return cached;
            }
        }
        long k = splitPoint(n);
        return nodeHash(rangeHash(h, lo, lo + k), rangeHash(h, lo + k, hi));
    }

    /** RFC 6962 §2.1.1 PATH(m, D[0:n]). */
    public static InclusionProof inclusionProof(RangeHasher h, long m, long n) {
        if (m < 0 || m >= n) {
            throw new IllegalArgumentException("leaf index " + m + " not in a tree of size " + n);
        }
        List<Hash> path = new ArrayList<>();
        path(h, m, 0, n, path);
        return new InclusionProof(m, n, path);
    }

    private static void path(RangeHasher h, long m, long lo, long hi, List<Hash> out) {
        long n = hi - lo;
        if (n == 1) {
            return;
        }
        long k = splitPoint(n);
        if (m < k) {
            path(h, m, lo, lo + k, out);
            out.add(rangeHash(h, lo + k, hi));
        } else {
            path(h, m - k, lo + k, hi, out);
            out.add(rangeHash(h, lo, lo + k));
        }
    }

    /** RFC 6962 §2.1.2 PROOF(m, D[0:n]); empty when m == n or m == 0. */
    public static ConsistencyProof consistencyProof(RangeHasher h, long m, long n) {
        if (m < 0 || m > n) {
            throw new IllegalArgumentException("cannot prove size " + m + " consistent with size " + n);
        }
        List<Hash> path = new ArrayList<>();
        if (m > 0 && m < n) {
            subproof(h, m, 0, n, true, path);
        }
        return new ConsistencyProof(m, n, path);
    }

    private static void subproof(RangeHasher h, long m, long lo, long hi, boolean b, List<Hash> out) {
        long n = hi - lo;
        if (m == n) {
            if (!b) {
                out.add(rangeHash(h, lo, hi));
            }
            return;
        }
        long k = splitPoint(n);
        if (m <= k) {
            subproof(h, m, lo, lo + k, b, out);
            out.add(rangeHash(h, lo + k, hi));
        } else {
            subproof(h, m - k, lo + k, hi, false, out);
            out.add(rangeHash(h, lo, lo + k));
        }
    }
}
