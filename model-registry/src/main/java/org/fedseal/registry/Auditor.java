package org.fedseal.registry;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fedseal.he.CiphertextSums;
import org.fedseal.he.HeContext;
import org.fedseal.he.HeParameters;
import org.fedseal.he.MalformedHeDataException;
import org.fedseal.protocol.Aggregates;
import org.fedseal.protocol.CanonicalHash;
import org.fedseal.protocol.Chunker;
import org.fedseal.protocol.ConsistencyProof;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.InclusionProof;
import org.fedseal.protocol.MerkleHashes;
import org.fedseal.protocol.MerkleVerifier;
import org.fedseal.protocol.Signatures;
import org.fedseal.protocol.SigningPublicKey;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.AggregateStatus;
import org.fedseal.protocol.wire.LogEntry;
import org.fedseal.protocol.wire.LogEntryKind;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.protocol.wire.UpdateChunk;
import org.fedseal.protocol.wire.UpdateCommit;

/**
 * Offline re-verification of a registry from scratch, trusting nothing it says except what a
 * signature or hash proves. Every method returns a {@link Result}: PASS, or FAIL with the first
 * broken link.
 */
public final class Auditor {
    private static final WireCodec LARGE = WireCodec.withMaxRecordBytes(512 << 20);

    /** Outcome of a check. */
    public record Result(boolean ok, String message, List<String> notes) {
        static Result fail(String message, List<String> notes) {
            return new Result(false, message, notes);
        }
    }

    private final RegistryClient client;

    /** An auditor of the registry behind {@code client}. */
    public Auditor(RegistryClient client) {
        this.client = client;
    }

    /**
     * Verifies the log and every version's lineage against the latest signed tree head, and
     * re-derives every round's client sample (fl-protocol {@code ClientSampling}) from its record
     * and the enrolments logged before it; a round whose {@code sampledClients} differ fails,
     * named.
     *
     * @param pinnedKey the log key to trust (null: the key the registry serves, trust on first use)
     * @param previous a tree head saved earlier (null: none)
     */
    public Result verify(SigningPublicKey pinnedKey, SignedTreeHead previous) {
        List<String> notes = new ArrayList<>();
        SigningPublicKey key = pinnedKey != null ? pinnedKey : client.logPublicKey();
        if (pinnedKey != null && !pinnedKey.equals(client.logPublicKey())) {
            return Result.fail(
                    "the registry now serves a different log key than the pinned " + pinnedKey.fingerprint(), notes);
        }
        SignedTreeHead sth = client.signedTreeHead();
        if (!Signatures.verify(sth, key)) {
            return Result.fail(
                    "the latest signed tree head's signature does not verify with log key " + key.fingerprint(), notes);
        }
        long n = sth.getTreeSize();
        notes.add("tree head: size " + n + ", root " + Hash.of(sth.getRootHash()));
        List<LogEntryInfo> infos = client.logEntries(0, n);
        if (infos.size() != n) {
            return Result.fail("the registry served " + infos.size() + " entries for a tree of size " + n, notes);
        }
        List<Hash> leaves = new ArrayList<>();
        List<byte[]> entries = new ArrayList<>();
        for (LogEntryInfo e : infos) {
            if (e.index() != leaves.size()) {
                return Result.fail("entry " + leaves.size() + " is missing (got index " + e.index() + ")", notes);
            }
            byte[] bytes = Base64.getDecoder().decode(e.entry());
            Hash leaf = MerkleHashes.leafHash(bytes);
            if (!leaf.toHex().equals(e.leafHash())) {
                return Result.fail(
                        "entry " + e.index() + " was altered: its content hashes to " + leaf
                                + " but the log recorded leaf " + e.leafHash(),
                        notes);
            }
            leaves.add(leaf);
            entries.add(bytes);
        }
        Hash root = MerkleHashes.rootOfLeafHashes(leaves);
        if (!root.matches(sth.getRootHash())) {
            return Result.fail(
                    "the root recomputed from all " + n + " entries (" + root + ") differs from the signed tree head",
                    notes);
        }
        notes.add("root recomputed from " + n + " entries: OK");
        List<SignedTreeHead> heads = new ArrayList<>();
        if (previous != null) {
            if (!Signatures.verify(previous, key)) {
                return Result.fail("the saved tree head's signature does not verify with the log key", notes);
            }
            heads.add(previous);
        }
        heads.addAll(client.treeHeadHistory());
        for (SignedTreeHead old : heads) {
            if (!Signatures.verify(old, key)) {
                continue; // unsigned history rows prove nothing
            }
            String which = old == previous ? "saved tree head" : "earlier tree head";
            if (old.getTreeSize() > n) {
                return Result.fail(
                        "entries were removed: a " + which + " of size " + old.getTreeSize()
                                + " was signed, the log now has " + n,
                        notes);
            }
            if (old.getTreeSize() == n && !old.getRootHash().equals(sth.getRootHash())) {
                return Result.fail(
                        "forked tree heads: two signed heads of size " + n + " with different roots ("
                                + Hash.of(old.getRootHash()) + " vs " + Hash.of(sth.getRootHash()) + ")",
                        notes);
            }
            Hash oldRoot = MerkleHashes.rootOfLeafHashes(leaves.subList(0, (int) old.getTreeSize()));
            if (!oldRoot.matches(old.getRootHash())) {
                return Result.fail(
                        "the log is inconsistent with the " + which + " of size " + old.getTreeSize()
                                + ": entries before it were changed or removed",
                        notes);
            }
            if (old == previous && old.getTreeSize() > 0 && old.getTreeSize() < n) {
                ConsistencyProof proof = client.consistencyProof(old.getTreeSize(), n);
                if (!MerkleVerifier.verifyConsistency(proof, old, sth, key)) {
                    return Result.fail(
                            "the registry's consistency proof from size " + old.getTreeSize() + " to " + n
                                    + " does not verify",
                            notes);
                }
                notes.add("consistency proof " + old.getTreeSize() + " -> " + n + ": OK");
            }
        }
        if (previous != null) {
            notes.add("consistent with the saved tree head of size " + previous.getTreeSize());
        }
        Result lineage = lineage(entries, key, notes);
        if (!lineage.ok()) {
            return lineage;
        }
        return new Result(true, "log of " + n + " entries and the lineage of every version verified", notes);
    }

