package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MerkleProofsTest {
    static final int MAX = 300;
    static MerkleLog log;
    static Hash[] roots = new Hash[MAX + 1];
    static List<Hash> leafHashes = new ArrayList<>();

    @BeforeAll
    static void build() {
        log = MerkleLog.inMemory("test-log");
        roots[0] = log.rootHash();
        for (int i = 0; i < MAX; i++) {
            byte[] entry = ("entry-" + i).getBytes(StandardCharsets.UTF_8);
            assertEquals(i, log.append(entry));
            leafHashes.add(MerkleHashes.leafHash(entry));
            roots[i + 1] = log.rootHash();
        }
    }

    /** Reference MTH straight from RFC 6962 §2.1, no caching. */
    static Hash reference(List<Hash> leaves) {
        if (leaves.isEmpty()) {
            return MerkleHashes.emptyRoot();
        }
        if (leaves.size() == 1) {
            return leaves.get(0);
        }
        int k = 1;
        while (k * 2 < leaves.size()) {
            k *= 2;
        }
        return MerkleHashes.nodeHash(reference(leaves.subList(0, k)), reference(leaves.subList(k, leaves.size())));
    }

    @Test
    void cachedRootsEqualReferenceForEverySize() {
        for (int n = 0; n <= MAX; n++) {
            Hash ref = reference(leafHashes.subList(0, n));
            assertEquals(ref, roots[n], "size " + n);
            assertEquals(ref, log.rootHash(n), "size " + n);
        }
    }

    @Test
    void reopeningAStoreRebuildsTheSameTree() {
        InMemoryLogStore store = new InMemoryLogStore();
        MerkleLog a = new MerkleLog(store, "x");
        for (int i = 0; i < 100; i++) {
            a.append(new byte[] {(byte) i});
        }
        MerkleLog b = new MerkleLog(store, "x");
        assertEquals(a.rootHash(), b.rootHash());
        assertEquals(a.inclusionProof(37, 99), b.inclusionProof(37, 99));
    }

    @Test
    void inclusionProofsVerifyForEverySizeAndIndex() {
        for (long n = 1; n <= MAX; n++) {
            for (long i = 0; i < n; i++) {
                InclusionProof p = log.inclusionProof(i, n);
                assertTrue(MerkleVerifier.verifyInclusion(leafHashes.get((int) i), p, roots[(int) n]), i + " in " + n);
            }
        }
    }

    @Test
    void consistencyProofsVerifyForEveryPairOfSizes() {
        for (long n = 1; n <= MAX; n++) {
            for (long m = 0; m <= n; m++) {
                ConsistencyProof p = log.consistencyProof(m, n);
                assertTrue(MerkleVerifier.verifyConsistency(p, roots[(int) m], roots[(int) n]), m + " -> " + n);
            }
        }
    }

    static Hash flip(Hash h) {
        byte[] b = h.bytes();
        b[7] ^= 0x10;
        return Hash.of(b);
    }

    @Test
    void alteredInclusionInputsFail() {
        int checked = 0;
        for (long n = 1; n <= 64; n++) {
            for (long i = 0; i < n; i++) {
                InclusionProof p = log.inclusionProof(i, n);
                Hash leaf = leafHashes.get((int) i);
                Hash root = roots[(int) n];
                assertFalse(MerkleVerifier.verifyInclusion(flip(leaf), p, root));
                assertFalse(MerkleVerifier.verifyInclusion(leaf, p, flip(root)));
                // A tree head binds size and root together, so a changed size comes with that size's root.
                assertFalse(MerkleVerifier.verifyInclusion(leaf, i, n + 1, p.path(), roots[(int) n + 1]), "wrong size");
                if (n > 1) {
                    assertFalse(MerkleVerifier.verifyInclusion(leaf, (i + 1) % n, n, p.path(), root), "wrong index");
                }
                for (int k = 0; k < p.path().size(); k++) {
                    List<Hash> bad = new ArrayList<>(p.path());
                    bad.set(k, flip(bad.get(k)));
                    assertFalse(MerkleVerifier.verifyInclusion(leaf, i, n, bad, root), "element " + k);
                    checked++;
                }
                List<Hash> longer = new ArrayList<>(p.path());
                longer.add(leaf);
                assertFalse(MerkleVerifier.verifyInclusion(leaf, i, n, longer, root), "trailing element");
                if (!p.path().isEmpty()) {
                    assertFalse(
                            MerkleVerifier.verifyInclusion(
                                    leaf, i, n, p.path().subList(0, p.path().size() - 1), root),
                            "truncated");
                }
            }
        }
        assertTrue(checked > 100);
        assertFalse(MerkleVerifier.verifyInclusion(leafHashes.get(0), 1, 1, List.of(), roots[1]));
        assertFalse(MerkleVerifier.verifyInclusion(leafHashes.get(0), -1, 1, List.of(), roots[1]));
    }

    @Test
    void alteredConsistencyInputsFail() {
        for (long n = 2; n <= 64; n++) {
            for (long m = 1; m < n; m++) {
                ConsistencyProof p = log.consistencyProof(m, n);
                Hash r1 = roots[(int) m];
                Hash r2 = roots[(int) n];
                assertFalse(MerkleVerifier.verifyConsistency(m, n, p.path(), flip(r1), r2));
                assertFalse(MerkleVerifier.verifyConsistency(m, n, p.path(), r1, flip(r2)));
                assertFalse(
                        MerkleVerifier.verifyConsistency(m, n + 1, p.path(), r1, roots[(int) n + 1]), "wrong size2");
                assertFalse(
                        MerkleVerifier.verifyConsistency(m + 1, n, p.path(), roots[(int) m + 1], r2), "wrong size1");
                for (int k = 0; k < p.path().size(); k++) {
                    List<Hash> bad = new ArrayList<>(p.path());
                    bad.set(k, flip(bad.get(k)));
                    assertFalse(MerkleVerifier.verifyConsistency(m, n, bad, r1, r2), m + "->" + n + " element " + k);
                }
                assertFalse(MerkleVerifier.verifyConsistency(m, n, List.of(), r1, r2), "empty proof");
                List<Hash> longer = new ArrayList<>(p.path());
                longer.add(r1);
                assertFalse(MerkleVerifier.verifyConsistency(m, n, longer, r1, r2), "trailing element");
            }
        }
        assertFalse(MerkleVerifier.verifyConsistency(5, 5, List.of(), roots[5], roots[6]));
        assertFalse(MerkleVerifier.verifyConsistency(6, 5, List.of(), roots[6], roots[5]));
    }

    @Test
    void signedTreeHeadsVerifyAndDetectTampering() {
        SigningKeyPair logKey = SigningKeyPair.generate();
        MerkleLog l = MerkleLog.inMemory("audit");
        for (int i = 0; i < 10; i++) {
            l.append(new byte[] {(byte) i});
        }
        SignedTreeHead older = l.signedTreeHead(logKey.privateKey(), 1000);
        for (int i = 10; i < 27; i++) {
            l.append(new byte[] {(byte) i});
        }
        SignedTreeHead newer = l.signedTreeHead(logKey.privateKey(), 2000);
        assertTrue(Signatures.verify(older, logKey.publicKey()));
        assertTrue(MerkleVerifier.verifyConsistency(l.consistencyProof(10, 27), older, newer, logKey.publicKey()));
        assertTrue(MerkleVerifier.verifyInclusion(new byte[] {3}, l.inclusionProof(3, 27), newer, logKey.publicKey()));
        assertFalse(MerkleVerifier.verifyInclusion(new byte[] {4}, l.inclusionProof(3, 27), newer, logKey.publicKey()));

        SignedTreeHead alteredSize =
                SignedTreeHead.newBuilder(newer).setTreeSize(28).build();
        SignedTreeHead alteredRoot = SignedTreeHead.newBuilder(newer)
                .setRootHash(flip(Hash.of(newer.getRootHash())).toByteBuffer())
                .build();
        SignedTreeHead alteredTime =
                SignedTreeHead.newBuilder(newer).setTimestampEpochMillis(2001).build();
        byte[] sig = newer.getSignature().array().clone();
        sig[0] ^= 1;
        SignedTreeHead alteredSig = SignedTreeHead.newBuilder(newer)
                .setSignature(ByteBuffer.wrap(sig))
                .build();
        for (SignedTreeHead bad : List.of(alteredSize, alteredRoot, alteredTime, alteredSig)) {
            assertFalse(Signatures.verify(bad, logKey.publicKey()), bad.toString());
        }
        assertFalse(Signatures.verify(newer, SigningKeyPair.generate().publicKey()));
        assertFalse(
                MerkleVerifier.verifyConsistency(l.consistencyProof(10, 27), older, alteredRoot, logKey.publicKey()));
        assertFalse(MerkleVerifier.verifyInclusion(
                new byte[] {3}, l.inclusionProof(3, 27), alteredSig, logKey.publicKey()));
    }

    @Test
    void outOfRangeRequestsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> log.rootHash(MAX + 1));
        assertThrows(IllegalArgumentException.class, () -> log.inclusionProof(5, 5));
        assertThrows(IllegalArgumentException.class, () -> log.consistencyProof(6, 5));
    }

    @Test
    void acceptedUpdateRootIsOrderIndependent() {
        List<Hash> hs = new ArrayList<>(leafHashes.subList(0, 7));
        Hash a = MerkleHashes.acceptedUpdateRoot(hs);
        java.util.Collections.reverse(hs);
        assertEquals(a, MerkleHashes.acceptedUpdateRoot(hs));
        List<Hash> sorted = MerkleHashes.sortedUpdateHashes(hs);
        List<Hash> leaves =
                sorted.stream().map(h -> MerkleHashes.leafHash(h.bytes())).toList();
        InclusionProof p = MerkleHashes.inclusionProof(leaves, 3);
        assertTrue(MerkleVerifier.verifyInclusion(leaves.get(3), p, a));
    }
}
