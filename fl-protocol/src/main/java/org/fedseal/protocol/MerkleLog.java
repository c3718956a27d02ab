package org.fedseal.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.fedseal.protocol.internal.TreeMath;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only RFC 9162 style Merkle log over a {@link LogStore}. Produces roots for any past
 * size, inclusion and consistency proofs (RFC 6962 §2.1.1/§2.1.2) and signed tree heads.
 *
 * <p>Hashes of perfect aligned subtrees of {@value #CACHED_MIN_LEVEL_LEAVES} or more leaves are kept
 * in memory (about n/8 hashes), so a root or proof for any size costs O(log n) cached lookups plus
 * at most O(log n) small subtrees read from the store, not O(n). The cache is rebuilt from the
 * store when the log is opened. Thread-safe (methods are synchronized).
 */
public final class MerkleLog {
    /** Smallest subtree (in leaves) whose hash is cached. */
    public static final int CACHED_MIN_LEVEL_LEAVES = 16;

    private static final Logger LOG = LoggerFactory.getLogger(MerkleLog.class);
    private static final int MIN_LEVEL = Integer.numberOfTrailingZeros(CACHED_MIN_LEVEL_LEAVES);

    private final LogStore store;
    private final String logId;
    /** levels.get(j).get(i) = hash of the perfect subtree of height MIN_LEVEL + j at index i. */
    private final List<List<Hash>> levels = new ArrayList<>();

    private final TreeMath.RangeHasher hasher = new TreeMath.RangeHasher() {
        @Override
        public Hash leaf(long index) {
            return store.leafHash(index);
        }

        @Override
        public Hash perfect(int level, long index) {
            int j = level - MIN_LEVEL;
            if (j < 0 || j >= levels.size() || index >= levels.get(j).size()) {
                return null;
            }
            return levels.get(j).get((int) index);
        }
    };

    /**
     * Opens a log over {@code store}, rebuilding the subtree cache from its leaves.
     *
     * @param logId the identifier carried in tree heads
     */
    public MerkleLog(LogStore store, String logId) {
        this.store = Objects.requireNonNull(store, "store");
        this.logId = Objects.requireNonNull(logId, "logId");
        long n = store.size();
        for (long i = CACHED_MIN_LEVEL_LEAVES; i <= n; i += CACHED_MIN_LEVEL_LEAVES) {
            cacheUpTo(i);
        }
        LOG.debug("opened Merkle log {} with {} leaves", logId, n);
    }

    /** An empty in-memory log. */
    public static MerkleLog inMemory(String logId) {
        return new MerkleLog(new InMemoryLogStore(), logId);
    }

    /** This log's identifier. */
    public String logId() {
        return logId;
    }

    /** Appends raw entry bytes; returns the new leaf's index. */
    public synchronized long append(byte[] entry) {
        Objects.requireNonNull(entry, "entry");
        long index = store.append(entry, MerkleHashes.leafHash(entry));
        long size = index + 1;
        if (size % CACHED_MIN_LEVEL_LEAVES == 0) {
            cacheUpTo(size);
        }
        return index;
    }

    /** Appends a {@link LogEntry} (its Avro binary encoding is the leaf entry); returns the index. */
    public long append(LogEntry entry) {
        return append(WireCodec.encodeUnchecked(entry));
    }

    /** Number of leaves. */
    public synchronized long size() {
        return store.size();
    }

    /** Entry bytes at {@code index}. */
    public synchronized byte[] entry(long index) {
        return store.entry(index);
    }

    /** Leaf hash at {@code index}. */
    public synchronized Hash leafHash(long index) {
        return store.leafHash(index);
    }

    /** Root of the current tree. */
    public synchronized Hash rootHash() {
        return rootHash(store.size());
    }

    /** Root of the tree of the first {@code treeSize} leaves. @throws IllegalArgumentException if larger than the log */
    public synchronized Hash rootHash(long treeSize) {
        checkSize(treeSize);
        return treeSize == 0 ? MerkleHashes.emptyRoot() : TreeMath.rangeHash(hasher, 0, treeSize);
    }

    /** Inclusion proof of leaf {@code index} in the tree of size {@code treeSize}. */
    public synchronized InclusionProof inclusionProof(long index, long treeSize) {
        checkSize(treeSize);
        return TreeMath.inclusionProof(hasher, index, treeSize);
    }

    /** Consistency proof from size {@code size1} to size {@code size2}. */
    public synchronized ConsistencyProof consistencyProof(long size1, long size2) {
        checkSize(size2);
        return TreeMath.consistencyProof(hasher, size1, size2);
    }

    /** A tree head for the current size, signed with the log's key. */
    public synchronized SignedTreeHead signedTreeHead(SigningPrivateKey logKey, long timestampEpochMillis) {
        long size = store.size();
        SignedTreeHead head = SignedTreeHead.newBuilder()
                .setLogId(logId)
                .setTreeSize(size)
                .setRootHash(rootHash(size).toByteBuffer())
                .setTimestampEpochMillis(timestampEpochMillis)
                .setSignature(ByteBuffer.allocate(0))
                .build();
        return Signatures.sign(head, logKey);
    }

    private void checkSize(long treeSize) {
        long n = store.size();
        if (treeSize < 0 || treeSize > n) {
            throw new IllegalArgumentException("tree size " + treeSize + " outside [0, " + n + "]");
        }
    }

    /** Called when the size becomes a multiple of CACHED_MIN_LEVEL_LEAVES: caches that block and carries upward. */
    private void cacheUpTo(long size) {
        long blockIndex = size / CACHED_MIN_LEVEL_LEAVES - 1;
        long lo = blockIndex * CACHED_MIN_LEVEL_LEAVES;
        Hash h = TreeMath.rangeHash(leafOnly(), lo, lo + CACHED_MIN_LEVEL_LEAVES);
        int j = 0;
        while (true) {
            if (levels.size() == j) {
                levels.add(new ArrayList<>());
            }
            List<Hash> level = levels.get(j);
            level.add(h);
            if (level.size() % 2 != 0) {
                break;
            }
            h = MerkleHashes.nodeHash(level.get(level.size() - 2), level.get(level.size() - 1));
            j++;
        }
    }

    private TreeMath.RangeHasher leafOnly() {
        return store::leafHash;
    }
}