    private Result lineage(List<byte[]> entries, SigningPublicKey logKey, List<String> notes) {
        Map<Hash, String> versionModel = new HashMap<>();
        Set<String> modelsWithGenesis = new HashSet<>();
        Map<String, Hash> aggregates = new HashMap<>();
        Map<String, RoundOpened> rounds = new HashMap<>();
        Map<String, Set<Hash>> accepted = new HashMap<>();
        Map<String, SigningPublicKey> keys = new HashMap<>();
        Map<String, Hash> enrolledKeys = new HashMap<>();
        java.util.function.Function<String, SigningPublicKey> keyOf = p -> keys.computeIfAbsent(p, id -> {
            try {
                return client.clientKey(id);
            } catch (RegistryException ex) {
                return null;
            }
        });
        CeremonyAudit threshold = new CeremonyAudit(client, logKey, id -> {
            SigningPublicKey k = keyOf.apply(id);
            return k != null && k.fingerprint().equals(enrolledKeys.get(id)) ? k : null;
        });
        SamplingAudit sampling = new SamplingAudit(
                model -> {
                    try {
                        return client.model(model).keyHolderId();
                    } catch (RegistryException ex) {
                        return null;
                    }
                },
                threshold::holdersOf);
        int versions = 0;
        for (int i = 0; i < entries.size(); i++) {
            LogEntry e;
            try {
                e = LARGE.decode(entries.get(i), LogEntry.class);
            } catch (WireFormatException ex) {
                return Result.fail("entry " + i + " is not a LogEntry: " + ex.getMessage(), notes);
            }
            String m = e.getModelId();
            String rk = m + "/" + e.getRound();
            Hash subject = Hash.of(e.getSubjectHash());
            switch (e.getKind()) {
                case ROUND_OPENED -> {
                    if (!(e.getPayload() instanceof RoundOpened r)
                            || !CanonicalHash.of(r).equals(subject)) {
                        return Result.fail(
                                "entry " + i + ": round " + rk + " payload does not match its subject hash", notes);
                    }
                    if (!versionModel.containsKey(Hash.of(r.getBaseModelHash()))
                            || !m.equals(versionModel.get(Hash.of(r.getBaseModelHash())))) {
                        return Result.fail(
                                "entry " + i + ": round " + rk + " starts from " + Hash.of(r.getBaseModelHash())
                                        + ", which is not an earlier version of " + m,
                                notes);
                    }
                    String problem = threshold.onRound(r);
                    if (problem == null) {
                        problem = sampling.onRound(r);
                    }
                    if (problem != null) {
                        return Result.fail("entry " + i + ": " + problem, notes);
                    }
                    rounds.put(rk, r);
                }
                case KEY_CEREMONY_OPENED, KEY_CEREMONY_MESSAGE, KEY_CEREMONY_COMPLETED, DECRYPTION_SHARES_PUBLISHED -> {
                    String problem = switch (e.getKind()) {
                        case KEY_CEREMONY_OPENED -> threshold.onOpened(e, subject);
                        case KEY_CEREMONY_MESSAGE -> threshold.onMessage(e, subject);
                        case KEY_CEREMONY_COMPLETED -> threshold.onCompleted(e, subject);
                        default -> threshold.onShares(e, subject, aggregates.get(rk));
                    };
                    if (problem != null) {
                        return Result.fail("entry " + i + ": " + problem, notes);
                    }
                }
                case UPDATE_ACCEPTED ->
                    accepted.computeIfAbsent(rk, k -> new HashSet<>()).add(subject);
                case CLIENT_ENROLLED -> {
                    enrolledKeys.put(e.getClientId() == null ? "" : e.getClientId(), subject);
                    sampling.onEnrolled(e);
                }
                case AGGREGATE_PUBLISHED -> aggregates.put(rk, subject);
                case MODEL_VERSION_PUBLISHED -> {
                    versions++;
                    if (!(e.getPayload() instanceof ModelVersionPublished v)
                            || !CanonicalHash.of(v).equals(subject)) {
                        return Result.fail("entry " + i + ": version payload does not match its subject hash", notes);
                    }
                    Hash vh = CanonicalHash.versionHash(v);
                    if (!vh.matches(v.getVersionHash())
                            || e.getVersionHash() == null
                            || !vh.matches(e.getVersionHash())) {
                        return Result.fail(
                                "entry " + i + ": version hash of " + m + " does not recompute (" + vh + ")", notes);
                    }
                    String publisher = e.getClientId() == null ? "" : e.getClientId();
                    SigningPublicKey pk =
                            VersionInfo.REGISTRY_PUBLISHER.equals(publisher) ? logKey : keyOf.apply(publisher);
                    if (pk == null || !Signatures.verify(v, pk)) {
                        return Result.fail(
                                "entry " + i + ": version " + vh + " is not signed by its publisher '" + publisher
                                        + "'",
                                notes);
                    }
                    if (pk != logKey && !pk.fingerprint().equals(enrolledKeys.get(publisher))) {
                        return Result.fail(
                                "entry " + i + ": version " + vh + " is signed with a key of '" + publisher
                                        + "' that the log does not show enrolled before it",
                                notes);
                    }
                    if (v.getParentHash().remaining() == 0) {
                        if (!modelsWithGenesis.add(m)
                                || v.getRound() != 0
                                || v.getAggregateHash().remaining() != 0) {
                            return Result.fail(
                                    "entry " + i + ": version " + vh + " of " + m
                                            + " has no parent but is not the model's first version",
                                    notes);
                        }
                    } else {
                        Hash parent = Hash.of(v.getParentHash());
                        if (!m.equals(versionModel.get(parent))) {
                            return Result.fail(
                                    "entry " + i + ": version " + vh + " of " + m + " has parent " + parent
                                            + ", which is not an earlier version of " + m,
                                    notes);
                        }
                        RoundOpened r = rounds.get(rk);
                        if (r == null || !parent.matches(r.getBaseModelHash())) {
                            return Result.fail(
                                    "entry " + i + ": version " + vh + " has parent " + parent + " but round " + rk
                                            + (r == null
                                                    ? " was never opened"
                                                    : " trained from " + Hash.of(r.getBaseModelHash())),
                                    notes);
                        }
                        Hash agg = aggregates.get(rk);
                        if (agg == null || !agg.matches(v.getAggregateHash())) {
                            return Result.fail(
                                    "entry " + i + ": version " + vh + " names aggregate " + hex(v.getAggregateHash())
                                            + " but the logged aggregate of round " + rk + " is " + agg,
                                    notes);
                        }
                        Result links = aggregateLinks(i, rk, agg, v, accepted.getOrDefault(rk, Set.of()), notes);
                        if (!links.ok()) {
                            return links;
                        }
                        String problem = threshold.onVersion(v, agg);
                        if (problem != null) {
                            return Result.fail("entry " + i + ": version " + vh + ": " + problem, notes);
                        }
                    }
                    versionModel.put(vh, m);
                }
                default -> {}
            }
        }
        // every version the registry lists must be in the log
        for (String m : modelsWithGenesis) {
            for (VersionInfo vi : client.versions(m)) {
                if (!versionModel.containsKey(Hash.fromHex(vi.versionHash()))) {
                    return Result.fail(
                            "version " + vi.versionHash() + " of " + m + " is served but not in the log", notes);
                }
            }
        }
        Result privacy = privacy(modelsWithGenesis, rounds, notes);
        if (!privacy.ok()) {
            return privacy;
        }
        notes.add("lineage of " + versions + " versions verified (parent, aggregate, update root links)");
        if (threshold.any()) {
            notes.add(threshold.summary());
        }
        if (sampling.any()) {
            notes.add(sampling.summary());
        }
        return new Result(true, "", notes);
    }

