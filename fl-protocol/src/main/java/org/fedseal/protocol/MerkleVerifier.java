package org.fedseal.protocol;

import java.util.List;
import org.fedseal.protocol.wire.SignedTreeHead;

/**
 * Stateless verifiers for RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs. No
 * dependency on log storage: an auditor needs only the proof, the hashes and the signed tree heads.
 * All methods return false (never throw) for proofs that do not verify, including malformed ones.
 */
public final class MerkleVerifier {
    private MerkleVerifier() {}

    /**
     * RFC 9162 §2.1.3.2: true iff {@code proof} shows that {@code leafHash} is leaf {@code leafIndex}
     * of the tree of size {@code treeSize} whose root is {@code root}.
     */
    public static boolean verifyInclusion(Hash leafHash, long leafIndex, long treeSize, List<Hash> proof, Hash root) {
        if (leafHash == null || root == null || proof == null || leafIndex < 0 || leafIndex >= treeSize) {
            return false;
        }
        long fn = leafIndex;
        long sn = treeSize - 1;
        Hash r = leafHash;
        for (Hash p : proof) {
            if (p == null || sn == 0) {
                return false;
            }
            if ((fn & 1) == 1 || fn == sn) {
                r = MerkleHashes.nodeHash(p, r);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>>= 1;
                        sn >>>= 1;
                    }
                }
            } else {
                r = MerkleHashes.nodeHash(r, p);
            }
            fn >>>= 1;
            sn >>>= 1;
        }
        return sn == 0 && r.equals(root);
    }

    /** {@link #verifyInclusion(Hash, long, long, List, Hash)} for a proof object. */
    public static boolean verifyInclusion(Hash leafHash, InclusionProof proof, Hash root) {
        return proof != null && verifyInclusion(leafHash, proof.leafIndex(), proof.treeSize(), proof.path(), root);
    }

    /** Inclusion of a log {@code entry} (its leaf hash is computed here) under a signed tree head, checking the head's signature too. */
    public static boolean verifyInclusion(
            byte[] entry, InclusionProof proof, SignedTreeHead head, SigningPublicKey logKey) {
        if (entry == null
                || proof == null
                || head == null
                || proof.treeSize() != head.getTreeSize()
                || !Signatures.verify(head, logKey)) {
            return false;
        }
        Hash root = rootOf(head);
        return root != null && verifyInclusion(MerkleHashes.leafHash(entry), proof, root);
    }

    /**
     * RFC 9162 §2.1.4.2: true iff {@code proof} shows that the tree of size {@code size1} with root
     * {@code root1} is a prefix of the tree of size {@code size2} with root {@code root2}. For
     * {@code size1 == size2} the proof must be empty and the roots equal; for {@code size1 == 0} the
     * proof must be empty (anything extends the empty tree).
     */
    public static boolean verifyConsistency(long size1, long size2, List<Hash> proof, Hash root1, Hash root2) {
        if (proof == null || root1 == null || root2 == null || size1 < 0 || size2 < size1) {
            return false;
        }
        if (size1 == size2) {
            return proof.isEmpty() && root1.equals(root2);
        }
        if (size1 == 0) {
            return proof.isEmpty();
        }
        if (proof.isEmpty()) {
            return false;
        }
        for (Hash p : proof) {
            if (p == null) {
                return false;
            }
        }
        int i = 0;
        Hash first;
        if (Long.bitCount(size1) == 1) {
            first = root1; // prepend first_hash
        } else {
            first = proof.get(i++);
        }
        long fn = size1 - 1;
        long sn = size2 - 1;
        while ((fn & 1) == 1) {
            fn >>>= 1;
            sn >>>= 1;
        }
        Hash fr = first;
        Hash sr = first;
        for (; i < proof.size(); i++) {
            Hash c = proof.get(i);
            if (sn == 0) {
                return false;
            }
            if ((fn & 1) == 1 || fn == sn) {
                fr = MerkleHashes.nodeHash(c, fr);
                sr = MerkleHashes.nodeHash(c, sr);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>>= 1;
                        sn >>>= 1;
                    }
                }
            } else {
                sr = MerkleHashes.nodeHash(sr, c);
            }
            fn >>>= 1;
            sn >>>= 1;
        }
        return fr.equals(root1) && sr.equals(root2) && sn == 0;
    }

    /** {@link #verifyConsistency(long, long, List, Hash, Hash)} for a proof object. */
    public static boolean verifyConsistency(ConsistencyProof proof, Hash root1, Hash root2) {
        return proof != null && verifyConsistency(proof.size1(), proof.size2(), proof.path(), root1, root2);
    }

    /** Consistency between two signed tree heads of the same log, checking both signatures. */
    public static boolean verifyConsistency(
            ConsistencyProof proof, SignedTreeHead older, SignedTreeHead newer, SigningPublicKey logKey) {
        if (proof == null
                || older == null
                || newer == null
                || !java.util.Objects.equals(older.getLogId(), newer.getLogId())
                || proof.size1() != older.getTreeSize()
                || proof.size2() != newer.getTreeSize()
                || !Signatures.verify(older, logKey)
                || !Signatures.verify(newer, logKey)) {
            return false;
        }
        Hash r1 = rootOf(older);
        Hash r2 = rootOf(newer);
        return r1 != null && r2 != null && verifyConsistency(proof, r1, r2);
    }

    private static Hash rootOf(SignedTreeHead head) {
        try {
            return Hash.of(head.getRootHash());
        } catch (RuntimeException e) {
            return null;
        }
    }
}
