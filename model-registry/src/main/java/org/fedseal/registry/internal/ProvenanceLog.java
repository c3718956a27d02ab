package org.fedseal.registry.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fedseal.protocol.ConsistencyProof;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.InclusionProof;
import org.fedseal.protocol.MerkleHashes;
import org.fedseal.protocol.MerkleLog;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningKeyPair;
import org.fedseal.protocol.SigningPrivateKey;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.registry.LogEntryInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's provenance log section: the RFC 9162 Merkle log over {@link SqlLogStore}, the
 * log's signing key, signed tree heads and proofs. Appends join the caller's write transaction;
 * entries of a transaction that rolls back are dropped and the tree cache rebuilt.
 */
public final class ProvenanceLog {
    private static final Logger LOG = LoggerFactory.getLogger(ProvenanceLog.class);
    private final Database db;
    private final SqlLogStore store;
    private final TreeHeadRepository treeHeads;
    private final String logId;
    private final SigningKeyPair logKey;
    private volatile MerkleLog log;
    private volatile String integrityProblem;

    /** Opens (and on first start creates the id and key of) the log in {@code db}. */
    public ProvenanceLog(Database db) {
        this.db = db;
        this.store = new SqlLogStore(db);
        this.treeHeads = new TreeHeadRepository(db);
        this.logId = db.setting("log.id").orElseGet(() -> {
            String id = "fedseal-registry-" + java.util.UUID.randomUUID();
            db.putSetting("log.id", id);
            return id;
        });
        this.log = new MerkleLog(store, logId);
        store.onRollback(() -> log = new MerkleLog(store, logId));
        this.logKey = loadOrCreateKey();
        checkTreeHeads();
    }

    private SigningKeyPair loadOrCreateKey() {
        Optional<String> priv = db.setting("log.key.private");
        Optional<String> pub = db.setting("log.key.public");
        if (priv.isPresent() && pub.isPresent()) {
            return SigningKeyPair.of(
                    SigningPublicKey.fromX509(Base64.getDecoder().decode(pub.get())),
                    SigningPrivateKey.importPkcs8(Base64.getDecoder().decode(priv.get())));
        }
        SigningKeyPair kp = SigningKeyPair.generate();
        db.tx(c -> {
            db.putSetting("log.key.public", Records.b64(kp.publicKey().toX509()));
            db.putSetting("log.key.private", Records.b64(kp.privateKey().exportPkcs8()));
            return null;
        });
        LOG.info("generated registry log key {}", kp.publicKey().fingerprint());
        return kp;
    }

    /** Checks every tree head issued before against the current log; remembers a problem for /health. */
    private void checkTreeHeads() {
        MerkleLog l = log;
        long size = l.size();
        for (SignedTreeHead h : treeHeadHistory()) {
            String problem = null;
            if (h.getTreeSize() > size) {
                problem = "log has " + size + " entries but a tree head of size " + h.getTreeSize() + " was issued";
            } else if (!l.rootHash(h.getTreeSize()).matches(h.getRootHash())) {
                problem = "log is inconsistent with the tree head of size " + h.getTreeSize() + " issued before";
            }
            if (problem != null) {
                integrityProblem = problem;
                LOG.error("INTEGRITY: {}", problem);
                return;
            }
        }
    }

    /** The Merkle log (tests use it to simulate a misbehaving registry). */
    public MerkleLog log() {
        return log;
    }

    /** The log's signing key pair. */
    public SigningKeyPair logKey() {
        return logKey;
    }

    /** Null, or the integrity problem found at start. */
    public String integrityProblem() {
        return integrityProblem;
    }

    /** A log entry with the common fields set (reason and ceremony id unset). */
    static LogEntry entry(
            LogEntryKind kind,
            String modelId,
            int round,
            Hash subject,
            String clientId,
            String updateId,
            ByteBuffer versionHash,
            Object payload,
            long at) {
        return LogEntry.newBuilder()
                .setKind(kind)
                .setModelId(modelId)
                .setRound(round)
                .setSubjectHash(subject.toByteBuffer())
                .setClientId(clientId)
                .setUpdateId(updateId)
                .setReason(null)
                .setVersionHash(versionHash)
                .setPayload(payload)
                .setAtEpochMillis(at)
                .build();
    }

    /** Appends {@code e} in the caller's write transaction (or one of its own); returns its index. */
    public long append(LogEntry e) {
        // Lock order: the database's write lock, then the Merkle log, then its store.
        return db.tx(c -> log.append(e));
    }