    /**
     * Differential privacy: for every model with a privacy budget, the ε each version reports must
     * be at least what the logged rounds of its lineage spend (fl-protocol
     * {@link org.fedseal.protocol.PrivacyAccountant#charge} over each version's round record, at the
     * model's δ). The registry also charges completed rounds that produced no version, so it may
     * report more, never less.
     */
    private Result privacy(Set<String> models, Map<String, RoundOpened> rounds, List<String> notes) {
        int checked = 0;
        for (String m : new java.util.TreeSet<>(models)) {
            Double delta = client.model(m).delta();
            if (delta == null) {
                continue;
            }
            org.fedseal.protocol.PrivacyAccountant acc = org.fedseal.protocol.PrivacyAccountant.create();
            for (VersionInfo vi : client.versions(m)) {
                if (vi.sequence() > 0) {
                    RoundOpened r = rounds.get(m + "/" + vi.round());
                    if (r == null) {
                        return Result.fail(
                                "version " + vi.versionHash() + " of " + m + ": round " + vi.round()
                                        + " is not in the log",
                                notes);
                    }
                    acc = acc.charge(r);
                }
                double least = acc.epsilon(delta).epsilon();
                if (vi.epsilon() == null || vi.epsilon() < least * (1 - 1e-9)) {
                    return Result.fail(
                            String.format(
                                    java.util.Locale.ROOT,
                                    "version %s of %s reports epsilon %s, but the logged rounds of its "
                                            + "lineage spend at least %.6g (delta %s)",
                                    vi.versionHash(),
                                    m,
                                    vi.epsilon(),
                                    least,
                                    delta),
                            notes);
                }
                checked++;
            }
        }
        if (checked > 0) {
            notes.add("epsilon of " + checked
                    + " versions re-derived from their logged rounds' noise multipliers: none understated");
        }
        return new Result(true, "", notes);
    }

    private Result aggregateLinks(
            int i, String rk, Hash aggHash, ModelVersionPublished v, Set<Hash> acceptedInLog, List<String> notes) {
        AggregatePublished a;
        try {
            a = LARGE.decode(client.blob(aggHash), AggregatePublished.class);
        } catch (WireFormatException | RegistryException ex) {
            return Result.fail(
                    "entry " + i + ": aggregate " + aggHash + " of round " + rk + " is not retrievable: "
                            + ex.getMessage(),
                    notes);
        }
        if (!CanonicalHash.of(a).equals(aggHash)) {
            return Result.fail(
                    "aggregate of round " + rk + " served by the registry does not hash to " + aggHash, notes);
        }
        Hash root = MerkleHashes.acceptedUpdateRoot(
                a.getAcceptedUpdateHashes().stream().map(Hash::of).toList());
        if (!root.matches(a.getAcceptedUpdateRoot()) || !root.matches(v.getAcceptedUpdateRoot())) {
            return Result.fail(
                    "entry " + i + ": update root of version " + hex(v.getVersionHash()) + " ("
                            + hex(v.getAcceptedUpdateRoot()) + ") is not the Merkle root of round " + rk
                            + "'s accepted updates (" + root + ")",
                    notes);
        }
        Set<Hash> inAggregate =
                new HashSet<>(a.getAcceptedUpdateHashes().stream().map(Hash::of).toList());
        if (!inAggregate.equals(acceptedInLog)) {
            return Result.fail(
                    "round " + rk
                            + ": the aggregate's accepted updates differ from the UPDATE_ACCEPTED entries in the log",
                    notes);
        }
        return new Result(true, "", notes);
    }