    /** Appends an entry built by {@link #entry}. */
    long append(
            LogEntryKind kind,
            String modelId,
            int round,
            Hash subject,
            String clientId,
            String updateId,
            ByteBuffer versionHash,
            Object payload,
            long at) {
        return append(entry(kind, modelId, round, subject, clientId, updateId, versionHash, payload, at));
    }

    /** Signs a tree head for the current size and remembers it (one per size). */
    public SignedTreeHead signedTreeHead() {
        return db.tx(c -> {
            MerkleLog l = log;
            long size = l.size();
            Optional<SignedTreeHead> existing = treeHeads.atSize(size);
            if (existing.isPresent() && l.rootHash(size).matches(existing.get().getRootHash())) {
                return existing.get();
            }
            SignedTreeHead h = l.signedTreeHead(logKey.privateKey(), System.currentTimeMillis());
            if (existing.isEmpty()) {
                treeHeads.insert(h);
            } else {
                LOG.error("INTEGRITY: the log's root at size {} differs from the tree head issued before", size);
            }
            return h;
        });
    }

    /** Every tree head issued, by size. */
    public List<SignedTreeHead> treeHeadHistory() {
        return treeHeads.all();
    }

    /** Entries [start, end). */
    public List<LogEntryInfo> entries(long start, long end) {
        MerkleLog l = log;
        long size = l.size();
        long to = Math.min(end, size);
        if (start < 0 || start > to) {
            throw ApiException.badRequest("bad range [" + start + ", " + end + ") for a log of size " + size);
        }
        List<LogEntryInfo> out = new ArrayList<>();
        for (long i = start; i < to; i++) {
            byte[] bytes = l.entry(i);
            String kind;
            String model = "";
            int round = -1;
            String subject = "";
            try {
                LogEntry e = WireCodec.UNBOUNDED.decode(bytes, LogEntry.class);
                kind = e.getKind().name();
                model = e.getModelId().toString();
                round = e.getRound();
                subject = Hash.of(e.getSubjectHash()).toHex();
            } catch (WireFormatException | IllegalArgumentException e) {
                kind = "UNDECODABLE";
            }
            out.add(new LogEntryInfo(i, Records.b64(bytes), l.leafHash(i).toHex(), kind, model, round, subject));
        }
        return out;
    }

    /** Inclusion proof. */
    public InclusionProof inclusionProof(long index, long treeSize) {
        MerkleLog l = log;
        if (index < 0 || index >= treeSize || treeSize > l.size()) {
            throw ApiException.badRequest("need 0 <= index < treeSize <= " + l.size());
        }
        return l.inclusionProof(index, treeSize);
    }

    /** Consistency proof. */
    public ConsistencyProof consistencyProof(long size1, long size2) {
        MerkleLog l = log;
        if (size1 < 0 || size1 > size2 || size2 > l.size()) {
            throw ApiException.badRequest("need 0 <= first <= second <= " + l.size());
        }
        return l.consistencyProof(size1, size2);
    }

    /** Leaf index of the first entry about {@code subject} (e.g. an update hash), or -1. */
    public long findSubject(Hash subject, String kind) {
        return store.findSubject(subject, kind);
    }

    /**
     * Server-side check: recomputes every leaf hash from the stored entry bytes and the root, and
     * compares with every tree head ever issued.
     */
    public Map<String, Object> verify() {
        SignedTreeHead sth = signedTreeHead();
        MerkleLog l = log;
        long n = sth.getTreeSize();
        List<Hash> leaves = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            Hash recomputed = MerkleHashes.leafHash(l.entry(i));
            if (!recomputed.equals(l.leafHash(i))) {
                return Map.of(
                        "ok",
                        false,
                        "treeSize",
                        n,
                        "message",
                        "entry " + i + " does not match its leaf hash (tampered)");
            }
            leaves.add(recomputed);
        }
        Hash root = MerkleHashes.rootOfLeafHashes(leaves);
        if (!root.matches(sth.getRootHash()) || !Signatures.verify(sth, logKey.publicKey())) {
            return Map.of("ok", false, "treeSize", n, "message", "recomputed root differs from the signed tree head");
        }
        for (SignedTreeHead h : treeHeadHistory()) {
            if (h.getTreeSize() > n
                    || !MerkleHashes.rootOfLeafHashes(leaves.subList(0, (int) h.getTreeSize()))
                            .matches(h.getRootHash())) {
                return Map.of(
                        "ok",
                        false,
                        "treeSize",
                        n,
                        "message",
                        "inconsistent with the tree head of size " + h.getTreeSize() + " issued before");
            }
        }
        return Map.of(
                "ok",
                true,
                "treeSize",
                n,
                "rootHash",
                root.toHex(),
                "message",
                "all " + n + " entries match the signed tree head and every earlier tree head");
    }
}