    /** Proves that the update {@code updateHash} was accepted, via an inclusion proof under a fresh signed tree head. */
    public Result prove(Hash updateHash, SigningPublicKey pinnedKey) {
        List<String> notes = new ArrayList<>();
        SigningPublicKey key = pinnedKey != null ? pinnedKey : client.logPublicKey();
        long index = client.findLogEntry(updateHash, LogEntryKind.UPDATE_ACCEPTED.name())
                .orElse(-1L);
        if (index < 0) {
            return Result.fail("no accepted update " + updateHash + " in the log", notes);
        }
        SignedTreeHead sth = client.signedTreeHead();
        byte[] entry = Base64.getDecoder()
                .decode(client.logEntries(index, index + 1).get(0).entry());
        LogEntry e;
        try {
            e = LARGE.decode(entry, LogEntry.class);
        } catch (WireFormatException ex) {
            return Result.fail("entry " + index + " is not a LogEntry", notes);
        }
        if (e.getKind() != LogEntryKind.UPDATE_ACCEPTED || !updateHash.matches(e.getSubjectHash())) {
            return Result.fail("entry " + index + " is not about update " + updateHash, notes);
        }
        InclusionProof proof = client.inclusionProof(index, sth.getTreeSize());
        if (!MerkleVerifier.verifyInclusion(entry, proof, sth, key)) {
            return Result.fail(
                    "inclusion proof of entry " + index + " does not verify under the signed tree head of size "
                            + sth.getTreeSize(),
                    notes);
        }
        notes.add("entry " + index + " (client " + e.getClientId() + ", round " + e.getModelId() + "/" + e.getRound()
                + ")");
        notes.add("audit path of " + proof.path().size() + " hashes to root " + Hash.of(sth.getRootHash())
                + " (tree size " + sth.getTreeSize() + ")");
        return new Result(true, "update " + updateHash + " is included in the log", notes);
    }

    /** Re-sums the archived accepted update ciphertexts of a round and compares with the published aggregate bit for bit. */
    public Result recompute(String modelId, int round) {
        List<String> notes = new ArrayList<>();
        AggregatePublished a = client.aggregate(modelId, round).orElse(null);
        if (a == null) {
            return Result.fail("round " + modelId + "/" + round + " has no published aggregate", notes);
        }
        if (a.getStatus() != AggregateStatus.COMPLETED) {
            return Result.fail("round " + modelId + "/" + round + " did not complete (" + a.getStatus() + ")", notes);
        }
        Set<Hash> expected =
                new HashSet<>(a.getAcceptedUpdateHashes().stream().map(Hash::of).toList());
        List<AcceptedUpdateInfo> updates = client.acceptedUpdates(modelId, round);
        Set<Hash> got = new HashSet<>(
                updates.stream().map(u -> Hash.fromHex(u.updateHash())).toList());
        if (!got.equals(expected)) {
            return Result.fail("the registry's accepted updates differ from the aggregate's list", notes);
        }
        HeParameters params = HeParameters.byId(a.getHeParamsId()).orElse(null);
        if (params == null) {
            return Result.fail("unknown HE parameter set " + a.getHeParamsId(), notes);
        }
        int chunks = Aggregates.chunkCount(a);
        try (HeContext he = HeContext.create(params)) {
            List<List<byte[]>> addends = new ArrayList<>();
            for (AcceptedUpdateInfo u : updates) {
                UpdateCommit commit = LARGE.decode(client.blob(Hash.fromHex(u.updateHash())), UpdateCommit.class);
                if (!CanonicalHash.of(commit).toHex().equals(u.updateHash())) {
                    return Result.fail(
                            "archived commit of " + u.clientId() + " does not hash to " + u.updateHash(), notes);
                }
                if (commit.getChunkCount() != chunks) {
                    return Result.fail(
                            "update " + u.updateHash() + " has " + commit.getChunkCount() + " chunks, the aggregate "
                                    + chunks,
                            notes);
                }
                List<UpdateChunk> archived = new ArrayList<>();
                for (int c = 0; c < chunks; c++) {
                    Hash ch = Hash.of(commit.getChunkHashes().get(c));
                    byte[] blob;
                    try {
                        blob = client.blob(ch);
                    } catch (RegistryException ex) {
                        return Result.fail(
                                "chunk " + c + " of update " + u.updateHash() + " is not archived (retention?)", notes);
                    }
                    UpdateChunk chunk = LARGE.decode(blob, UpdateChunk.class);
                    if (!CanonicalHash.of(chunk).equals(ch) || chunk.getChunkIndex() != c) {
                        return Result.fail(
                                "archived chunk " + c + " of update " + u.updateHash() + " does not match its hash",
                                notes);
                    }
                    archived.add(chunk);
                }
                addends.add(Chunker.reassemble(archived));
            }
            List<byte[]> published;
            try {
                published = Aggregates.ciphertexts(a, client::aggregateChunkSum);
            } catch (IllegalArgumentException | RegistryException ex) {
                return Result.fail("the aggregate's chunk sums do not match its manifest: " + ex.getMessage(), notes);
            }
            List<byte[]> mine = addends.isEmpty() ? List.of() : CiphertextSums.sum(he, addends);
            if (mine.size() != published.size()) {
                return Result.fail(published.size() + " published ciphertexts, " + mine.size() + " re-summed", notes);
            }
            for (int j = 0; j < mine.size(); j++) {
                if (!java.util.Arrays.equals(mine.get(j), published.get(j))) {
                    return Result.fail(
                            "ciphertext " + j + ": the published aggregate differs from the sum of the "
                                    + updates.size() + " archived accepted updates (" + Hash.sha256(published.get(j))
                                    + " vs " + Hash.sha256(mine.get(j)) + ")",
                            notes);
                }
            }
        } catch (WireFormatException | MalformedHeDataException ex) {
            return Result.fail("archived data is malformed: " + ex.getMessage(), notes);
        }
        notes.add(updates.size() + " accepted updates, " + chunks + " chunks re-summed with " + params.id());
        return new Result(
                true,
                "aggregate of " + modelId + "/" + round + " equals the re-summed archived updates bit for bit",
                notes);
    }

    /** The remaining bytes of {@code b}, copied (b is not moved). */
    static byte[] bytes(java.nio.ByteBuffer b) {
        java.nio.ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    static String hex(java.nio.ByteBuffer b) {
        return b == null || b.remaining() != Hash.LENGTH ? "(none)" : Hash.of(b).toHex();
    }
}
